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
from messaging.rows import message_rows


def messages_visible_to(user: User) -> QuerySet[Message]:
    """Message instances of chats the caller may know of (group chats, their own direct
    chats), author and chat joined, for the detail endpoints' permission checks and writes.

    Membership is checked by the view's permissions, so that a non-member of a group chat
    gets a 403 and someone else's direct message a 404.
    """
    liked = Like.objects.filter(message=OuterRef("pk"), user=user)
    return (
        Message.objects.select_related("author", "chat")
        .annotate(liked_by_me=Exists(liked))
        .filter(chat__in=chats_with_role(user).values("pk"))
    )


def _of_chat(chat_id: int) -> QuerySet[Message]:
    return Message.objects.filter(chat_id__gte=chat_id, chat_id__lte=chat_id)


def chat_messages(
    *, chat_id: int, user: User, after_id: int | None = None, search: str | None = None
) -> QuerySet:
    """The chat's message rows if `user` is a member (none otherwise): newest first, or with
    `after_id` only newer ones, oldest first (catch-up). Served by the (chat, id) index both
    ways; the membership is an uncorrelated EXISTS evaluated once: one statement per page."""
    member = Membership.objects.filter(chat_id=chat_id, user_id=user.pk)
    queryset = _of_chat(chat_id).filter(Exists(member))
    if after_id is not None:
        queryset = queryset.filter(id__gt=after_id)
    if search:
        queryset = _matching(queryset, search)
    ordering = ("chat_id", "id") if after_id is not None else ("-chat_id", "-id")
    return message_rows(queryset.order_by(*ordering), user_id=user.pk)


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


def messages_mine(user: User) -> QuerySet:
    """Every message the user wrote, newest first, also in chats they left."""
    return message_rows(
        Message.objects.filter(author_id__gte=user.pk, author_id__lte=user.pk).order_by(
            "-author_id", "-id"
        ),
        user_id=user.pk,
    )


def messages_latest(user: User) -> QuerySet:
    """The newest message of each chat the user is in, newest first, with `chat_name`
    (the other member's username for a direct chat)."""
    other_member = (
        Membership.objects.filter(chat=OuterRef("chat_id"))
        .exclude(user=user)
        .order_by("id")
        .values("user__username")[:1]
    )
    newest_ids = Chat.objects.filter(memberships__user=user, last_message_id__isnull=False).values(
        "last_message_id"
    )
    return message_rows(
        Message.objects.filter(pk__in=newest_ids)
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
        .order_by("-id"),
        "chat_name",
        user_id=user.pk,
    )


def messages_inbox(user: User) -> QuerySet:
    """Messages others sent to the user in the user's direct chats, newest first."""
    direct_chats = Membership.objects.filter(user=user, chat__kind=Chat.Kind.DIRECT).values(
        "chat_id"
    )
    return message_rows(
        Message.objects.filter(chat_id__in=direct_chats).exclude(author=user).order_by("-id"),
        user_id=user.pk,
    )


def message_likers(message: Message) -> QuerySet[Like]:
    """The likes of a message with their users joined, newest first."""
    return Like.objects.filter(message=message).select_related("user").order_by("-id")
