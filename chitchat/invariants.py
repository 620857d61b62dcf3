"""The denormalised counters agree with the rows they count (provisional checker).

Chat.message_count and Chat.last_message against the chat's messages, Message.like_count
against its likes. `check_invariants()` lists every disagreement found (empty when all agree).
"""

from django.db.models import Count, Exists, F, Max, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from chats.models import Chat
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
    return problems


# ---------------------------------------------------------------------------------------
# 1.1 rich messages (helper "rich"): reaction_count and reply_count against their rows.
# Kept separate from check_invariants so it can be merged into the final checker as is.
# ---------------------------------------------------------------------------------------
def check_rich_message_counters() -> list[str]:
    """Message.reaction_count against its reactions, Message.reply_count against the
    messages that answer it."""
    from chats.rows import count_subquery
    from messaging.models import Reaction

    problems = []
    messages = (
        Message.objects.annotate(
            reaction_rows=count_subquery(Reaction.objects.filter(message=OuterRef("pk"))),
            reply_rows=count_subquery(Message.objects.filter(reply_to=OuterRef("pk"))),
        )
        .filter(~Q(reaction_count=F("reaction_rows")) | ~Q(reply_count=F("reply_rows")))
        .values("pk", "reaction_count", "reaction_rows", "reply_count", "reply_rows")
    )
    for message in messages:
        if message["reaction_count"] != message["reaction_rows"]:
            problems.append(
                f"message {message['pk']}: reaction_count {message['reaction_count']}, "
                f"{message['reaction_rows']} reactions"
            )
        if message["reply_count"] != message["reply_rows"]:
            problems.append(
                f"message {message['pk']}: reply_count {message['reply_count']}, "
                f"{message['reply_rows']} replies"
            )
    return problems


def check_rich_message_pins() -> list[str]:
    """Message.pinned is true exactly when the message has a Pin (of its own chat)."""
    from messaging.models import Pin

    pinned = Pin.objects.filter(message=OuterRef("pk"), chat=OuterRef("chat"))
    wrong = Message.objects.alias(has_pin=Exists(pinned)).filter(
        Q(pinned=True, has_pin=False) | Q(pinned=False, has_pin=True)
    )
    return [
        f"message {pk}: pinned flag disagrees with its pin"
        for pk in wrong.values_list("pk", flat=True)
    ]


def check_rich_message_mentions() -> list[str]:
    """Message.mention_count against its Mention rows."""
    from chats.rows import count_subquery
    from messaging.models import Mention

    wrong = (
        Message.objects.annotate(
            rows=count_subquery(Mention.objects.filter(message=OuterRef("pk")))
        )
        .exclude(mention_count=F("rows"))
        .values_list("pk", "mention_count", "rows")
    )
    return [f"message {pk}: mention_count {n}, {rows} mentions" for pk, n, rows in wrong]
