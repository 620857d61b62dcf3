"""Message writes: send, edit, delete, like, unlike, read markers and the purge of a user.

Each function runs in one transaction and emits its live events through messaging.events
(sent on commit). Counters on Chat (message_count, last_message, last_activity_at) and on
Message (like_count) are kept here and only here, under the chat row lock or with F().
"""

from django.db import connection, transaction
from django.db.models import Count, F, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError

from accounts.models import User
from chats.models import Chat, Membership
from chats.services import direct_chat_get_or_create
from messaging import events
from messaging.models import Like, Message
from messaging.serializers import message_row_data


def _lock_chat(chat_id: int) -> Chat:
    return Chat.objects.select_for_update().get(pk=chat_id)


def _newest_message_id(chat_id: int) -> int | None:
    # The range form is served by the (chat, id) index only (see selectors.chat_messages).
    return (
        Message.objects.filter(chat_id__gte=chat_id, chat_id__lte=chat_id)
        .order_by("-chat_id", "-id")
        .values_list("id", flat=True)
        .first()
    )


@transaction.atomic
def message_send(
    *, chat: Chat, author: User, body: str, client_id: str | None = None
) -> tuple[Message, bool]:
    """Store a message; return (message, created). Idempotent on (author, chat, client_id).

    The chat row stays locked from the insert to the commit, so two messages of one chat
    never commit out of id order: a reader polling `?after=<last id>` cannot skip one that
    was still in flight with a smaller id.
    """
    locked = _lock_chat(chat.pk)
    # Checked under the lock: a member leaving concurrently cannot slip a message in after.
    if not Membership.objects.filter(chat=locked, user=author).exists():
        raise PermissionDenied("You are not a member of this chat.")
    if client_id is not None:
        existing = (
            Message.objects.select_related("author")
            .filter(chat=locked, author=author, client_id=client_id)
            .first()
        )
        if existing is not None:
            return existing, False
    message = Message.objects.create(chat=locked, author=author, body=body, client_id=client_id)
    Chat.objects.filter(pk=locked.pk).update(
        message_count=F("message_count") + 1,
        last_message=message,
        last_activity_at=message.created_at,
    )
    events.message_created(message)
    return message, True


# The whole send in one statement, for PostgreSQL. The chat row is locked (FOR UPDATE) before
# the INSERT draws its id, and stays locked until this statement's transaction commits, so a
# chat's message ids are assigned in commit order exactly as in message_send. A data-modifying
# CTE runs once whether or not the outer SELECT reads it.
_SEND_SQL = """
WITH locked AS (
    SELECT c.id FROM chats_chat c
    WHERE c.id = %(chat_id)s
      AND EXISTS (
          SELECT 1 FROM chats_membership m WHERE m.chat_id = c.id AND m.user_id = %(author_id)s
      )
    FOR UPDATE
), inserted AS (
    INSERT INTO messaging_message (chat_id, author_id, body, created_at, client_id, like_count)
    SELECT locked.id, %(author_id)s, %(body)s, %(now)s, %(client_id)s, 0 FROM locked
    ON CONFLICT (author_id, chat_id, client_id) WHERE client_id IS NOT NULL DO NOTHING
    RETURNING id, chat_id
), counted AS (
    UPDATE chats_chat SET message_count = message_count + 1,
                          last_message_id = inserted.id,
                          last_activity_at = %(now)s
    FROM inserted WHERE chats_chat.id = inserted.chat_id
)
SELECT inserted.id, u.username FROM inserted JOIN accounts_user u ON u.id = %(author_id)s
"""


def message_send_fast(
    *, chat_id: int, author: User, body: str, client_id: str | None = None
) -> dict | None:
    """The common case of a send in one database round trip: the REST body of the new
    message, or None when this path cannot answer (not PostgreSQL, the author is not a
    member, the chat does not exist, a client_id replay). The caller then takes
    message_send, which gives the full answer (404, 403, 200 with the first message).
    """
    if connection.vendor != "postgresql":
        return None
    now = timezone.now()
    params = {
        "chat_id": chat_id,
        "author_id": author.pk,
        "body": body,
        "client_id": client_id,
        "now": now,
    }
    # No transaction.atomic(): in autocommit the statement is its own transaction (no BEGIN
    # and COMMIT round trips), and on_commit below then runs once it has committed.
    with connection.cursor() as cursor:
        cursor.execute(_SEND_SQL, params)
        row = cursor.fetchone()
    if row is None:
        return None
    message_id, username = row
    data = message_row_data(
        {
            "id": message_id,
            "chat_id": chat_id,
            "author_id": author.pk,
            "author__username": username,
            "body": body,
            "created_at": now,
            "edited_at": None,
            "like_count": 0,
            "client_id": client_id,
        }
    )
    events.message_created(data)
    return data


