"""JSON request parsing with orjson: strict (lone surrogates, NUL, deep nesting refused)
and size-limited."""

import orjson
from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser

from chitchat.exceptions import RequestTooLarge


def _check_document(value, max_depth: int) -> None:
    """Refuse NUL characters (in keys or values) and nesting deeper than `max_depth`.

    Iterative, with an explicit stack: a recursive walk hit Python's recursion limit on a
    few hundred nested lists (a 500, unauthenticated).
    """
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                raise ParseError("NUL characters are not allowed.")
        elif isinstance(item, dict | list):
            if depth > max_depth:
                raise ParseError(f"JSON nested deeper than {max_depth} levels.")
            if isinstance(item, dict):
                for key, child in item.items():
                    if "\x00" in key:
                        raise ParseError("NUL characters are not allowed.")
                    stack.append((child, depth + 1))
            else:
                stack.extend((child, depth + 1) for child in item)


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
        # PostgreSQL text cannot hold NUL; refuse it here rather than deep in a query. Deep
        # nesting is refused too: no serializer needs it, and DRF's rendering of errors and
        # Python's recursion would choke on it.
        _check_document(parsed, settings.JSON_MAX_DEPTH)
        return parsed
