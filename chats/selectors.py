"""Chat reads scoped to the caller, with every per-row field annotated (no per-row queries)."""

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


def chat_members(chat: Chat) -> QuerySet[Membership]:
    """The chat's memberships with their users joined (one query per page)."""
    return Membership.objects.filter(chat=chat).select_related("user")
