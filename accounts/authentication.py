"""Authentication: Bearer JWT access tokens for API clients, and credential checks for login."""

from django.contrib.auth import authenticate
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt.authentication import JWTAuthentication as SimpleJWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken

from accounts.models import User


class JWTAuthentication(SimpleJWTAuthentication):
    """Bearer access tokens (simplejwt). The one place to change how a token finds its user.

    simplejwt already answers 401 when the user no longer exists or is inactive, so a
    deleted or deactivated user's tokens stop working at once.
    """

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
    """The active user with that username or email (ignoring case) and password, or None.

    `username` may also hold an email address; a username match wins over an email match.
    Goes through Django's `authenticate()` so the hasher runs even for unknown users (no
    timing oracle) and `user_login_failed` is sent.
    """
    if username:
        user = User.objects.filter(username__iexact=username).first()
        if user is None:
            user = User.objects.filter(email__iexact=username).first()
    else:
        user = User.objects.filter(email__iexact=email).first()
    return authenticate(
        request, username=user.username if user else username or email, password=password
    )
