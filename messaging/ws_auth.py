"""JWT authentication for the WebSocket scope: `ws://HOST/ws/?token=<access token>`.

Browsers cannot set an Authorization header on a WebSocket, so the access token comes in the
query string. It is checked exactly as the REST API checks a Bearer token (the same
authentication class: signature, expiry, token type, user exists and is active). The scope
gets `user` (AnonymousUser when the token is missing or bad); the consumer closes such
sockets with 4401 after accepting them, since a refused handshake reaches browsers as a
bare 403.
"""

from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from django.contrib.auth.models import AnonymousUser
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError

from accounts.authentication import JWTAuthentication

# A JWT is a few hundred bytes; anything far longer is not one and is not worth decoding.
MAX_TOKEN_LENGTH = 4096


def token_from_query_string(query_string: bytes) -> str | None:
    try:
        values = parse_qs(query_string.decode("latin-1")).get("token")
    except ValueError:
        return None
    if not values or not values[0] or len(values[0]) > MAX_TOKEN_LENGTH:
        return None
    return values[0]


@database_sync_to_async
def user_for_token(raw_token: str):
    """The active user the access token belongs to, or AnonymousUser."""
    authentication = JWTAuthentication()
    try:
        validated = authentication.get_validated_token(raw_token.encode())
        user = authentication.get_stored_user(validated)
    except (InvalidToken, TokenError, AuthenticationFailed, ValueError, TypeError):
        return AnonymousUser()
    if not user.is_active:  # get_user checks it too; kept in case that class changes
        return AnonymousUser()
    return user


class JWTQueryAuthMiddleware:
    """ASGI middleware: sets scope["user"] from the `token` query parameter."""

    def __init__(self, inner):
        self.inner = inner

    async def __call__(self, scope, receive, send):
        user = AnonymousUser()
        if scope["type"] == "websocket":
            raw_token = token_from_query_string(scope.get("query_string", b""))
            if raw_token is not None:
                user = await user_for_token(raw_token)
        return await self.inner(dict(scope, user=user), receive, send)
