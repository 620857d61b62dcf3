"""Authentication of the WebSocket scope: `ws://HOST/ws/?token=<access token>`.

Browsers cannot set an Authorization header on a WebSocket, so the access token comes in the
query string. It is checked by the REST API's own authentication classes
(REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"]) as if it came as `Authorization: Bearer`,
and then the user row is read (a socket lives long: it must exist and be active now, not
only in a cache). The scope gets `user` (AnonymousUser when the token is missing or bad); the
consumer closes such sockets with 4401 after accepting them, since a refused handshake
reaches browsers as a bare 403.
"""

from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.settings import api_settings

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
    http_request = HttpRequest()
    http_request.META["HTTP_AUTHORIZATION"] = f"Bearer {raw_token}"
    request = Request(http_request)
    for authentication_class in api_settings.DEFAULT_AUTHENTICATION_CLASSES:
        try:
            result = authentication_class().authenticate(request)
        except (APIException, ValueError, TypeError, OverflowError):
            return AnonymousUser()
        if result is not None:
            user_id = result[0].pk
            break
    else:
        return AnonymousUser()
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    return user if user is not None else AnonymousUser()


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
