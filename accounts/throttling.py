"""Rate limits of the accounts endpoints: registration per client, and the login lockout."""

import hashlib
import logging
import math
import time

from django.conf import settings
from django.core.cache import cache
from rest_framework.exceptions import Throttled
from rest_framework.throttling import SimpleRateThrottle

from chitchat.throttling import WindowCounterMixin

logger = logging.getLogger(__name__)


class RegisterRateThrottle(WindowCounterMixin, SimpleRateThrottle):
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

    Each attempt takes its slot with an atomic increment *before* the password is checked,
    so a burst of parallel guesses cannot all slip past a not-yet-updated count; a success
    clears the counter.
    """

    def __init__(self, identifier: str):
        digest = hashlib.sha256(identifier.strip().lower().encode()).hexdigest()
        self.count_key = f"login-failures:{digest}"
        self.start_key = f"login-failures-start:{digest}"
        self.window = settings.LOGIN_FAILURE_WINDOW
        self.limit = settings.LOGIN_MAX_FAILURES

    def attempt(self) -> None:
        """Count an attempt; raise Throttled (429 with Retry-After) beyond the limit.

        With the cache unreachable the attempt is let through (and logged): logging in keeps
        working while Redis is down, as the other throttles do."""
        try:
            self._attempt()
        except Throttled:
            raise
        except Exception:
            logger.exception("login lockout unavailable; attempt let through")

    def _attempt(self) -> None:
        # add() only sets a missing key, so the window starts at the first attempt and later
        # ones do not extend it (incr keeps the key's expiry, in Redis and in local memory).
        now = time.time()
        cache.add(self.start_key, now, timeout=self.window)
        cache.add(self.count_key, 0, timeout=self.window)
        try:
            count = cache.incr(self.count_key)
        except ValueError:  # expired between add() and incr(): a new window
            cache.set(self.start_key, now, timeout=self.window)
            cache.add(self.count_key, 1, timeout=self.window)
            count = 1
        if count <= self.limit:
            return
        started = cache.get(self.start_key)
        remaining = self.window if started is None else started + self.window - now
        raise Throttled(
            wait=max(1, math.ceil(remaining)),
            detail="Too many failed login attempts; try again later.",
        )

    def reset(self) -> None:
        """A successful login: the identifier starts again with a clean count."""
        try:
            cache.delete_many([self.count_key, self.start_key])
        except Exception:
            logger.exception("login lockout unavailable; counter not reset")
