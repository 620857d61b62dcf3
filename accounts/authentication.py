"""Authentication: Bearer JWT access tokens for API clients, and credential checks for login."""

import logging

from django.contrib.auth import authenticate
from django.core.cache import cache
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt.authentication import JWTAuthentication as SimpleJWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken
from rest_framework_simplejwt.settings import api_settings

from accounts.models import User

logger = logging.getLogger(__name__)


def _lock_key(user_id) -> str:
    return f"auth:locked:{user_id}"


def user_access_lock(*, user_id: int, deleted: bool = False) -> None:
    """Refuse the user's access tokens at once, in every process (the cache is shared Redis).

    Called when a user is deactivated or deleted. The mark outlives every access token that
    could still be valid, so it can then expire on its own.
    """
    lifetime = int(api_settings.ACCESS_TOKEN_LIFETIME.total_seconds()) + 60
    try:
        cache.set(_lock_key(user_id), "deleted" if deleted else "inactive", timeout=lifetime)
    except Exception:
        # Without the cache the token still dies with its lifetime (JWT_ACCESS_MINUTES).
        logger.exception("could not mark user %s locked in the cache", user_id)


def user_access_unlock(*, user_id: int) -> None:
    try:
        cache.delete(_lock_key(user_id))
    except Exception:
        logger.exception("could not clear the lock mark of user %s", user_id)


class JWTAuthentication(SimpleJWTAuthentication):
    """Bearer access tokens without a database query per request.

    The user comes from the token's `user_id` claim as a `User` whose other fields load in
    one query on first use (`User.from_token`), so most requests never read the user row:
    that SELECT was more than half the cost of a trivial authenticated request.

    Lockout stays exact: deactivating or deleting a user sets a mark in the cache (Redis when
    `REDIS_URL` is set, so every process sees it) that refuses their tokens on the next
    request (`user_access_lock`). A password change blacklists every refresh token, so the
    access tokens already out die with their lifetime (JWT_ACCESS_MINUTES, 5 by default),
    as with stock simplejwt. If the cache cannot be read, the user row is checked instead.
    """

    def get_user(self, validated_token):
        try:
            user_id = int(validated_token[api_settings.USER_ID_CLAIM])
        except (KeyError, TypeError, ValueError):
            raise InvalidToken("Token contained no recognizable user identification") from None
        try:
            locked = cache.get(_lock_key(user_id))
        except Exception:
            logger.exception("cache unavailable; checking the user row instead")
            return self.get_stored_user(validated_token)
        if locked == "deleted":
            raise AuthenticationFailed("User not found", code="user_not_found")
        if locked:
            raise AuthenticationFailed("User is inactive", code="user_inactive")
        return User.from_token(user_id)

    def get_stored_user(self, validated_token):
        """The user row itself (must exist and be active): for long-lived sessions."""
        return super().get_user(validated_token)

    def get_validated_token(self, raw_token: bytes):
        try:
            return super().get_validated_token(raw_token)
        except InvalidToken as exc:
            # simplejwt nests per-token-class messages in the body; clients get the plain
            # {"detail", "code"} of every other error, with the most telling message.
            raise InvalidToken(_first_message(exc.detail)) from None


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
