"""The denormalised counters agree with the rows they count (provisional checker).

Chat.message_count and Chat.last_message against the chat's messages, Message.like_count
against its likes, attachments against their messages. `check_invariants()` lists every
disagreement found (empty when all agree).
"""

from django.db.models import Count, F, Max, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from chats.models import Chat
from messaging.attachments.models import Attachment
from messaging.models import Like, Message


def check_invariants() -> list[str]:
    problems = []
    counted = Message.objects.filter(chat=OuterRef("pk")).order_by().values("chat")
    chats = Chat.objects.annotate(
        rows=Coalesce(Subquery(counted.annotate(n=Count("pk")).values("n")), 0),
        newest=Subquery(counted.annotate(m=Max("pk")).values("m")),
    ).filter(
        ~Q(message_count=F("rows"))
        | ~Q(last_message_id=F("newest"))
        | Q(last_message_id__isnull=True, newest__isnull=False)
        | Q(last_message_id__isnull=False, newest__isnull=True)
    )
    for chat in chats.values("pk", "message_count", "rows", "last_message_id", "newest"):
        if chat["message_count"] != chat["rows"]:
            problems.append(
                f"chat {chat['pk']}: message_count {chat['message_count']}, {chat['rows']} messages"
            )
        if chat["last_message_id"] != chat["newest"]:
            problems.append(
                f"chat {chat['pk']}: last_message {chat['last_message_id']}, "
                f"newest message {chat['newest']}"
            )
    liked = Like.objects.filter(message=OuterRef("pk")).order_by().values("message")
    messages = Message.objects.annotate(
        like_rows=Coalesce(Subquery(liked.annotate(n=Count("pk")).values("n")), 0)
    ).exclude(like_count=F("like_rows"))
    for message in messages.values("pk", "like_count", "like_rows"):
        problems.append(
            f"message {message['pk']}: like_count {message['like_count']}, "
            f"{message['like_rows']} likes"
        )
    # An attachment belongs to a message of its own chat, sent by its uploader.
    stray = Attachment.objects.filter(message__isnull=False).exclude(
        chat_id=F("message__chat_id"), uploader_id=F("message__author_id")
    )
    for pk, message_id in stray.values_list("pk", "message_id"):
        problems.append(f"attachment {pk}: not its uploader's message {message_id} of its chat")
    return problems
