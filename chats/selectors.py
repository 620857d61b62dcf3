"""Chat reads scoped to the caller: instances for permission checks and writes, rows (see
chats.rows) for bodies. Every list costs a fixed number of queries."""

from django.db.models import CharField as CharFieldType
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery

from chats.models import Chat, Membership
from chats.rows import chat_rows, display_name, member_rows


def chats_with_role(user) -> QuerySet[Chat]:
    """Group chats and the caller's own direct chats, annotated with `my_role` only.

    Someone else's direct chat is not in it, so it is a 404. For endpoints that need to know
    whether the caller may see a chat and in what role (permissions), not its body.
    """
    mine = Membership.objects.filter(chat=OuterRef("pk"), user=user)
    return Chat.objects.filter(Q(kind=Chat.Kind.GROUP) | Q(Exists(mine))).annotate(
        my_role=Subquery(mine.values("role")[:1], output_field=CharFieldType())
    )


def chat_list(
    *, user, mine: bool = False, kind: str | None = None, search: str | None = None
) -> QuerySet:
    """The list endpoint's rows (chats.rows.chat_rows), narrowed by the query parameters.

    `mine`: only the caller's chats, through one join on their memberships (the
    (user, chat) index). Otherwise group chats and the caller's direct chats.
    """
    if mine:
        chats = Chat.objects.filter(memberships__user=user)
    else:
        visible = Membership.objects.filter(chat=OuterRef("pk"), user=user)
        chats = Chat.objects.filter(Q(kind=Chat.Kind.GROUP) | Q(Exists(visible)))
    if kind:
        chats = chats.filter(kind=kind)
    if search:
        # The name the caller sees: a direct chat is found by the other member's username.
        chats = chats.alias(_name=display_name(user.pk)).filter(_name__icontains=search)
    return chat_rows(chats, user_id=user.pk, mine=mine)


def chat_row(*, user, chat_id: int) -> dict | None:
    """One chat's row as the caller sees it, or None when they may not see it."""
    return chat_list(user=user).filter(pk=chat_id).first()


def chat_members(chat: Chat) -> QuerySet:
    """The chat's member rows (chats.rows.member_rows), users joined: one query per page."""
    return member_rows(Membership.objects.filter(chat=chat))
