"""Authentication: Bearer JWT access tokens for API clients, and credential checks for login."""

import logging

from django.conf import settings
from django.contrib.auth import authenticate
from django.core.cache import cache
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt.authentication import JWTAuthentication as SimpleJWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken, TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.utils import aware_utcnow

from accounts.models import User
from chitchat.shared_state import read_and_count
from chitchat.throttling import remember_counts, windows_for

logger = logging.getLogger(__name__)


# The user's mark in the shared cache, read on every request with the token: positive
# ("active") marks expire on their own and are filled from the database on a miss, so losing
# the cache (flush, eviction, restart) costs a read of the row, never a revoked user let in.
# Revoking marks outlive every access token that could still be valid.
MARK_ACTIVE = 1
MARK_INACTIVE = 2
MARK_DELETED = 3
# Database ids are 64-bit signed: a larger claim cannot name a user (and would be a 500).
_MAX_USER_ID = 2**63 - 1


def _mark_key(user_id: int) -> str:
    return f"auth:user:{user_id}"


def _active_mark_seconds() -> int:
    return settings.AUTH_ACTIVE_MARK_SECONDS


def user_access_lock(*, user_id: int, deleted: bool = False) -> None:
    """Refuse the user's access tokens at once, in every process (the cache is shared Redis).

    Called when a user is deactivated or deleted (before the change commits: a request that
    read the row a moment earlier cannot put an "active" mark back, it only adds missing
    ones). If the cache cannot be written, the positive mark other requests may hold still
    expires within AUTH_ACTIVE_MARK_SECONDS, and then the row decides.
    """
    lifetime = int(api_settings.ACCESS_TOKEN_LIFETIME.total_seconds()) + 60
    try:
        cache.set(_mark_key(user_id), MARK_DELETED if deleted else MARK_INACTIVE, timeout=lifetime)
    except Exception:
        logger.exception("could not mark user %s locked in the cache", user_id)


def user_access_unlock(*, user_id: int) -> None:
    """Forget the user's mark (reactivation, password change): the next request reads the row."""
    try:
        cache.delete(_mark_key(user_id))
    except Exception:
        logger.exception("could not clear the mark of user %s", user_id)


def user_access_remember(*, user_id: int) -> None:
    """Put the "active" mark of a user whose row was just found active (AUTH_ACTIVE_MARK_SECONDS).

    add(), not set(): a lock mark written meanwhile is never overwritten.
    """
    try:
        cache.add(_mark_key(user_id), MARK_ACTIVE, timeout=_active_mark_seconds())
    except Exception:
        logger.warning("could not store the mark of user %s", user_id, exc_info=True)


def token_user_id(validated_token) -> int:
    """The token's user id: a positive integer a database id can hold, or InvalidToken."""
    try:
        claim = validated_token[api_settings.USER_ID_CLAIM]
    except KeyError:
        claim = None
    if isinstance(claim, str) and claim.isascii() and claim.isdecimal() and len(claim) < 20:
        claim = int(claim)
    if type(claim) is not int or not 0 < claim <= _MAX_USER_ID:
        raise InvalidToken("Token contained no recognizable user identification")
    return claim


