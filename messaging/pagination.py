"""Cursor pagination for message lists, keyed on the message id whatever the ordering.

DRF's CursorPagination takes its position from the first ordering field. Message lists are
ordered by an index prefix first (`("-chat_id", "-id")`, `("-author_id", "-id")`) so that
only the matching composite index can serve them (see messaging.selectors); that prefix is
constant within one list, so the position is the id, the last ordering field. The ordering
is the one the selector put on the queryset.
"""

from base64 import b64decode, b64encode
from urllib import parse

from rest_framework.exceptions import NotFound
from rest_framework.pagination import Cursor, _reverse_ordering
from rest_framework.utils.urls import replace_query_param

from chitchat.pagination import IdCursorPagination

MAX_ID = 2**63 - 1


def _row_id(row) -> int:
    """Pages hold `.values()` rows (dicts) or model instances. A row whose list is not keyed
    on its own id (a chat's pins: the pin's id) carries its key as `position`."""
    if isinstance(row, dict):
        return row.get("position", row["id"])
    return row.id


class MessageCursorPagination(IdCursorPagination):
    """Pages of a queryset ordered by (..., "id") or (..., "-id"); the cursor holds an id."""

    def get_ordering(self, request, queryset, view) -> tuple[str, ...]:
        ordering = tuple(queryset.query.order_by) or ("-id",)
        assert ordering[-1] in ("id", "-id"), "message lists must end their ordering with id"
        return ordering

    def decode_cursor(self, request) -> Cursor | None:
        encoded = request.query_params.get(self.cursor_query_param)
        if encoded is None:
            return None
        try:
            querystring = b64decode(encoded.encode("ascii")).decode("ascii")
            tokens = parse.parse_qs(querystring, keep_blank_values=True)
            reverse = bool(int(tokens.get("r", ["0"])[0]))
            position = int(tokens["p"][0])
        except (TypeError, ValueError, KeyError, UnicodeError):
            raise NotFound(self.invalid_cursor_message) from None
        if not 0 <= position <= MAX_ID:
            raise NotFound(self.invalid_cursor_message)
        return Cursor(offset=0, reverse=reverse, position=position)

    def encode_cursor(self, cursor: Cursor) -> str:
        tokens = {"p": str(cursor.position)}
        if cursor.reverse:
            tokens["r"] = "1"
        encoded = b64encode(parse.urlencode(tokens, doseq=True).encode("ascii")).decode("ascii")
        return replace_query_param(self.base_url, self.cursor_query_param, encoded)

    def paginate_queryset(self, queryset, request, view=None):
        ordering = self.get_ordering(request, queryset, view)

        def fetch(*, walk_down: bool, position: int | None, limit: int) -> list:
            # The selector's ordering walks down on a descending list; reversed, it walks up.
            descending = ordering[-1].startswith("-")
            rows = queryset.order_by(
                *(ordering if walk_down == descending else _reverse_ordering(ordering))
            )
            if position is not None:
                rows = rows.filter(id__lt=position) if walk_down else rows.filter(id__gt=position)
            return list(rows[:limit])

        return self.paginate_source(fetch, request, descending=ordering[-1].startswith("-"))

    def paginate_source(self, fetch, request, *, descending: bool) -> list | None:
        """Paginate rows from `fetch(walk_down=, position=, limit=)`, a page source that need
        not be a queryset (the raw SQL hot path); None when the source declines (returns
        None) or pagination is off. `descending`: the list is newest first."""
        self.request = request
        self.page_size = self.get_page_size(request)
        if not self.page_size:
            return None
        self.cursor = self.decode_cursor(request)
        reverse = bool(self.cursor and self.cursor.reverse)
        position = self.cursor.position if self.cursor else None

        rows = fetch(walk_down=descending != reverse, position=position, limit=self.page_size + 1)
        if rows is None:
            return None
        self.base_url = request.build_absolute_uri()
        more = len(rows) > self.page_size
        self.page = rows[: self.page_size]
        if reverse:
            self.page.reverse()
            self.has_next, self.has_previous = position is not None, more
        else:
            self.has_next, self.has_previous = more, position is not None
        return self.page

    def get_next_link(self) -> str | None:
        if not self.has_next:
            return None
        position = _row_id(self.page[-1]) if self.page else self.cursor.position
        return self.encode_cursor(Cursor(offset=0, reverse=False, position=position))

    def get_previous_link(self) -> str | None:
        if not self.has_previous:
            return None
        position = _row_id(self.page[0]) if self.page else self.cursor.position
        return self.encode_cursor(Cursor(offset=0, reverse=True, position=position))
