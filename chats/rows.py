"""The read model of chats and members: the columns their bodies need, and the one function
per resource that turns such a row into its JSON body.

REST lists and details, live events and admin previews all build bodies here, so adding a
field is one change in this module (plus the migration). A chat body also carries its
timeline (`last_message`, `unread_count`), which belongs to messaging, an app above this
one: messaging fills those two in through CHAT_BODY_EXTENSIONS (registered in its
AppConfig.ready()), batched over a whole page, as Sentry's serializers batch `get_attrs`.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import UTC

from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Count,
    ExpressionWrapper,
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

from chats.models import Chat, Membership

# Columns of a chat row besides its annotations (see chat_rows).
CHAT_COLUMNS = (
    "id",
    "kind",
    "description",
    "capacity",
    "message_count",
    "created_at",
    "created_by_id",
    "created_by__username",
    "last_activity_at",
    "last_message_id",
    "member_count",
)
MEMBER_COLUMNS = ("id", "user_id", "user__username", "role", "joined_at")

# extension(user=, rows=, bodies=): fills in fields of `bodies` (one per row, same order)
# in a fixed number of queries. Registered by the apps above chats.
ChatBodyExtension = Callable[..., None]
CHAT_BODY_EXTENSIONS: list[ChatBodyExtension] = []


def iso_datetime(value) -> str | None:
    """As DRF's DateTimeField renders it: ISO 8601 in UTC with a Z."""
    if value is None:
        return None
    text = value.astimezone(UTC).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def user_ref(user) -> dict:
    """`{id, username}` of a user instance."""
    return {"id": user.pk, "username": user.username}


def count_subquery(queryset: QuerySet) -> Coalesce:
    """A correlated COUNT(*) of `queryset` as a scalar subquery (0 when empty)."""
    counted = (
        queryset.order_by()
        .annotate(_group=Value(1))
        .values("_group")
        .annotate(n=Count("*"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def display_name(user_id: int) -> Case:
    """The name the user sees: the other member's username for a direct chat."""
    other_member = (
        Membership.objects.filter(chat=OuterRef("pk"))
        .exclude(user_id=user_id)
        .order_by("id")
        .values("user__username")[:1]
    )
    return Case(
        When(
            kind=Chat.Kind.DIRECT,
            then=Coalesce(Subquery(other_member, output_field=CharField()), F("name")),
        ),
        default=F("name"),
        output_field=CharField(),
    )


def chat_rows(chats: QuerySet[Chat], *, user_id: int, mine: bool = False) -> QuerySet:
    """`chats` as rows for chat_body, seen by `user_id`.

    With `mine` the caller's membership is joined (the queryset must already be narrowed to
    their memberships with `memberships__user_id=user_id`): role and read marker come from
    that one join rather than two correlated subqueries per chat.
    """
    if mine:
        chats = chats.annotate(
            my_role=F("memberships__role"),
            my_last_read_id=F("memberships__last_read_message_id"),
        )
    else:
        my = Membership.objects.filter(chat=OuterRef("pk"), user_id=user_id)
        chats = chats.annotate(
            my_role=Subquery(my.values("role")[:1], output_field=CharField()),
            my_last_read_id=Subquery(
                my.values("last_read_message_id")[:1], output_field=IntegerField()
            ),
        )
    return chats.annotate(
        display_name=display_name(user_id),
        is_private=ExpressionWrapper(~Q(passkey=""), output_field=BooleanField()),
    ).values(*CHAT_COLUMNS, "display_name", "is_private", "my_role", "my_last_read_id")


def chat_body(row: dict) -> dict:
    """The contract's chat from a chat_rows row, before the extensions fill the timeline."""
    is_member = row["my_role"] is not None
    created_by = None
    # The members of a private group chat are hidden from non-members, its creator too.
    if row["created_by_id"] is not None and (is_member or not row["is_private"]):
        created_by = {"id": row["created_by_id"], "username": row["created_by__username"]}
    return {
        "id": row["id"],
        "name": row["display_name"],
        "description": row["description"],
        "kind": row["kind"],
        "is_private": bool(row["is_private"]),
        "capacity": row["capacity"],
        "member_count": row["member_count"],
        "message_count": row["message_count"],
        "created_by": created_by,
        "created_at": iso_datetime(row["created_at"]),
        "is_member": is_member,
        "role": row["my_role"],
        "last_message": None,
        "unread_count": None,
        "mention_count": None,  # 1.1, filled for members by messaging's extension
    }


# The body's field names in order, read off chat_body itself: chats.serializers'
# ChatSerializer lists exactly these (the schema follows the read model).
CHAT_FIELDS = tuple(chat_body(defaultdict(lambda: None)))


def chat_bodies(rows: Iterable[dict], *, user) -> list[dict]:
    """The bodies of a page of chat rows, with every extension's fields filled in."""
    rows = list(rows)
    bodies = [chat_body(row) for row in rows]
    if rows:
        for extend in CHAT_BODY_EXTENSIONS:
            extend(user=user, rows=rows, bodies=bodies)
    return bodies


def chat_event_body(chat: Chat) -> dict:
    """What `chat.updated` carries: the fields every member sees alike."""
    return {
        "id": chat.pk,
        "name": chat.name,
        "description": chat.description,
        "is_private": chat.is_private,
        "capacity": chat.capacity,
    }


def member_rows(memberships: QuerySet[Membership]) -> QuerySet:
    return memberships.values(*MEMBER_COLUMNS)


def member_body(row: dict) -> dict:
    """The contract's member from a member_rows row."""
    return {
        "user": {"id": row["user_id"], "username": row["user__username"]},
        "role": row["role"],
        "joined_at": iso_datetime(row["joined_at"]),
    }


MEMBER_FIELDS = tuple(member_body(defaultdict(lambda: None)))


def member_body_of(membership: Membership) -> dict:
    """The contract's member from an instance (its user loaded)."""
    return member_body(
        {
            "user_id": membership.user_id,
            "user__username": membership.user.username,
            "role": membership.role,
            "joined_at": membership.joined_at,
        }
    )
