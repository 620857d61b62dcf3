"""Cursor pagination: constant cost per page, page_size 1-200 (default 50)."""

from rest_framework.pagination import CursorPagination


class IdCursorPagination(CursorPagination):
    """Newest first by id; a view may set `ordering` for another order."""

    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
