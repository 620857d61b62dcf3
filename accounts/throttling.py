"""Rate limits of the accounts endpoints: registration per client, and the login lockout."""

import hashlib
import math
import time

from django.conf import settings
from django.core.cache import cache
from rest_framework.exceptions import Throttled
from rest_framework.throttling import SimpleRateThrottle


class RegisterRateThrottle(SimpleRateThrottle):
    """`register` scope of THROTTLE_RATES, per client address (signed in or not)."""

    scope = "register"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class LoginLockout:
    """Failed logins per identifier (lower-cased username or email) in a fixed window.

    The counter lives in the Django cache (Redis in production), so every process sees the
    same count. After LOGIN_MAX_FAILURES failures within LOGIN_FAILURE_WINDOW seconds every
    attempt for that identifier is refused with 429, whatever the password, until the window
    that started with the first failure ends.
    """

    def __init__(self, identifier: str):
        digest = hashlib.sha256(identifier.strip().lower().encode()).hexdigest()
        self.count_key = f"login-failures:{digest}"
        self.start_key = f"login-failures-start:{digest}"
        self.window = settings.LOGIN_FAILURE_WINDOW
        self.limit = settings.LOGIN_MAX_FAILURES

    def check(self) -> None:
        """Raise Throttled (429 with Retry-After) when the identifier is locked out."""
        if (cache.get(self.count_key) or 0) < self.limit:
            return
        started = cache.get(self.start_key)
        remaining = self.window if started is None else started + self.window - time.time()
        raise Throttled(
            wait=max(1, math.ceil(remaining)),
            detail="Too many failed login attempts; try again later.",
        )

    def record_failure(self) -> None:
        # add() only sets a missing key, so the window starts at the first failure and the
        # counter's expiry is not extended by later failures (incr keeps the TTL).
        now = time.time()
        cache.add(self.start_key, now, timeout=self.window)
        cache.add(self.count_key, 0, timeout=self.window)
        try:
            cache.incr(self.count_key)
        except ValueError:  # expired between add() and incr()
            cache.add(self.count_key, 1, timeout=self.window)

    def reset(self) -> None:
        cache.delete_many([self.count_key, self.start_key])
