"""Rate limits counted in fixed windows, with the request's other shared state in one round trip.

DRF's SimpleRateThrottle keeps the list of request times per client in the cache and reads
and rewrites it on every request: two round trips and a pickle of up to `rate` floats
(2,400 for `user=2400/min`). These throttles keep the same scopes and THROTTLE_RATES, but
count each window with one atomic increment. A fixed window lets a client send up to twice
its rate across a window boundary; the rates are abuse limits, where that is fine. Counters
live in the cache, so they hold across processes.

For a request signed with a Bearer token, accounts.authentication counts the view's windows
in the same Redis pipeline as its token check (`windows_for`, then
chitchat.shared_state.read_and_count), so the throttles below find their counts on the
request and make no round trip of their own. If the store is down, requests are let through
(and logged) rather than failing.
"""

import logging
import time

from rest_framework import throttling

from chitchat.shared_state import read_and_count

logger = logging.getLogger(__name__)

# Set on the DRF request by windows_for(): {window key: count, or None if the store failed}.
COUNTS_ATTR = "_window_counts"
NOW_ATTR = "_window_now"


def window_count(key: str, window_seconds: int) -> int:
    """Add one to `key`'s counter, which expires with its window; return the new count."""
    _, (count,) = read_and_count(None, [(key, window_seconds)])
    return count


class _AsUser:
    """The request seen with `user` already signed in (DRF's request.user is not set yet while
    an authenticator runs, and reading it there would authenticate again)."""

    def __init__(self, request, user):
        self._request = request
        self.user = user

    def __getattr__(self, name):
        return getattr(self._request, name)


def windows_for(request, view, user) -> list[tuple[str, int]]:
    """The (key, seconds) windows the view's throttles will count for `user`'s request.

    Remembers the time they were taken for, so the throttles find their windows again.
    """
    if view is None:
        return []
    now = time.time()
    setattr(request, NOW_ATTR, now)
    seen = _AsUser(request, user)
    windows = []
    for throttle in view.get_throttles():
        if isinstance(throttle, WindowCounterMixin):
            window = throttle.window(seen, view, now)
            if window is not None:
                windows.append(window[:2])
    return windows


def remember_counts(request, windows: list[tuple[str, int]], counts: list[int] | None) -> None:
    """Store what read_and_count() answered (None: the store was down, let them through)."""
    if request is None:
        return
    if counts is None:
        setattr(request, COUNTS_ATTR, {key: None for key, _ in windows})
    else:
        setattr(request, COUNTS_ATTR, {key: n for (key, _), n in zip(windows, counts, strict=True)})


class WindowCounterMixin:
    """allow_request/wait of SimpleRateThrottle, counted in fixed windows."""

    def configure(self, view) -> bool:
        """Settle the rate for this view; False when there is none."""
        return self.rate is not None

    def window(self, request, view, now: float) -> tuple[str, int, int] | None:
        """(key, seconds, window number) of the window `now` falls in, or None (not counted)."""
        if not self.configure(view):
            return None
        key = self.get_cache_key(request, view)
        if key is None:
            return None
        number = int(now // self.duration)
        return f"{key}:{number}", self.duration, number

    def allow_request(self, request, view) -> bool:
        now = getattr(request, NOW_ATTR, None) or time.time()
        window = self.window(request, view, now)
        if window is None:
            return True
        key, seconds, number = window
        counted = getattr(request, COUNTS_ATTR, None) or {}
        if key in counted:
            count = counted[key]
            if count is None:  # the store was down when the authenticator counted
                return True
        else:
            try:
                count = window_count(key, seconds)
            except Exception:
                logger.warning("throttle counter unavailable; request let through", exc_info=True)
                return True
        self.wait_seconds = (number + 1) * seconds - now
        return count <= self.num_requests

    def wait(self) -> float:
        return self.wait_seconds


class AnonRateThrottle(WindowCounterMixin, throttling.AnonRateThrottle):
    """`anon` scope, per client address."""


class UserRateThrottle(WindowCounterMixin, throttling.UserRateThrottle):
    """`user` scope, per signed-in user."""


class ScopedRateThrottle(WindowCounterMixin, throttling.ScopedRateThrottle):
    """The view's `throttle_scope` (e.g. `message`), per user."""

    def configure(self, view) -> bool:
        # As DRF's: the scope and so the rate are known only once the view is.
        self.scope = getattr(view, self.scope_attr, None)
        if not self.scope:
            return False
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return self.rate is not None
