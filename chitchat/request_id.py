"""Request ids: `X-Request-ID` in (when well formed) and out, and on every log line.

A proxy or client may send `X-Request-ID`; it is kept when it is short and made of safe
characters (letters, digits, `.`, `_`, `:`, `-`; at most 64), so it can be searched in logs
and cannot forge log lines. Otherwise a fresh id is made. Every response carries it, and
every log record gets it as `request_id` (chitchat.logs).
"""

import contextvars
import re
import uuid

REQUEST_ID_HEADER = "X-Request-ID"
_VALID = re.compile(r"[A-Za-z0-9._:-]{1,64}")

_current: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)


def request_id_from(value: str | None) -> str:
    """The client's id when it is acceptable, else a new one."""
    if value and _VALID.fullmatch(value):
        return value
    return uuid.uuid4().hex


def current_request_id() -> str | None:
    return _current.get()


class RequestIdMiddleware:
    """Sets request.request_id for the request's duration and sends it back."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))
        request.request_id = request_id
        token = _current.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        response[REQUEST_ID_HEADER] = request_id
        return response
