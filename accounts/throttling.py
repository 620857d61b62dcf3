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
    """Failed logins per account (or, for names that match none, per normalised name).

    Keyed on the account found rather than on what was typed, so look-alike spellings
    (U+017F, U+0131, the email instead of the username) share one count; see accounts.backends.

    The counter lives in the Django cache (Redis in production), so every process sees the
    same count. After LOGIN_MAX_FAILURES failures within LOGIN_FAILURE_WINDOW seconds every
    attempt for that identifier is refused with 429, whatever the password, until the window
    that started with the first failure ends.

    Each attempt takes its slot with an atomic increment *before* the password is checked,
    so a burst of parallel guesses cannot all slip past a not-yet-updated count; a success
    clears the counter.
    """

    prefix = "login-failures"
    detail = "Too many failed login attempts; try again later."

    def __init__(self, identifier: str):
        """`identifier`: "user:<id>" for an account, "name:<identity_key>" otherwise."""
        digest = hashlib.sha256(identifier.encode()).hexdigest()
        self.count_key = f"{self.prefix}:{digest}"
        self.start_key = f"{self.prefix}-start:{digest}"
        self.window, self.limit = self.get_limits()

    def get_limits(self) -> tuple[int, int]:
        return settings.LOGIN_FAILURE_WINDOW, settings.LOGIN_MAX_FAILURES

    def attempt(self) -> None:
        """Count an attempt; raise Throttled (429 with Retry-After) beyond the limit.

        Without a cache (Redis down) the attempt is let through and logged: logins keep
        working, unthrottled, until it is back.
        """
        try:
            wait = self._count()
        except Exception:
            logger.exception("login lockout counter unavailable; attempt let through")
            return
        if wait is not None:
            raise Throttled(wait=wait, detail=self.detail)

    def _count(self) -> int | None:
        """Take this attempt's slot; the seconds to wait when beyond the limit, else None."""
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
            return None
        started = cache.get(self.start_key)
        remaining = self.window if started is None else started + self.window - now
        return max(1, math.ceil(remaining))

    def reset(self) -> None:
        """A successful login: the identifier starts again with a clean count."""
        try:
            cache.delete_many([self.count_key, self.start_key])
        except Exception:
            logger.exception("could not clear a login lockout counter")


class PasskeyAttempts(LoginLockout):
    """Wrong passkeys per user and chat: the same counter as logins, its own limits.

    Beyond PASSKEY_MAX_FAILURES attempts in PASSKEY_FAILURE_WINDOW seconds, joining that
    chat is a 429 with Retry-After whatever the passkey; a successful join clears it.
    """

    prefix = "passkey-failures"
    detail = "Too many wrong passkeys for this chat; try again later."

    def __init__(self, *, user_id: int, chat_id: int):
        super().__init__(f"{user_id}:{chat_id}")

    def get_limits(self) -> tuple[int, int]:
        return settings.PASSKEY_FAILURE_WINDOW, settings.PASSKEY_MAX_FAILURES
