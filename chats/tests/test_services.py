"""Service edges the API does not reach: leaving a direct chat (account deletion), bad fields."""

import pytest

from accounts.tests.factories import UserFactory
from chats import services
from chats.models import Membership
from chats.tests.factories import direct_chat, group_chat

pytestmark = pytest.mark.django_db


def test_leave_works_on_direct_chats_for_account_deletion(
    sent_events, django_capture_on_commit_callbacks
):
    a, b = UserFactory(), UserFactory()
    chat = direct_chat(a, b)

    with django_capture_on_commit_callbacks(execute=True):
        services.chat_leave(chat=chat, user=a)

    assert list(chat.memberships.values_list("user_id", flat=True)) == [b.pk]
    assert sent_events.types() == [(f"chat.{chat.pk}", "member.left")]


def test_leave_is_idempotent():
    owner, member = UserFactory(), UserFactory()
    chat = group_chat(owner, members=[member])

    services.chat_leave(chat=chat, user=member)
    services.chat_leave(chat=chat, user=member)

    assert list(Membership.objects.values_list("user_id", "role")) == [(owner.pk, "owner")]


def test_update_refuses_unknown_fields():
    chat = group_chat(UserFactory())

    with pytest.raises(TypeError):
        services.chat_update(chat=chat, invite_code="mine")


def test_join_returns_whether_it_joined():
    chat = group_chat(UserFactory())
    user = UserFactory()

    assert services.chat_join(chat=chat, user=user)[1] is True
    assert services.chat_join(chat=chat, user=user)[1] is False


def test_member_add_returns_whether_it_added():
    chat = group_chat(UserFactory())
    user = UserFactory()

    first, created = services.member_add(chat=chat, user=user)
    again, created_again = services.member_add(chat=chat, user=user)

    assert (created, created_again) == (True, False)
    assert first.pk == again.pk