class JWTAuthentication(SimpleJWTAuthentication):
    """Bearer access tokens checked against a mark in the shared cache, not the user row.

    The user comes from the token's `user_id` claim as a `User` whose other fields load in
    one query on first use (`User.from_token`), so most requests never read the user row:
    that SELECT was more than half the cost of a trivial authenticated request.

    Each request reads the user's mark and counts the view's throttle windows in one Redis
    round trip (chitchat.shared_state). An "active" mark lets the token in; "inactive" and
    "deleted" marks (set on deactivation and deletion, `user_access_lock`) refuse it at once
    in every process. Without a mark (expired, flushed, evicted, a restarted server) the row
    decides, and an active row puts an "active" mark back for AUTH_ACTIVE_MARK_SECONDS; a
    missing row is always a 401. If the cache cannot be reached the row is read instead and
    the throttles let the request through. A password change blacklists every refresh token,
    so the access tokens already out die with their lifetime (JWT_ACCESS_MINUTES, 5 by
    default), as with stock simplejwt.
    """

    def authenticate(self, request):
        header = self.get_header(request)
        if header is None:
            return None
        raw_token = self.get_raw_token(header)
        if raw_token is None:
            return None
        validated_token = self.get_validated_token(raw_token)
        return self.checked_user(request, token_user_id(validated_token)), validated_token

    def checked_user(self, request, user_id: int) -> User:
        """The token's user if their mark (or row) allows; the request's windows counted."""
        user = User.from_token(user_id)
        view = (getattr(request, "parser_context", None) or {}).get("view")
        windows = windows_for(request, view, user)
        try:
            mark, counts = read_and_count(_mark_key(user_id), windows)
        except Exception:
            logger.warning("cache unavailable; checking the user row instead", exc_info=True)
            remember_counts(request, windows, None)
            return self.stored_user(user_id)
        remember_counts(request, windows, counts)
        if mark == MARK_ACTIVE:
            return user
        if mark == MARK_DELETED:
            raise AuthenticationFailed("User not found", code="user_not_found")
        if mark == MARK_INACTIVE:
            raise AuthenticationFailed("User is inactive", code="user_inactive")
        user = self.stored_user(user_id)
        user_access_remember(user_id=user_id)
        return user

    def stored_user(self, user_id: int) -> User:
        """The user row itself, which must exist and be active."""
        user = User.objects.filter(pk=user_id).first()
        if user is None:
            raise AuthenticationFailed("User not found", code="user_not_found")
        if not user.is_active:
            raise AuthenticationFailed("User is inactive", code="user_inactive")
        return user

    def get_user(self, validated_token):
        return self.checked_user(None, token_user_id(validated_token))

    def get_stored_user(self, validated_token):
        """The user row itself (must exist and be active): for long-lived sessions."""
        return self.stored_user(token_user_id(validated_token))

    def get_validated_token(self, raw_token: bytes):
        """The verified token. A token this process verified before is taken from
        `_verified` (decoding and checking the signature cost ~50 us a request) once its
        expiry is checked again; the key is the whole token, signature included."""
        known = _verified.get(raw_token)
        if known is not None:
            try:
                known.check_exp(current_time=aware_utcnow())  # now, not at its first check
                return known
            except TokenError:
                _verified.pop(raw_token, None)
        try:
            token = super().get_validated_token(raw_token)
        except InvalidToken as exc:
            # simplejwt nests per-token-class messages in the body; clients get the plain
            # {"detail", "code"} of every other error, with the most telling message.
            raise InvalidToken(_first_message(exc.detail)) from None
        if len(_verified) >= _VERIFIED_MAX:
            _verified.clear()
        _verified[raw_token] = token
        return token


# Access tokens this process has verified, by their raw bytes: a memo of a pure check (the
# signature is over the claims; access tokens are not blacklisted one by one, users are,
# by their mark), so it holds nothing other processes need to know. Bounded.
_VERIFIED_MAX = 4096
_verified: dict[bytes, object] = {}


def _first_message(detail) -> str:
    if isinstance(detail, dict):
        for message in detail.get("messages") or ():
            if isinstance(message, dict) and message.get("message"):
                return str(message["message"])
        if detail.get("detail"):
            return str(detail["detail"])
    return str(InvalidToken.default_detail)


class JWTAuthenticationScheme(SimpleJWTScheme):
    """OpenAPI: describe our subclass as simplejwt's Bearer scheme (registered on import)."""

    target_class = "accounts.authentication.JWTAuthentication"


def credentials_authenticate(
    request, *, username: str | None = None, email: str | None = None, password: str
) -> User | None:
    """The active user with that username or email and password, or None.

    `username` may also hold an email address (see accounts.backends, which resolves it,
    applies the shared login lockout and runs the hasher even for unknown users). Goes
    through Django's `authenticate()`, so `user_login_failed` is sent.
    """
    if username:
        return authenticate(request, username=username, password=password)
    return authenticate(request, email=email, password=password)
