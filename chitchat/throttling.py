"""Rate limits counted in fixed windows, one cache round trip per request.

DRF's SimpleRateThrottle keeps the list of request times per client in the cache and reads
and rewrites it on every request: two round trips and a pickle of up to `rate` floats
(2,400 for `user=2400/min`). These throttles keep the same scopes and THROTTLE_RATES, but
count each window with one atomic increment (Redis: INCR and EXPIRE in one pipeline). A
fixed window lets a client send up to twice its rate across a window boundary; the rates are
abuse limits, where that is fine. Counters live in the cache, so they hold across processes.
If the cache is down, requests are let through (and logged) rather than failing.
"""

import logging
import time

from django.core.cache import cache
from django.core.cache.backends.redis import RedisCache
from rest_framework import throttling

logger = logging.getLogger(__name__)


def window_count(key: str, window_seconds: int) -> int:
    """Add one to `key`'s counter, which expires with its window; return the new count."""
    if isinstance(cache, RedisCache) or isinstance(getattr(cache, "_wrapped", None), RedisCache):
        backend = cache._wrapped if hasattr(cache, "_wrapped") else cache
        full_key = backend.make_and_validate_key(key)
        client = backend._cache.get_client(full_key, write=True)
        pipe = client.pipeline(transaction=False)
        pipe.incr(full_key)
        pipe.expire(full_key, window_seconds + 1, nx=True)
        count, _ = pipe.execute()
        return count
    if cache.add(key, 1, timeout=window_seconds + 1):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add() and incr()
        cache.add(key, 1, timeout=window_seconds + 1)
        return 1


class WindowCounterMixin:
    """allow_request/wait of SimpleRateThrottle, counted with window_count()."""

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        now = time.time()
        window = int(now // self.duration)
        try:
            count = window_count(f"{self.key}:{window}", self.duration)
        except Exception:
            logger.exception("throttle counter unavailable; request let through")
            return True
        self.wait_seconds = (window + 1) * self.duration - now
        return count <= self.num_requests

    def wait(self) -> float:
        return self.wait_seconds


class AnonRateThrottle(WindowCounterMixin, throttling.AnonRateThrottle):
    """`anon` scope, per client address."""


class UserRateThrottle(WindowCounterMixin, throttling.UserRateThrottle):
    """`user` scope, per signed-in user."""


class ScopedRateThrottle(WindowCounterMixin, throttling.ScopedRateThrottle):
    """The view's `throttle_scope` (e.g. `message`), per user."""

    def allow_request(self, request, view) -> bool:
        # As DRF's: the scope and so the rate are known only once the view is.
        self.scope = getattr(view, self.scope_attr, None)
        if not self.scope:
            return True
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)
