"""Factories for chats and memberships."""

import factory
from django.db.models import F

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
    """A membership, its chat's member_count bumped as chats.services does, with the
    event-log span a join opens (so the member's sockets and GET /events/ hear the chat from
    now on), but no event."""

    class Meta:
        model = Membership

    chat = factory.SubFactory(ChatFactory)
    user = factory.SubFactory(UserFactory)
    role = Membership.Role.MEMBER

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        membership = super()._create(model_class, *args, **kwargs)
        log.span_open(user_id=membership.user_id, chat_id=membership.chat_id)
        Chat.objects.filter(pk=membership.chat_id).update(member_count=F("member_count") + 1)
        membership.chat.member_count += 1
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


def members_bulk_add(chat, users, role=Membership.Role.MEMBER) -> None:
    """Many memberships in one statement (no events), the chat's member_count bumped."""
    users = list(users)
    Membership.objects.bulk_create([Membership(chat=chat, user=u, role=role) for u in users])
    Chat.objects.filter(pk=chat.pk).update(member_count=F("member_count") + len(users))
    chat.member_count += len(users)


def membership_bare(chat, user, role=Membership.Role.MEMBER) -> Membership:
    """A membership made directly, without the event-log span (for a test that sends its
    member.joined itself, which opens it), the chat's member_count bumped."""
    membership = Membership.objects.create(chat=chat, user=user, role=role)
    Chat.objects.filter(pk=chat.pk).update(member_count=F("member_count") + 1)
    chat.member_count += 1
    return membership


def membership_delete(chat, user) -> None:
    """Delete a membership directly (no events, no hand-over), the chat's member_count kept."""
    deleted, _ = Membership.objects.filter(chat=chat, user=user).delete()
    Chat.objects.filter(pk=chat.pk).update(member_count=F("member_count") - deleted)
    chat.member_count -= deleted
