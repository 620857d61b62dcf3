"""Cursor pagination for message lists, keyed on the message id whatever the ordering.

Message lists are ordered by an index prefix first (`("-chat_id", "-id")`,
`("-author_id", "-id")`) so that only the matching composite index can serve them (see
messaging.selectors); that prefix is constant within one list, so the position is the id, the
last ordering field. The ordering is the one the selector put on the queryset. The cursor
and the paging are chitchat.pagination.KeysetCursorPagination's, with a key of one part.
"""

from rest_framework.pagination import _reverse_ordering

from chitchat.pagination import KeysetCursorPagination, PageSource


def _row_id(row) -> int:
    """Pages hold `.values()` rows (dicts) or model instances. A row whose list is not keyed
    on its own id (a chat's pins: the pin's id) carries its key as `position`."""
    if isinstance(row, dict):
        return row.get("position", row["id"])
    return row.id


class MessageCursorPagination(KeysetCursorPagination):
    """Pages of a queryset ordered by (..., "id") or (..., "-id"), or of a page source keyed
    on an id; the cursor holds that id (never negative)."""

    min_position = 0

    def get_ordering(self, request, queryset, view) -> tuple[str, ...]:
        ordering = tuple(queryset.query.order_by) or ("-id",)
        assert ordering[-1] in ("id", "-id"), "message lists must end their ordering with id"
        return ordering

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

    def paginate_source(self, fetch, request, *, descending: bool) -> list:
        """Paginate rows from `fetch(walk_down=, position=, limit=)` with `position` an id (or
        None), a page source that need not be a queryset (the raw SQL hot path)."""

        def by_id(*, walk_down: bool, position: tuple[int] | None, limit: int) -> list:
            return fetch(
                walk_down=walk_down, position=None if position is None else position[0], limit=limit
            )

        source = PageSource(fetch=by_id, key=lambda row: (_row_id(row),))
        return super().paginate_source(source, request, descending=descending)
