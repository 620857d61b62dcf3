"""The read model of chats and members: the columns their bodies need, and the one function
per resource that turns such a row into its JSON body.

REST lists and details, live events and admin previews all build bodies here, so adding a
field is one change in this module (its name in CHAT_ROW_FIELDS, its line in chat_body; the
list's raw statement takes its columns from chat_sql_columns), plus the migration. A chat
body also carries its timeline (`last_message`, `unread_count`), which belongs to messaging,
an app above this one: messaging fills those two in through CHAT_BODY_EXTENSIONS
(registered in its AppConfig.ready()), batched over a whole page, as Sentry's serializers
batch `get_attrs`.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import UTC

from django.db import connection
from django.db.models import (
    Count,
    IntegerField,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from psycopg.types.datetime import TimestamptzLoader

from accounts.models import User
from chats.models import Chat, Membership

# The fields of a chat row, in the order of the raw statement's columns (chats.selectors).
CHAT_ROW_FIELDS = (
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
    "display_name",  # the other member's username for a direct chat
    "is_private",
    "my_role",  # the caller's membership, or None
    "my_last_read_id",
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


def read_cursor():
    """connection.cursor() for the read models' raw statements (chat rows, message rows).

    On PostgreSQL its timestamps are read by psycopg's own loader (C), not by Django's,
    a Python subclass that only pins the zone: that was ~60 % of a message page's row
    reading. The connection's zone is UTC (Django sets it), so the values are the same
    aware datetimes; `aware` below covers SQLite's naive ones.
    """
    cursor = connection.cursor()
    adapters = getattr(cursor.cursor, "adapters", None)  # a psycopg cursor
    if adapters is not None:
        adapters.register_loader("timestamptz", TimestamptzLoader)
    return cursor


def aware(value):
    """SQLite hands raw statements naive datetimes (stored in UTC); PostgreSQL aware ones."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def chat_sql_display_name(*, chat: str = "c", user_param: str = "%(user_id)s") -> str:
    """The name a chat has for the caller `user_param`, as raw SQL over the chat's alias
    `chat`: a direct chat is called after its other member (the first to have joined besides
    the caller), or its own name when that member is gone; a group chat by its name."""
    quote = connection.ops.quote_name
    c = {f.attname: f"{chat}.{quote(f.column)}" for f in Chat._meta.concrete_fields}
    member = {f.attname: quote(f.column) for f in Membership._meta.concrete_fields}
    member_table = quote(Membership._meta.db_table)
    user_table, user_pk = quote(User._meta.db_table), quote(User._meta.pk.column)
    username = quote(User._meta.get_field("username").column)
    other_member = (
        f"SELECT ou.{username} FROM {member_table} o "  # noqa: S608
        f"JOIN {user_table} ou ON ou.{user_pk} = o.{member['user_id']} "
        f"WHERE o.{member['chat_id']} = {c['id']} AND o.{member['user_id']} <> {user_param} "
        f"ORDER BY o.{member['id']} LIMIT 1"
    )
    return (
        f"CASE WHEN {c['kind']} = '{Chat.Kind.DIRECT.value}' "
        f"THEN COALESCE(({other_member}), {c['name']}) ELSE {c['name']} END"
    )


def chat_sql_columns(*, display_name: str) -> str:
    """CHAT_ROW_FIELDS as a raw SELECT list: the chat's own columns from alias `c`, its
    creator's username from `cu`, the caller's membership from `x` (outer-joined: NULLs for a
    non-member), the name the caller sees from the SQL `display_name`. Names from the models."""
    quote = connection.ops.quote_name
    chat = {f.attname: quote(f.column) for f in Chat._meta.concrete_fields}
    member = {f.attname: quote(f.column) for f in Membership._meta.concrete_fields}
    computed = {
        "created_by__username": f"cu.{quote(User._meta.get_field('username').column)}",
        "display_name": display_name,
        "is_private": f"c.{chat['passkey']} <> ''",
        "my_role": f"x.{member['role']}",
        "my_last_read_id": f"x.{member['last_read_message_id']}",
    }
    return ", ".join(computed.get(name) or f"c.{chat[name]}" for name in CHAT_ROW_FIELDS)


def chat_row_of(values: tuple) -> dict:
    """A chat row from the values of one row of the chat statement (chats.selectors)."""
    row = dict(zip(CHAT_ROW_FIELDS, values, strict=True))
    row["created_at"], row["last_activity_at"] = (
        aware(row["created_at"]),
        aware(row["last_activity_at"]),
    )
    return row


def chat_body(row: dict) -> dict:
    """The contract's chat from a chat row (chat_row_of), before the extensions fill the
    timeline."""
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
