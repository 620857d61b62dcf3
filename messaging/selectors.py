"""Message reads scoped to the caller, annotated so a page costs a fixed number of queries.

Index-friendly forms: a chat's messages are filtered with `X <= chat_id <= X` and ordered
by `("-chat_id", "-id")` (or ascending for `?after=`). Only the (chat, id) index can produce
that order, so PostgreSQL cannot pick a backward scan of the primary key that filters out the
newer rows of busier chats (seconds per page on a skewed table; see
tests/test_message_plans.py). `mine` does the same with the (author, id) index.
"""

from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db import connection
from django.db.models import Case, CharField, Exists, F, OuterRef, QuerySet, Subquery, When
from django.db.models.functions import Coalesce

from accounts.models import User
from chats.models import Chat, Membership
from chats.selectors import chats_with_role
from messaging.models import Like, Message
from messaging.serializers import MESSAGE_ROW_FIELDS

AUTHOR_DEFERRED = [f.name for f in User._meta.concrete_fields if f.name not in ("id", "username")]


def messages_for(user: User) -> QuerySet[Message]:
    """Every message with its author joined and `liked_by_me` for `user` (no scoping)."""
    return (
        Message.objects.select_related("author")
        # Only what the representation shows of the author (not the password hash or bio).
        .defer(*(f"author__{name}" for name in AUTHOR_DEFERRED))
        .annotate(liked_by_me=Exists(Like.objects.filter(message=OuterRef("pk"), user=user)))
    )


def as_rows(queryset: QuerySet[Message], *extra: str) -> QuerySet:
    """A list's messages as `.values()` rows for the lean serializer path (no model
    instances: building them was most of a page's cost)."""
    return queryset.values(*MESSAGE_ROW_FIELDS, "liked_by_me", *extra)


def messages_visible_to(user: User) -> QuerySet[Message]:
    """Messages of chats the caller may know of (group chats, their own direct chats).

    Membership is checked by the view's permissions, so that a non-member of a group chat
    gets a 403 and someone else's direct message a 404.
    """
    return messages_for(user).filter(chat__in=chats_with_role(user).values("pk"))


def chat_messages(*, chat: Chat, user: User, search: str | None = None) -> QuerySet[Message]:
    """The chat's messages, newest first, served by the (chat, id) index."""
    queryset = messages_for(user).filter(chat_id__gte=chat.pk, chat_id__lte=chat.pk)
    if search:
        queryset = _matching(queryset, search)
    return as_rows(queryset.order_by("-chat_id", "-id"))


def messages_after(
    *, chat: Chat, user: User, after_id: int, search: str | None = None
) -> QuerySet[Message]:
    """The chat's messages newer than `after_id`, oldest first (catch-up)."""
    queryset = messages_for(user).filter(
        chat_id__gte=chat.pk, chat_id__lte=chat.pk, id__gt=after_id
    )
    if search:
        queryset = _matching(queryset, search)
    return as_rows(queryset.order_by("chat_id", "id"))


# A chat's page and the caller's membership in one round trip, for PostgreSQL: the hot read
# path, without the ORM's per-request query building (about half of this endpoint's CPU).
# Same rows and index-only order as chat_messages/messages_after; `ok` is the membership.
_PAGE_SQL = """
SELECT a.ok, p.* FROM (
    SELECT EXISTS (
        SELECT 1 FROM chats_membership WHERE chat_id = %(chat_id)s AND user_id = %(user_id)s
    ) AS ok
) a LEFT JOIN LATERAL (
    SELECT m.id, m.chat_id, m.author_id, u.username AS author__username, m.body,
           m.created_at, m.edited_at, m.like_count, m.client_id,
           EXISTS (
               SELECT 1 FROM messaging_like l WHERE l.message_id = m.id AND l.user_id = %(user_id)s
           ) AS liked_by_me
    FROM messaging_message m JOIN accounts_user u ON u.id = m.author_id
    WHERE a.ok AND m.chat_id >= %(chat_id)s AND m.chat_id <= %(chat_id)s
      AND m.id > %(above)s AND m.id < %(below)s
    ORDER BY m.chat_id {direction}, m.id {direction}
    LIMIT %(limit)s
) p ON true
"""
_PAGE_SQL_DOWN = _PAGE_SQL.format(direction="DESC")
_PAGE_SQL_UP = _PAGE_SQL.format(direction="ASC")
MAX_ID = 2**63 - 1


