"""chitchat.invariants notices every kind of drift, in one query; the bulk loader repairs it.

These tests break the counters on purpose, so they opt out of the check after each test.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from chats.models import Chat, Membership
from chats.tests.factories import group_chat
from chitchat import bulkload
from chitchat.invariants import assert_invariants, check_invariants
from chitchat.testing import raised, run_concurrently
from messaging.models import Message
from messaging.tests.factories import LikeFactory, MessageFactory

pytestmark = [pytest.mark.django_db, pytest.mark.no_invariants]


@pytest.fixture
def talk():
    """A chat with two messages, the first liked once; all through the services."""
    owner, member = UserFactory(), UserFactory()
    chat = group_chat(owner, members=[member])
    first = MessageFactory(chat=chat, author=owner, body="one")
    second = MessageFactory(chat=chat, author=member, body="two")
    LikeFactory(message=first, user=member)
    return {"chat": chat, "first": first, "second": second, "owner": owner, "member": member}


def test_data_made_through_the_services_is_consistent(talk, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert check_invariants() == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"message_count": 5}, "message_count is 5, counted 2"),
        ({"message_count": 0}, "message_count is 0, counted 2"),
        ({"last_message_id": None}, "last_message_id is None, newest is"),
        ({"last_activity_at": timezone.now() - timedelta(days=1)}, "older than its newest"),
    ],
)
def test_each_chat_counter_out_of_step_is_reported(talk, change, expected):
    chat = talk["chat"]
    Chat.objects.filter(pk=chat.pk).update(**change)

    problems = check_invariants()

    assert len(problems) == 1
    assert problems[0].startswith(f"Chat {chat.pk}: ")
    assert expected in problems[0]
    with pytest.raises(AssertionError, match="Invariants broken"):
        assert_invariants()


def test_last_message_pointing_at_an_older_message_is_reported(talk):
    Chat.objects.filter(pk=talk["chat"].pk).update(last_message_id=talk["first"].pk)
    assert check_invariants() == [
        f"Chat {talk['chat'].pk}: last_message_id is {talk['first'].pk}, "
        f"newest is {talk['second'].pk}"
    ]


def test_a_chat_without_messages_must_have_no_count_and_no_last_message(talk):
    empty = group_chat(UserFactory())
    Chat.objects.filter(pk=empty.pk).update(message_count=1, last_message_id=talk["first"].pk)
    problems = check_invariants()
    assert f"Chat {empty.pk}: message_count is 1, counted 0" in problems
    assert f"Chat {empty.pk}: last_message_id is {talk['first'].pk}, newest is None" in problems


def test_like_count_out_of_step_is_reported(talk):
    Message.objects.filter(pk=talk["second"].pk).update(like_count=3)
    Message.objects.filter(pk=talk["first"].pk).update(like_count=0)
    assert sorted(check_invariants()) == sorted(
        [
            f"Message {talk['second'].pk}: like_count is 3, counted 0",
            f"Message {talk['first'].pk}: like_count is 0, counted 1",
        ]
    )


def test_a_read_marker_naming_a_message_of_another_chat_is_reported(talk):
    elsewhere = MessageFactory()
    membership = Membership.objects.get(chat=talk["chat"], user=talk["member"])
    membership.last_read_message_id = elsewhere.pk
    membership.save(update_fields=["last_read_message_id"])
    assert check_invariants() == [
        f"Membership {membership.pk}: last_read_message_id is {elsewhere.pk}, "
        f"a Message of chat {elsewhere.chat_id}"
    ]
    # A marker past a deleted message is fine (it named a message of this chat).
    membership.last_read_message_id = talk["second"].pk + 1000
    membership.save(update_fields=["last_read_message_id"])
    assert check_invariants() == []


def test_the_check_is_one_query_however_much_is_wrong(talk, django_assert_num_queries):
    for _ in range(30):
        MessageFactory(chat=talk["chat"], author=talk["owner"])
    Message.objects.update(like_count=7)
    with django_assert_num_queries(1):
        problems = check_invariants()
    assert len(problems) == 20  # capped: the first few are enough to debug


def test_recount_repairs_every_counter(talk):
    empty = group_chat(UserFactory())
    Chat.objects.filter(pk=empty.pk).update(message_count=4, last_message_id=talk["first"].pk)
    Chat.objects.filter(pk=talk["chat"].pk).update(
        message_count=0, last_message_id=None, last_activity_at=timezone.now() - timedelta(days=9)
    )
    Message.objects.update(like_count=5)
    assert check_invariants() != []

    bulkload.recount()

    assert check_invariants() == []
    chat = Chat.objects.get(pk=talk["chat"].pk)
    assert (chat.message_count, chat.last_message_id) == (2, talk["second"].pk)
    assert chat.last_activity_at == talk["second"].created_at


def test_mark_read_leaves_the_asked_number_unread(talk):
    chat, owner, member = talk["chat"], talk["owner"], talk["member"]
    third = MessageFactory(chat=chat, author=owner)

    bulkload.mark_read()
    bulkload.mark_read(unread=1, user_ids=[member.pk])

    markers = dict(Membership.objects.filter(chat=chat).values_list("user", "last_read_message_id"))
    assert markers == {owner.pk: third.pk, member.pk: talk["second"].pk}
    bulkload.mark_read(unread=5, user_ids=[member.pk])  # more than the chat has: none read
    assert Membership.objects.get(chat=chat, user=member).last_read_message_id is None


def test_run_concurrently_returns_each_outcome_in_order():
    def boom():
        raise ValueError("boom")

    outcomes = run_concurrently([lambda: 1, boom, lambda: "three"])

    assert outcomes[0] == 1 and outcomes[2] == "three"
    assert [type(exc) for exc in raised(outcomes)] == [ValueError]


def test_message_factory_sends_through_the_service():
    message = MessageFactory()  # a new author in a new chat of their own
    chat = Chat.objects.get(pk=message.chat_id)
    assert chat.created_by_id == message.author_id
    assert (chat.message_count, chat.last_message_id) == (1, message.pk)
    with pytest.raises(TypeError, match="like_count"):
        MessageFactory(chat=chat, like_count=3)
    assert check_invariants() == []
