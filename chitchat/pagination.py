"""Cursor pagination: constant cost per page, page_size 1-200 (default 50)."""

import binascii
from base64 import b64decode, b64encode
from collections.abc import Callable
from dataclasses import dataclass
from urllib import parse

from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from rest_framework.exceptions import NotFound
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.utils.urls import replace_query_param

MAX_BIGINT = 2**63 - 1


class IdCursorPagination(CursorPagination):
    """Newest first by id; a view may set `ordering` for another order.

    A cursor is client input: its position must be a value of the ordering's first field
    (an id, a date), or the page is a 404 like any other invalid cursor, never a 500 from
    a query that cannot compare it.
    """

    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def paginate_queryset(self, queryset, request, view=None):
        self._model = queryset.model
        try:
            return super().paginate_queryset(queryset, request, view)
        except (DjangoValidationError, ValueError, TypeError, OverflowError):
            raise NotFound(self.invalid_cursor_message) from None

    def decode_cursor(self, request):
        cursor = super().decode_cursor(request)
        if cursor is not None and cursor.position is not None:
            self._check_position(cursor.position)
        return cursor

    def _check_position(self, position: str) -> None:
        ordering = self.ordering if isinstance(self.ordering, list | tuple) else [self.ordering]
        name = ordering[0].lstrip("-")
        try:
            field = self._model._meta.get_field(name)
        except (AttributeError, FieldDoesNotExist):
            return
        try:
            value = field.to_python(position)
        except (DjangoValidationError, ValueError, TypeError, OverflowError):
            raise NotFound(self.invalid_cursor_message) from None
        if isinstance(field, models.IntegerField | models.AutoField) and not (
            -MAX_BIGINT - 1 <= value <= MAX_BIGINT
        ):
            raise NotFound(self.invalid_cursor_message)


@dataclass(frozen=True)
class PageSource:
    """What KeysetCursorPagination pages through: `fetch(walk_down=, position=, limit=)`
    returns up to `limit` rows after `position` (a key, or None for the first page), walking
    down the list's order (newest first) or, for a previous page, up it; `key(row)` is a row's
    position, a tuple of `key_length` integers (an id; a time in microseconds and an id)."""

    fetch: Callable[..., list]
    key: Callable[[dict], tuple[int, ...]]
    key_length: int = 1


class KeysetCursorPagination(CursorPagination):
    """Keyset pagination of a page source (one raw statement), newest first unless told: a
    page is one bounded index range whatever its depth, ties included (the key ends with the
    id).

    The cursor is opaque to clients, as DRF's: base64 of the key and the direction. One that
    does not decode to a key of the source's length, holds a part below `min_position`, or
    names a time out of range, is a 404.
    """

    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    min_position = -MAX_BIGINT - 1

    def paginate_queryset(self, queryset, request, view=None):
        raise TypeError("KeysetCursorPagination pages a PageSource: call paginate_source")

    def paginate_source(self, source: PageSource, request, *, descending: bool = True) -> list:
        """A page of `source`; `descending`: the list is newest first (walking down it)."""
        self.request, self.source = request, source
        self.page_size = self.get_page_size(request)
        self.base_url = request.build_absolute_uri()
        self.cursor = self.decode_cursor(request)
        reverse = bool(self.cursor and self.cursor.reverse)
        position = self.cursor.position if self.cursor else None
        try:
            rows = source.fetch(
                walk_down=descending != reverse, position=position, limit=self.page_size + 1
            )
        except OverflowError:  # a time in the cursor that no datetime holds
            raise NotFound(self.invalid_cursor_message) from None
        more = len(rows) > self.page_size
        self.page = rows[: self.page_size]
        if reverse:
            self.page.reverse()
            self.has_next, self.has_previous = position is not None, more
        else:
            self.has_next, self.has_previous = more, position is not None
        return self.page

    def decode_cursor(self, request) -> Cursor | None:
        encoded = request.query_params.get(self.cursor_query_param)
        if encoded is None:
            return None
        try:
            tokens = parse.parse_qs(b64decode(encoded.encode("ascii"), validate=True).decode())
            reverse = bool(int(tokens.get("r", ["0"])[0]))
            position = tuple(int(part) for part in tokens["p"][0].split("."))
        except (TypeError, ValueError, KeyError, UnicodeError, binascii.Error):
            raise NotFound(self.invalid_cursor_message) from None
        if len(position) != self.source.key_length or not all(
            self.min_position <= part <= MAX_BIGINT for part in position
        ):
            raise NotFound(self.invalid_cursor_message)
        return Cursor(offset=0, reverse=reverse, position=position)

    def encode_cursor(self, cursor: Cursor) -> str:
        tokens = {"p": ".".join(str(part) for part in cursor.position)}
        if cursor.reverse:
            tokens["r"] = "1"
        encoded = b64encode(parse.urlencode(tokens).encode("ascii")).decode("ascii")
        return replace_query_param(self.base_url, self.cursor_query_param, encoded)

    def get_next_link(self) -> str | None:
        if not self.has_next:
            return None
        position = self.source.key(self.page[-1]) if self.page else self.cursor.position
        return self.encode_cursor(Cursor(offset=0, reverse=False, position=position))

    def get_previous_link(self) -> str | None:
        if not self.has_previous:
            return None
        position = self.source.key(self.page[0]) if self.page else self.cursor.position
        return self.encode_cursor(Cursor(offset=0, reverse=True, position=position))