def chat_page_rows(
    *,
    chat_id: int,
    user_id: int,
    after_id: int | None,
    walk_down: bool,
    position: int | None,
    limit: int,
) -> list[dict] | None:
    """A page of a chat's messages as rows (see `as_rows`), for a pagination source: ids
    above `after_id` (and the cursor `position` when walking up), below `position` when
    walking down. None when this path cannot answer (not PostgreSQL, or the caller is not a
    member: the view then takes the ORM path, which tells 404 from 403)."""
    if connection.vendor != "postgresql":
        return None
    above, below = after_id or 0, MAX_ID
    if position is not None:
        if walk_down:
            below = position
        else:
            above = max(above, position)
    params = {"chat_id": chat_id, "user_id": user_id, "above": above, "below": below}
    with connection.cursor() as cursor:
        cursor.execute(_PAGE_SQL_DOWN if walk_down else _PAGE_SQL_UP, {**params, "limit": limit})
        names = [column.name for column in cursor.description]
        rows = cursor.fetchall()
    if not rows or not rows[0][0]:
        return None
    return [dict(zip(names[1:], row[1:], strict=True)) for row in rows if row[1] is not None]


def _matching(queryset: QuerySet[Message], search: str) -> QuerySet[Message]:
    """Words anywhere in the body, case-insensitive.

    PostgreSQL: full-text with the language-neutral "simple" configuration; the expression
    is the one of the GIN index of migration 0002. Elsewhere: a substring match.
    """
    if connection.vendor == "postgresql":
        return queryset.annotate(search_document=SearchVector("body", config="simple")).filter(
            search_document=SearchQuery(search, config="simple")
        )
    return queryset.filter(body__icontains=search)


def messages_mine(user: User) -> QuerySet[Message]:
    """Every message the user wrote, newest first, also in chats they left."""
    return as_rows(
        messages_for(user)
        .filter(author_id__gte=user.pk, author_id__lte=user.pk)
        .order_by("-author_id", "-id")
    )


def messages_latest(user: User) -> QuerySet[Message]:
    """The newest message of each chat the user is in, newest first, with `chat_name`
    (the other member's username for a direct chat)."""
    other_member = (
        Membership.objects.filter(chat=OuterRef("chat_id"))
        .exclude(user=user)
        .order_by("id")
        .values("user__username")[:1]
    )
    newest_ids = Chat.objects.filter(memberships__user=user, last_message__isnull=False).values(
        "last_message_id"
    )
    return (
        messages_for(user)
        .filter(pk__in=newest_ids)
        .annotate(
            chat_name=Case(
                When(
                    chat__kind=Chat.Kind.DIRECT,
                    then=Coalesce(Subquery(other_member), F("chat__name")),
                ),
                default=F("chat__name"),
                output_field=CharField(),
            )
        )
        .order_by("-id")
        .values(*MESSAGE_ROW_FIELDS, "liked_by_me", "chat_name")
    )


def messages_inbox(user: User) -> QuerySet[Message]:
    """Messages others sent to the user in the user's direct chats, newest first."""
    direct_chats = Membership.objects.filter(user=user, chat__kind=Chat.Kind.DIRECT).values(
        "chat_id"
    )
    return as_rows(
        messages_for(user).filter(chat_id__in=direct_chats).exclude(author=user).order_by("-id")
    )


def message_likers(message: Message) -> QuerySet[Like]:
    """The likes of a message with their users joined, newest first."""
    return Like.objects.filter(message=message).select_related("user").order_by("-id")
