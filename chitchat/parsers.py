"""JSON request parsing with orjson: strict (lone surrogates, NUL refused) and size-limited."""

import orjson
from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser

from chitchat.exceptions import RequestTooLarge


def _contains_nul(value) -> bool:
    """True when a NUL character hides in any string (key or value) of a parsed document."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_contains_nul(k) or _contains_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_contains_nul(item) for item in value)
    return False


class ORJSONParser(BaseParser):
    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        data = stream.read(limit + 1) if stream is not None else b""
        if len(data) > limit:
            raise RequestTooLarge()
        if not data.strip():
            return {}
        try:
            # orjson refuses invalid UTF-8, lone surrogates and numbers that overflow a double.
            parsed = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        # PostgreSQL text cannot hold NUL; refuse it here rather than deep in a query.
        if _contains_nul(parsed):
            raise ParseError("NUL characters are not allowed.")
        return parsed
