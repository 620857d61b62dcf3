"""Chat reads scoped to the caller, with every per-row field annotated (no per-row queries)."""

from django.db import connection
from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from accounts.models import User
from chats.models import Chat, Membership
from messaging.models import Like, Message

USER_UNSHOWN_FIELDS = [
    f.name for f in User._meta.concrete_fields if f.name not in ("id", "username")
]


def _count_subquery(queryset: QuerySet) -> Subquery:
    """A correlated COUNT(*) of `queryset` as a scalar subquery (0 when empty)."""
    counted = (
        queryset.order_by()
        .annotate(_group=Value(1))
        .values("_group")
        .annotate(n=Count("*"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def chats_with_role(user) -> QuerySet[Chat]:
    """Group chats and the caller's own direct chats, annotated with `my_role` only.

    For endpoints under a chat (its messages, read marker) that need to know whether the
    caller may see the chat and in what role, not its representation: one light query.
    """
    mine = Membership.objects.filter(chat=OuterRef("pk"), user=user)
    return Chat.objects.filter(Q(kind=Chat.Kind.GROUP) | Q(Exists(mine))).annotate(
        my_role=Subquery(mine.values("role")[:1], output_field=CharField())
    )


def chats_visible_to(user, *, only_mine: bool = False) -> QuerySet[Chat]:
    """Group chats (public and private) and the caller's own direct chats; with
    `only_mine`, just the chats the caller is a member of.

    Someone else's direct chat is not in it, so it is a 404. Annotated per row:
    `my_role` (None when not a member), `my_last_read_id`, `member_count`, `unread_count`
    (None for non-members), `display_name` (the other member's username for a direct chat),
    `last_message_liked_by_me`; `created_by` and `last_message.author` come joined.
    """
    mine = Membership.objects.filter(chat=OuterRef("pk"), user=user)
    other_member = (
        Membership.objects.filter(chat=OuterRef("pk"))
        .exclude(user=user)
        .order_by("id")
        .values("user__username")[:1]
    )
    unread = Message.objects.filter(
        chat=OuterRef("pk"), id__gt=Coalesce(OuterRef("my_last_read_id"), 0)
    ).exclude(author=user)
    if only_mine:
        # One join on the caller's memberships (the (user, chat) index) gives the role and
        # the read marker directly, instead of two correlated subqueries per chat.
        chats = Chat.objects.filter(memberships__user=user).annotate(
            my_role=F("memberships__role"),
            my_last_read_id=F("memberships__last_read_message_id"),
        )
    else:
        chats = Chat.objects.filter(Q(kind=Chat.Kind.GROUP) | Q(Exists(mine))).annotate(
            my_role=Subquery(mine.values("role")[:1], output_field=CharField()),
            my_last_read_id=Subquery(
                mine.values("last_read_message_id")[:1], output_field=IntegerField()
            ),
        )
    return (
        chats.select_related("created_by", "last_message__author")
        # Only what the representation shows of those users (not password hashes, bios).
        .defer(
            *(f"created_by__{name}" for name in USER_UNSHOWN_FIELDS),
            *(f"last_message__author__{name}" for name in USER_UNSHOWN_FIELDS),
        )
        .annotate(
            member_count=_count_subquery(Membership.objects.filter(chat=OuterRef("pk"))),
            display_name=Case(
                When(
                    kind=Chat.Kind.DIRECT,
                    then=Coalesce(Subquery(other_member, output_field=CharField()), F("name")),
                ),
                default=F("name"),
                output_field=CharField(),
            ),
            last_message_liked_by_me=Exists(
                Like.objects.filter(message=OuterRef("last_message_id"), user=user)
            ),
        )
        .annotate(
            # Only members get a count; the CASE keeps the subquery from running for others.
            unread_count=Case(
                When(my_role__isnull=False, then=_count_subquery(unread)),
                default=None,
                output_field=IntegerField(),
            ),
        )
    )


def chat_list(
    *, user, mine: bool = False, kind: str | None = None, search: str | None = None
) -> QuerySet[Chat]:
    """The list endpoint's rows: `chats_visible_to` narrowed by the query parameters."""
    queryset = chats_visible_to(user, only_mine=mine)
    if kind:
        queryset = queryset.filter(kind=kind)
    if search:
        # The name the caller sees: a direct chat is found by the other member's username.
        queryset = queryset.filter(display_name__icontains=search)
    return queryset


def my_chats(*, user, kind: str | None = None) -> QuerySet[Chat]:
    """The caller's chats, only what a page of `mine=true` is ordered and cut by: the cheap
    query the paginator runs; `my_chat_rows` then fills in the page's representations."""
    queryset = Chat.objects.filter(memberships__user=user).only("id", "last_activity_at")
    return queryset.filter(kind=kind) if kind else queryset


# The representation of a page of the caller's chats in one statement, for PostgreSQL: the
# same values as chats_visible_to(only_mine=True) annotates, without building and compiling
# that ORM query (most of this endpoint's CPU) or a model instance per joined row.
_MY_CHAT_ROWS_SQL = """
SELECT c.id, c.kind, c.description, c.passkey <> '' AS is_private, c.capacity,
       c.message_count, c.created_at, c.created_by_id, cb.username AS created_by_username,
       mm.role AS my_role,
       (SELECT COUNT(*) FROM chats_membership x WHERE x.chat_id = c.id) AS member_count,
       CASE WHEN c.kind = 'direct' THEN COALESCE(
           (SELECT u.username FROM chats_membership o JOIN accounts_user u ON u.id = o.user_id
            WHERE o.chat_id = c.id AND o.user_id <> %(user_id)s ORDER BY o.id LIMIT 1),
           c.name)
       ELSE c.name END AS display_name,
       (SELECT COUNT(*) FROM messaging_message m
        WHERE m.chat_id = c.id AND m.id > COALESCE(mm.last_read_message_id, 0)
          AND m.author_id <> %(user_id)s) AS unread_count,
       lm.id AS last_id, lm.author_id AS last_author_id, la.username AS last_author_username,
       lm.body AS last_body, lm.created_at AS last_created_at, lm.edited_at AS last_edited_at,
       lm.like_count AS last_like_count, lm.client_id AS last_client_id,
       EXISTS (
           SELECT 1 FROM messaging_like l WHERE l.message_id = lm.id AND l.user_id = %(user_id)s
       ) AS last_liked_by_me
FROM chats_chat c
JOIN chats_membership mm ON mm.chat_id = c.id AND mm.user_id = %(user_id)s
LEFT JOIN accounts_user cb ON cb.id = c.created_by_id
LEFT JOIN messaging_message lm ON lm.id = c.last_message_id
LEFT JOIN accounts_user la ON la.id = lm.author_id
WHERE c.id = ANY(%(chat_ids)s)
"""


def my_chat_rows(*, user, chat_ids: list[int]) -> list:
    """The caller's chats `chat_ids`, in that order, ready for ChatSerializer: dict rows
    from one statement on PostgreSQL, annotated instances elsewhere."""
    if not chat_ids:
        return []
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_MY_CHAT_ROWS_SQL, {"user_id": user.pk, "chat_ids": chat_ids})
            names = [column.name for column in cursor.description]
            rows = {row[0]: dict(zip(names, row, strict=True)) for row in cursor.fetchall()}
    else:
        rows = {c.pk: c for c in chats_visible_to(user, only_mine=True).filter(pk__in=chat_ids)}
    return [rows[chat_id] for chat_id in chat_ids if chat_id in rows]


def chat_members(chat: Chat) -> QuerySet[Membership]:
    """The chat's memberships with their users joined (one query per page)."""
    return Membership.objects.filter(chat=chat).select_related("user")
