"""The bare ceiling: DRF and simplejwt's stateless authentication, and nothing else.

No middleware, no database, no cache, no throttles, DRF's own JSON renderer: the fastest an
authenticated DRF endpoint can answer on this machine. bench/run.py serves it exactly like the
project (granian WSGI, same flags, same CPU) on a port of its own, and reads every endpoint as
a ratio to it; the project's own `bench/ceiling/` (bench.settings) is a second line, so the
stack's overhead shows as its ratio to this one.
"""

import environ

env = environ.Env()

DEBUG = False
SECRET_KEY = env.str("SECRET_KEY")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
# The auth app's models are imported (AnonymousUser, simplejwt's TokenUser); no table is read.
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "rest_framework"]
MIDDLEWARE: list[str] = []
DATABASES: dict = {}
ROOT_URLCONF = "bench.bare_urls"
WSGI_APPLICATION = "chitchat.wsgi.application"
USE_TZ = True

# The same signing key as chitchat.settings, so the seeded tokens are valid here too.
SIMPLE_JWT = {
    "AUTH_HEADER_TYPES": ("Bearer",),
    "SIGNING_KEY": env.str("JWT_SIGNING_KEY", default="") or SECRET_KEY,
}
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTStatelessUserAuthentication"
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_THROTTLE_CLASSES": [],
}
