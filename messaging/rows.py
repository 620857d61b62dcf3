"""The read model of messages: the columns a message body needs, and the one function that
turns such a row into the contract's message.

REST lists and details, live events, client_id replays, a chat's `last_message` and the
admin's previews all build message bodies with `message_body`; adding a field to a message
is one change here (its column in MESSAGE_COLUMNS, its line in message_body) plus the model
field and its migration; the schema follows (MESSAGE_FIELDS). Rows are `.values()` dicts:
building model instances was most of a page's cost.

1.1: fields that live in other tables (`reply_to` previews, `reactions`, `mentions`,
`attachments`) are filled by `message_bodies` for a whole page at once, one query each and
only when some row of the page needs it (its reply_to_id, reaction_count, mention_count or
attachment_count says so): lists, details and events all go through it, never a query per
row, and a page of plain messages is one query.
"""

import functools
from collections import defaultdict

from django.db.models import (
    Case,
    Count,
    Exists,
    Max,
    Min,
    OuterRef,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Substr

from accounts.models import User
from chats.models import Membership
from chats.rows import aware, iso_datetime, read_cursor
from messaging.attachments.rows import attachments_by_message
from messaging.models import Like, Mention, Message, Reaction

MESSAGE_COLUMNS = (
    "id",
    "chat_id",
    "author_id",
    "author__username",
    "body",
    "created_at",
    "edited_at",
    "like_count",
    "client_id",
    # 1.1 replies and reactions (message_bodies fills `reply_to` and `reactions` per page)
    "reply_to_id",
    "reply_count",
    "reaction_count",
    "pinned",  # 1.1 pins
    "mention_count",  # 1.1 mentions (message_bodies fills `mentions`)
    "attachment_count",  # 1.1 attachments (message_bodies fills `attachments`)
)
REPLY_PREVIEW_LENGTH = 200


def message_sql_columns(*, message: str = "m", author: str = "u") -> str:
    """MESSAGE_COLUMNS as a raw SELECT list, for the statements written in SQL (a chat's page,
    the chat list's timeline): the message's own columns from table alias `message`, the
    username from the author's alias `author`. Names come from the models."""
    attnames = {f.attname: f.column for f in Message._meta.concrete_fields}
    username = User._meta.get_field("username").column
    return ", ".join(
        f"{message}.{attnames[name]}" if name in attnames else f"{author}.{username}"
        for name in MESSAGE_COLUMNS
    )


def message_sql_liked_by_me(*, message: str = "m", user_param: str = "%(user_id)s") -> str:
    """`liked_by_me` as a raw column: the likes index is probed only for rows with likes."""
    like, m = Like._meta, {f.name: f.column for f in Message._meta.concrete_fields}
    return (
        f"CASE WHEN {message}.{m['like_count']} > 0 THEN EXISTS ("  # noqa: S608
        f"SELECT 1 FROM {like.db_table} l "
        f"WHERE l.{like.get_field('message').column} = {message}.{m['id']} "
        f"AND l.{like.get_field('user').column} = {user_param}) ELSE 1 = 0 END"
    )


def message_rows(messages: QuerySet[Message], *extra: str, user_id: int) -> QuerySet:
    """`messages` as rows for message_body, with `liked_by_me` for `user_id`.

    `liked_by_me` is a correlated EXISTS probing the unique (message, user) index once per
    row of the page that has any like (like_count > 0; a CASE skips the probe for the
    rest), in the page's own statement: the probes a separate query for the caller's likes
    among the page's ids would make, without its round trip.
    """
    liked = Like.objects.filter(message=OuterRef("pk"), user_id=user_id)
    liked_by_me = Case(When(like_count__gt=0, then=Exists(liked)), default=Value(False))
    return messages.annotate(liked_by_me=liked_by_me).values(
        *MESSAGE_COLUMNS, "liked_by_me", *extra
    )


def message_body(row: dict) -> dict:
    """The contract's message from a message_rows row (or message_row_of an instance)."""
    return {
        "id": row["id"],
        "chat_id": row["chat_id"],
        "author": {"id": row["author_id"], "username": row["author__username"]},
        "body": row["body"],
        "created_at": iso_datetime(row["created_at"]),
        "edited_at": iso_datetime(row["edited_at"]),
        "like_count": row["like_count"],
        "liked_by_me": bool(row.get("liked_by_me", False)),
        "client_id": row["client_id"],
        "reply_to": None,  # filled by message_bodies
        "reply_count": row["reply_count"],
        "reactions": [],  # filled by message_bodies
        "pinned": bool(row["pinned"]),
        "mentions": [],  # filled by message_bodies
        "attachments": _attachments(row),
    }


def _attachments(row: dict) -> list[dict]:
    # Filled for a whole page by message_bodies (one query); a lone row costs one query.
    attachments = row.get("attachments")
    if attachments is None:
        if not row.get("attachment_count"):
            return []
        attachments = attachments_by_message([row["id"]]).get(row["id"], [])
    return attachments


def message_bodies(rows, *, user_id: int | None) -> list[dict]:
    """The bodies of message rows, with `attachments`, `reply_to`, `reactions` and `mentions`
        filled in for the whole page at once: one query for the attachments when some row has
    XX
        (`me` for `user_id`; None leaves `me` out, as events do), one for the mentions.
    """
    rows = list(rows)
    wanted = [row for row in rows if row.get("attachments") is None]
    found = attachments_by_message([row["id"] for row in wanted if row.get("attachment_count")])
    for row in wanted:
        row["attachments"] = found.get(row["id"], [])
    bodies = [message_body(row) for row in rows]
    _fill_reply_to(rows, bodies)
    _fill_reactions(rows, bodies, user_id=user_id)
    _fill_mentions(rows, bodies)
    return bodies


def latest_message_bodies(rows, *, user_id: int) -> list[dict]:
    """messages/latest/: the bodies of message rows that carry `chat_name` (see
    messaging.selectors.messages_latest_source), each with its chat's id and name."""
    rows = list(rows)
    bodies = message_bodies(rows, user_id=user_id)
    for body, row in zip(bodies, rows, strict=True):
        body["chat"] = {"id": row["chat_id"], "name": row["chat_name"]}
    return bodies


def _fill_mentions(rows: list[dict], bodies: list[dict]) -> None:
    for row, body in zip(rows, bodies, strict=True):
        if row.get("mention_bodies") is not None:  # known already (a send)
            body["mentions"] = row["mention_bodies"]
    ids = [
        row["id"] for row in rows if row.get("mention_count") and row.get("mention_bodies") is None
    ]
    if not ids:
        return
    per_message: dict[int, list[dict]] = defaultdict(list)
    mentions = (
        Mention.objects.filter(message_id__in=ids)
        .order_by("message_id", "position")
        .values_list("message_id", "user_id", "user__username")
    )
    for message_id, user_id, username in mentions:
        per_message[message_id].append({"id": user_id, "username": username})
    for body in bodies:
        if body["id"] in per_message:
            body["mentions"] = per_message[body["id"]]


def reply_previews(parent_ids, *, chat_id: int | None = None) -> dict[int, dict]:
    """The `reply_to` previews of these messages (of `chat_id` only, if given): one query."""
    parents = Message.objects.filter(pk__in=parent_ids)
    if chat_id is not None:
        parents = parents.filter(chat_id=chat_id)
    return {
        parent["id"]: {
            "id": parent["id"],
            "author": {"id": parent["author_id"], "username": parent["author__username"]},
            "body": parent["preview"],
        }
        for parent in parents.values(
            "id", "author_id", "author__username", preview=Substr("body", 1, REPLY_PREVIEW_LENGTH)
        )
    }


def _fill_reply_to(rows: list[dict], bodies: list[dict]) -> None:
    parents = {row["reply_to_id"]: row["reply_to_body"] for row in rows if row.get("reply_to_body")}
    wanted = {row["reply_to_id"] for row in rows if row.get("reply_to_id")} - set(parents)
    if not wanted and not parents:
        return
    if wanted:
        parents |= reply_previews(wanted)
    for body, row in zip(bodies, rows, strict=True):
        parent_id = row.get("reply_to_id")
        if parent_id:
            body["reply_to"] = parents.get(
                parent_id, {"id": parent_id, "author": None, "body": None, "deleted": True}
            )


def _fill_reactions(rows: list[dict], bodies: list[dict], *, user_id: int | None) -> None:
    ids = [row["id"] for row in rows if row.get("reaction_count")]
    if not ids:
        return
    grouped = (
        Reaction.objects.filter(message_id__in=ids)
        .values("message_id", "emoji")
        .annotate(count=Count("id"), first=Min("id"))
        .order_by("message_id", "first")
    )
    if user_id is not None:
        # MAX over a 0/1 flag: portable (no bool_or on SQLite).
        grouped = grouped.annotate(
            me=Max(Case(When(user_id=user_id, then=Value(1)), default=Value(0)))
        )
    per_message: dict[int, list[dict]] = defaultdict(list)
    for group in grouped:
        reaction = {"emoji": group["emoji"], "count": group["count"]}
        if user_id is not None:
            reaction["me"] = bool(group["me"])
        per_message[group["message_id"]].append(reaction)
    for body in bodies:
        if body["id"] in per_message:
            body["reactions"] = per_message[body["id"]]


# The body's field names in order, read off message_body itself: the schema's component
# (messaging.serializers.MessageSerializer) lists exactly these, so a field added to
# message_body is documented without a second edit.
MESSAGE_FIELDS = tuple(message_body(defaultdict(lambda: None, attachments=[])))


def message_row_of(message: Message, *, liked_by_me: bool = False) -> dict:
    """The row of a message instance (its author loaded), as message_rows would read it."""
    row = {column: getattr(message, column) for column in MESSAGE_COLUMNS if "__" not in column}
    row["author__username"] = message.author.username
    row["liked_by_me"] = liked_by_me
    # Set by message_send from what it read under the lock anyway (None: read when the body
    # is built): the attachments it claimed, the parent's preview, the mentioned members.
    row["attachments"] = getattr(message, "attachment_bodies", None)
    row["reply_to_body"] = getattr(message, "reply_to_body", None)
    row["mention_bodies"] = getattr(message, "mention_bodies", None)
    return row


def message_event_body(message: Message | dict) -> dict:
    """What message.created/updated carry: the body without `liked_by_me` (per reader).
    `message`: an instance, or a message_rows row."""
    row = message if isinstance(message, dict) else message_row_of(message)
    (body,) = message_bodies([row], user_id=None)
    del body["liked_by_me"]
    return body


def message_body_of(message: Message, *, user_id: int, liked_by_me: bool = False) -> dict:
    """The body of one message instance (its author loaded), as `user_id` sees it."""
    return message_bodies([message_row_of(message, liked_by_me=liked_by_me)], user_id=user_id)[0]


# ---------------------------------------------------------------------------------------
# The chat body's timeline (registered into chats.rows.CHAT_BODY_EXTENSIONS by apps.py)
# ---------------------------------------------------------------------------------------
@functools.cache
def _timeline_sql(count: int) -> str:
    """The last messages of `count` chats as message rows, each with its chat's unread count
    and unread mentions of the caller, in one statement on any database (the ORM's version,
    nested correlated subqueries, cost more to compile than to run). The caller's read
    marker comes from their membership, joined; both counts are ranges of an index: (chat,
    id) for the messages, (user, message) for the mentions."""
    message, member, mention = Message._meta, Membership._meta, Mention._meta
    m = {f.name: f.column for f in message.concrete_fields}
    chat_of, user_of = member.get_field("chat").column, member.get_field("user").column
    read = f"COALESCE(x.{member.get_field('last_read_message_id').column}, 0)"
    ids = ", ".join(["%s"] * count)
    return f"""
SELECT {message_sql_columns()}, {message_sql_liked_by_me(user_param="%s")},
       (SELECT COUNT(*) FROM {message.db_table} v WHERE v.{m["chat"]} = m.{m["chat"]}
          AND v.{m["id"]} > {read} AND v.{m["author"]} <> %s),
       (SELECT COUNT(*) FROM {mention.db_table} n
          JOIN {message.db_table} v ON v.{m["id"]} = n.{mention.get_field("message").column}
          WHERE n.{mention.get_field("user").column} = %s
          AND n.{mention.get_field("message").column} > {read}
          AND v.{m["chat"]} = m.{m["chat"]} AND v.{m["author"]} <> %s)
FROM {message.db_table} m
JOIN {User._meta.db_table} u ON u.{User._meta.pk.column} = m.{m["author"]}
JOIN {member.db_table} x ON x.{chat_of} = m.{m["chat"]} AND x.{user_of} = %s
WHERE m.{m["id"]} IN ({ids})
"""  # noqa: S608


def chat_timeline(*, user, rows: list[dict], bodies: list[dict]) -> None:
    """Fill `last_message`, `unread_count` and `mention_count` of the chat bodies the caller
    is a member of, in one statement (_timeline_sql): the last messages of the page, each with
    its chat's unread counts for the caller (a chat without a last message has no messages,
    so nothing unread); message_bodies adds what the last messages need (attachments, ...)."""
    member_rows = [row for row in rows if row["my_role"] is not None]
    for body, row in zip(bodies, rows, strict=True):
        if row["my_role"] is not None:
            body["unread_count"] = 0
            body["mention_count"] = 0
    last_ids = sorted({row["last_message_id"] for row in member_rows if row["last_message_id"]})
    if not last_ids:
        return
    user_id = user.pk
    with read_cursor() as cursor:
        cursor.execute(
            _timeline_sql(len(last_ids)), [user_id, user_id, user_id, user_id, user_id, *last_ids]
        )
        fetched = cursor.fetchall()
    columns = (*MESSAGE_COLUMNS, "liked_by_me", "unread_count", "unread_mentions")
    found = {}
    for values in fetched:
        row = dict(zip(columns, values, strict=True))
        row["created_at"], row["edited_at"] = aware(row["created_at"]), aware(row["edited_at"])
        found[row["chat_id"]] = row
    last_bodies = dict(zip(found, message_bodies(found.values(), user_id=user_id), strict=True))
    for body, row in zip(bodies, rows, strict=True):
        last = found.get(row["id"]) if row["my_role"] is not None else None
        if last is not None and last["id"] == row["last_message_id"]:
            body["last_message"] = last_bodies[row["id"]]
            body["unread_count"] = last["unread_count"]
            body["mention_count"] = last["unread_mentions"]
