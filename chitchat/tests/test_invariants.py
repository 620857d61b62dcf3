"""The invariant checker the fault tests rely on finds each kind of disagreement."""

import pytest

from accounts.tests.factories import UserFactory
from chats.models import Chat
from chats.tests.factories import group_chat
from chitchat.invariants import check_invariants
from messaging.models import Message
from messaging.services import message_like, message_send


@pytest.fixture
def chat_with_a_liked_message(db):
    alice = UserFactory()
    chat = group_chat(alice)
    message_send(chat=chat, author=alice, body="first")
    message = message_send(chat=chat, author=alice, body="second")[0]
    message_like(message=message, user=alice)
    return chat, message


def test_agreeing_counters_give_no_problem(chat_with_a_liked_message):
    assert check_invariants() == []


@pytest.mark.parametrize(
    "corrupt",
    [
        lambda chat, message: Chat.objects.filter(pk=chat.pk).update(message_count=5),
        lambda chat, message: Chat.objects.filter(pk=chat.pk).update(last_message=None),
        lambda chat, message: Chat.objects.filter(pk=chat.pk).update(
            last_message=Message.objects.filter(chat=chat).order_by("id").first()
        ),
        lambda chat, message: Message.objects.filter(pk=message.pk).update(like_count=0),
    ],
    ids=["message_count", "last_message_null", "last_message_older", "like_count"],
)
def test_each_disagreement_is_found(chat_with_a_liked_message, corrupt):
    chat, message = chat_with_a_liked_message
    corrupt(chat, message)
    assert len(check_invariants()) == 1
