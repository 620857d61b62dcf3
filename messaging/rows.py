"""The read model of messages: the columns a message body needs, and the one function that
turns such a row into the contract's message.

REST lists and details, live events, client_id replays, a chat's `last_message` and the
admin's previews all build message bodies with `message_body`; adding a field to a message
is one change here (its column in MESSAGE_COLUMNS, its line in message_body) plus the model
field and its migration; the schema follows (MESSAGE_FIELDS). Rows are `.values()` dicts:
building model instances was most of a page's cost.
"""

from collections import defaultdict

from django.db.models import Exists, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from chats.models import Membership
from chats.rows import count_subquery, iso_datetime
from messaging.attachments.rows import attachments_by_message
from messaging.models import Like, Message

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
)


def message_rows(messages: QuerySet[Message], *extra: str, user_id: int) -> QuerySet:
    """`messages` as rows for message_body, with `liked_by_me` for `user_id`.

    `liked_by_me` is a correlated EXISTS probing the unique (message, user) index once per
    row of the page, in the page's own statement: the same index probes a separate query
    for the caller's likes among the page's ids would make, without its round trip.
    """
    liked = Like.objects.filter(message=OuterRef("pk"), user_id=user_id)
    return messages.annotate(liked_by_me=Exists(liked)).values(
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
        "attachments": _attachments(row),
    }


def _attachments(row: dict) -> list[dict]:
    # Filled for a whole page by message_bodies (one query); a lone row costs one query.
    attachments = row.get("attachments")
    if attachments is None:
        attachments = attachments_by_message([row["id"]]).get(row["id"], [])
    return attachments


def message_bodies(rows: list[dict]) -> list[dict]:
    """message_body of each row, the page's attachments read in one query."""
    found = attachments_by_message([row["id"] for row in rows if row.get("attachments") is None])
    for row in rows:
        if row.get("attachments") is None:
            row["attachments"] = found.get(row["id"], [])
    return [message_body(row) for row in rows]


# The body's field names in order, read off message_body itself: the schema's component
# (messaging.serializers.MessageSerializer) lists exactly these, so a field added to
# message_body is documented without a second edit.
MESSAGE_FIELDS = tuple(message_body(defaultdict(lambda: None, attachments=[])))


def message_row_of(message: Message, *, liked_by_me: bool = False) -> dict:
    """The row of a message instance (its author loaded), as message_rows would read it."""
    row = {column: getattr(message, column) for column in MESSAGE_COLUMNS if "__" not in column}
    row["author__username"] = message.author.username
    row["liked_by_me"] = liked_by_me
    # Set by message_send from the attachments it claimed (None: read when the body is built).
    row["attachments"] = getattr(message, "attachment_bodies", None)
    return row


def message_event_body(message: Message | dict) -> dict:
    """What message.created/updated carry: the body without `liked_by_me` (per reader).
    `message`: an instance, or a message_rows row."""
    row = message if isinstance(message, dict) else message_row_of(message)
    body = message_body(row)
    del body["liked_by_me"]
    return body


# ---------------------------------------------------------------------------------------
# The chat body's timeline (registered into chats.rows.CHAT_BODY_EXTENSIONS by apps.py)
# ---------------------------------------------------------------------------------------
def chat_timeline(*, user, rows: list[dict], bodies: list[dict]) -> None:
    """Fill `last_message` and `unread_count` of the chat bodies the caller is a member of,
    in one query: the last messages of the page, each with its chat's unread count for the
    caller (a chat without a last message has no messages, so nothing unread); one more
    for their attachments."""
    member_rows = [row for row in rows if row["my_role"] is not None]
    for body, row in zip(bodies, rows, strict=True):
        if row["my_role"] is not None:
            body["unread_count"] = 0
    last_ids = [row["last_message_id"] for row in member_rows if row["last_message_id"]]
    if not last_ids:
        return
    read_marker = Membership.objects.filter(chat_id=OuterRef(OuterRef("chat_id")), user=user)
    unread = Message.objects.filter(
        chat_id=OuterRef("chat_id"),
        id__gt=Coalesce(
            Subquery(read_marker.values("last_read_message_id")[:1]),
            0,
            output_field=IntegerField(),
        ),
    ).exclude(author=user)
    last_rows = list(
        message_rows(
            Message.objects.filter(pk__in=last_ids).annotate(unread_count=count_subquery(unread)),
            "unread_count",
            user_id=user.pk,
        )
    )
    found = {
        row["chat_id"]: (row, body)
        for row, body in zip(last_rows, message_bodies(last_rows), strict=True)
    }
    for body, row in zip(bodies, rows, strict=True):
        last, last_body = found.get(row["id"], (None, None))
        if row["my_role"] is None or last is None:
            continue
        if last["id"] == row["last_message_id"]:
            body["last_message"] = last_body
            body["unread_count"] = last["unread_count"]
