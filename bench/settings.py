"""Benchmark settings: the production settings plus the bare ceiling endpoint, no throttling.

Run the servers with DJANGO_SETTINGS_MODULE=bench.settings. Everything else (authentication,
permissions, renderers, the database pool, the channel layer) is the project's own, so each
endpoint's rate can be read as a ratio to `bench/ceiling/` served by the same stack.
"""

from chitchat.settings import *  # noqa: F403
from chitchat.settings import REST_FRAMEWORK, THROTTLE_RATES

ROOT_URLCONF = "bench.urls"
# bench/ceiling/ is an API endpoint like those under /api/ (chitchat.api_middleware).
PLAIN_API_PATHS = ("/api/", "/bench/")

# The throttle classes still run (and hit the cache) as in production, but no limit is
# reached: every scope, including ones added later, gets a huge rate.
for _scope in list(THROTTLE_RATES):
    THROTTLE_RATES[_scope] = "1000000/s"
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = THROTTLE_RATES
