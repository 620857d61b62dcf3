"""Cursor pagination: constant cost per page, page_size 1-200 (default 50)."""

from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination

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