@transaction.atomic
def direct_message_send(
    *, author: User, recipient: User, body: str, client_id: str | None = None
) -> tuple[Message, bool]:
    """Send into the direct chat of the pair, creating the chat first if needed."""
    if recipient.pk == author.pk:
        raise ValidationError({"user_id": ["You cannot send a direct message to yourself."]})
    chat, _ = direct_chat_get_or_create(user=author, other=recipient)
    return message_send(chat=chat, author=author, body=body, client_id=client_id)


@transaction.atomic
def message_edit(*, message: Message, body: str) -> Message:
    """Replace the body and stamp `edited_at`."""
    now = timezone.now()
    # An UPDATE rather than save(): a message deleted meanwhile is a 404, not a crash.
    if not Message.objects.filter(pk=message.pk).update(body=body, edited_at=now):
        raise NotFound("No such message.")
    message.body = body
    message.edited_at = now
    events.message_updated(message)
    return message


@transaction.atomic
def message_delete(*, message: Message) -> None:
    """Delete the message and fix its chat's message_count and last_message."""
    chat = _lock_chat(message.chat_id)
    _, per_model = Message.objects.filter(pk=message.pk).delete()
    if not per_model.get(Message._meta.label):
        return  # deleted concurrently; that request fixed the counters
    fields = {"message_count": F("message_count") - 1}
    if chat.last_message_id in (None, message.pk):
        fields["last_message_id"] = _newest_message_id(chat.pk)
    Chat.objects.filter(pk=chat.pk).update(**fields)
    events.message_deleted(chat_id=chat.pk, message_id=message.pk)


def _current_like_count(message: Message) -> int:
    return Message.objects.filter(pk=message.pk).values_list("like_count", flat=True).first() or 0


@transaction.atomic
def message_like(*, message: Message, user: User) -> Message:
    """Like once; liking again changes nothing. Safe when the same user likes concurrently:
    the unique (message, user) key lets one insert win, and only the winner counts."""
    _, created = Like.objects.get_or_create(message=message, user=user)
    if created:
        Message.objects.filter(pk=message.pk).update(like_count=F("like_count") + 1)
    message.like_count = _current_like_count(message)
    if created:
        events.message_liked(message=message, user=user, liked=True)
    return message


@transaction.atomic
def message_unlike(*, message: Message, user: User) -> Message:
    """Remove the caller's like if there is one; counted only when a row was deleted."""
    deleted, _ = Like.objects.filter(message=message, user=user).delete()
    if deleted:
        Message.objects.filter(pk=message.pk).update(like_count=F("like_count") - 1)
    message.like_count = _current_like_count(message)
    if deleted:
        events.message_liked(message=message, user=user, liked=False)
    return message


@transaction.atomic
def chat_mark_read(*, chat: Chat, user: User, message_id: int) -> None:
    """Move the caller's read marker forward to `message_id` (never back)."""
    if not Message.objects.filter(pk=message_id, chat_id=chat.pk).exists():
        raise ValidationError({"message_id": ["No such message in this chat."]})
    membership = Membership.objects.filter(chat=chat, user=user)
    if not membership.exists():
        raise PermissionDenied("You are not a member of this chat.")
    # One conditional UPDATE: concurrent marks can only move the marker forward.
    membership.filter(
        Q(last_read_message_id__isnull=True) | Q(last_read_message_id__lt=message_id)
    ).update(last_read_message_id=message_id)


@transaction.atomic
def user_messages_purge(*, user: User) -> None:
    """Delete every message and like of `user` in a fixed number of statements.

    Other people's messages lose the user's like from `like_count`; the chats the user wrote
    in get `message_count` and `last_message` recomputed under their row locks (taken in id
    order, as message_send takes one at a time, so no deadlock).
    """
    chat_ids = list(
        Message.objects.filter(author=user).order_by().values_list("chat_id", flat=True).distinct()
    )
    list(
        Chat.objects.select_for_update()
        .filter(pk__in=chat_ids)
        .order_by("pk")
        .values_list("pk", flat=True)
    )

    liked = Like.objects.filter(user=user)
    Message.objects.filter(pk__in=liked.values("message_id")).exclude(author=user).update(
        like_count=F("like_count") - 1
    )
    liked.delete()

    mine = Message.objects.filter(author=user)
    Like.objects.filter(message__in=mine.values("pk")).delete()
    Chat.objects.filter(last_message__in=mine.values("pk")).update(last_message=None)
    # Raw delete: the two relations to Message (likes, Chat.last_message) were handled just
    # above, so Django's collector need not load every message into memory to cascade.
    mine._raw_delete(mine.db)

    if chat_ids:
        remaining = Message.objects.filter(chat=OuterRef("pk")).order_by()
        Chat.objects.filter(pk__in=chat_ids).update(
            message_count=Coalesce(
                Subquery(
                    remaining.annotate(_group=Value(1))
                    .values("_group")
                    .annotate(n=Count("*"))
                    .values("n"),
                    output_field=IntegerField(),
                ),
                0,
            ),
            last_message_id=Subquery(remaining.order_by("-id").values("id")[:1]),
        )
