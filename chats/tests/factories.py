"""Factories for chats and memberships."""

import factory

from accounts.tests.factories import UserFactory
from chats.models import Chat, Membership
from live import log


class ChatFactory(factory.django.DjangoModelFactory):
    """A public group chat; pass `passkey` for a private one."""

    class Meta:
        model = Chat

    kind = Chat.Kind.GROUP
    name = factory.Sequence(lambda n: f"chat {n}")
    created_by = factory.SubFactory(UserFactory)


class MembershipFactory(factory.django.DjangoModelFactory):
    """A membership, with the event-log span a join opens (so the member's sockets and
    GET /events/ hear the chat from now on), but no event."""

    class Meta:
        model = Membership

    chat = factory.SubFactory(ChatFactory)
    user = factory.SubFactory(UserFactory)
    role = Membership.Role.MEMBER

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        membership = super()._create(model_class, *args, **kwargs)
        log.span_open(user_id=membership.user_id, chat_id=membership.chat_id)
        return membership


def group_chat(owner, *, members=(), admins=(), **fields) -> Chat:
    """A group chat owned by `owner`, with the given admins and members (no events)."""
    chat = ChatFactory(created_by=owner, **fields)
    MembershipFactory(chat=chat, user=owner, role=Membership.Role.OWNER)
    for user in admins:
        MembershipFactory(chat=chat, user=user, role=Membership.Role.ADMIN)
    for user in members:
        MembershipFactory(chat=chat, user=user, role=Membership.Role.MEMBER)
    return chat


def direct_chat(user_a, user_b) -> Chat:
    """The direct chat of a pair, built directly (no events)."""
    chat = ChatFactory(
        kind=Chat.Kind.DIRECT,
        name="",
        direct_key=Chat.direct_key_for(user_a.pk, user_b.pk),
        created_by=user_a,
    )
    MembershipFactory(chat=chat, user=user_a)
    MembershipFactory(chat=chat, user=user_b)
    return chat
