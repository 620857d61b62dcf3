"""Live events as sockets see them, with the emitters of messaging.events called directly.

Each event type of the contract reaches the chat's members and no one else; joining and
leaving take effect on open sockets; a rolled-back transaction sends nothing.
(test_live_api.py drives the same through the API; live/tests/test_hub*.py the ordering,
the wait for the commit and several processes.)
"""

import pytest
from asgiref.sync import sync_to_async
from django.db import transaction

from accounts.tests.factories import UserFactory
from chats import events as chat_events
from chats.models import Membership
from chats.tests.factories import group_chat, membership_bare, membership_delete
from messaging import events
from messaging.models import Message
from messaging.rows import message_event_body
from messaging.tests.factories import MessageFactory
from messaging.tests.live_sockets import (
    Sockets,
    committed,
    receive,
    run_async,
)

pytestmark = pytest.mark.django_db(transaction=True)


def ref(user) -> dict:
    return {"id": user.pk, "username": user.username}


class World:
    """alice owns `chat`, bob is a member; carol is an outsider with a chat of her own."""

    def __init__(self):
        self.alice, self.bob, self.carol = UserFactory(), UserFactory(), UserFactory()
        self.chat = group_chat(self.alice, members=[self.bob], description="about")
        self.carols_chat = group_chat(self.carol)
        self.message = MessageFactory(chat=self.chat, author=self.alice, body="hello")


world = sync_to_async(World)


async def assert_frame_for_members_only(sockets, w, frame):
    """Alice's and bob's sockets get exactly `frame`; carol's gets nothing."""
    assert await receive(sockets.alice) == frame
    assert await receive(sockets.bob) == frame
    await sockets.assert_quiet(w.alice, w.bob, w.carol)


async def open_all(sockets, w):
    sockets.alice = await sockets.open(w.alice)
    sockets.bob = await sockets.open(w.bob)
    sockets.carol = await sockets.open(w.carol)


def message_data(message) -> dict:
    message.refresh_from_db()
    return {
        "id": message.pk,
        "chat_id": message.chat_id,
        "author": ref(message.author),
        "body": message.body,
        "created_at": message.created_at.isoformat().replace("+00:00", "Z"),
        "edited_at": message.edited_at and message.edited_at.isoformat().replace("+00:00", "Z"),
        "like_count": message.like_count,
        "client_id": message.client_id,
        "attachments": [],
        "reply_to": None,
        "reply_count": 0,
        "reactions": [],
        "pinned": False,
        "mentions": [],
    }


@run_async
async def test_message_created_and_updated():
    w = await world()
    async with Sockets() as sockets:
        await open_all(sockets, w)
        data = await sync_to_async(message_data)(w.message)
        assert "liked_by_me" not in await sync_to_async(message_event_body)(w.message)

        await committed(events.message_created, w.message)
        frame = {"type": "message.created", "chat_id": w.chat.pk, "data": data}
        await assert_frame_for_members_only(sockets, w, frame)

        await committed(events.message_updated, w.message)
        frame = {"type": "message.updated", "chat_id": w.chat.pk, "data": data}
        await assert_frame_for_members_only(sockets, w, frame)


@run_async
async def test_message_deleted_and_liked():
    w = await world()
    async with Sockets() as sockets:
        await open_all(sockets, w)

        await committed(events.message_deleted, chat_id=w.chat.pk, message_id=w.message.pk)
        frame = {"type": "message.deleted", "chat_id": w.chat.pk, "data": {"id": w.message.pk}}
        await assert_frame_for_members_only(sockets, w, frame)

        w.message.like_count = 1
        await committed(events.message_liked, message=w.message, user=w.bob, liked=True)
        data = {"id": w.message.pk, "like_count": 1, "user": ref(w.bob), "liked": True}
        frame = {"type": "message.liked", "chat_id": w.chat.pk, "data": data}
        await assert_frame_for_members_only(sockets, w, frame)


@run_async
async def test_chat_updated_never_carries_the_passkey():
    w = await world()
    w.chat.passkey, w.chat.capacity = "secret-pass", 5
    async with Sockets() as sockets:
        await open_all(sockets, w)
        await committed(chat_events.chat_updated, w.chat)
        data = {
            "id": w.chat.pk,
            "name": w.chat.name,
            "description": "about",
            "is_private": True,
            "capacity": 5,
        }
        frame = {"type": "chat.updated", "chat_id": w.chat.pk, "data": data}
        await assert_frame_for_members_only(sockets, w, frame)
        assert "secret-pass" not in str(frame)


@run_async
async def test_chat_deleted_reaches_members_once_then_nothing_more():
    w = await world()
    async with Sockets() as sockets:
        await open_all(sockets, w)
        await committed(
            chat_events.chat_deleted, chat_id=w.chat.pk, member_ids=[w.alice.pk, w.bob.pk]
        )
        frame = {"type": "chat.deleted", "chat_id": w.chat.pk, "data": {"id": w.chat.pk}}
        await assert_frame_for_members_only(sockets, w, frame)
        # The sockets left the chat: a late event of it reaches no one.
        await committed(events.message_deleted, chat_id=w.chat.pk, message_id=1)
        await sockets.assert_quiet(w.alice, w.bob)


def join(chat, user, role="member"):
    membership_bare(chat, user, role)
    chat_events.member_joined(chat_id=chat.pk, user=user, role=role)


def leave(chat, user):
    role = Membership.objects.get(chat=chat, user=user).role
    membership_delete(chat, user)
    chat_events.member_left(chat_id=chat.pk, user=user, role=role)


@run_async
async def test_join_subscribes_open_sockets():
    w = await world()
    async with Sockets() as sockets:
        await open_all(sockets, w)
        carol_second = await sockets.open(w.carol)

        await committed(join, w.chat, w.carol)
        frame = {
            "type": "member.joined",
            "chat_id": w.chat.pk,
            "data": {"user": ref(w.carol), "role": "member"},
        }
        members = [
            (w.alice, sockets.alice),
            (w.bob, sockets.bob),
            (w.carol, sockets.carol),
            (w.carol, carol_second),
        ]
        for _user, socket in members:  # the joiner's sockets too, exactly once
            assert await receive(socket) == frame
        await sockets.assert_quiet(w.alice, w.bob, w.carol)

        # From now on carol's open sockets hear the chat, and she may type in it.
        await committed(events.message_created, w.message)
        for _user, socket in members:
            assert (await receive(socket))["type"] == "message.created"
        await sockets.carol.send_json_to({"type": "typing", "chat_id": w.chat.pk})
        assert (await receive(sockets.bob))["data"] == {"user": ref(w.carol)}


@run_async
async def test_events_of_the_joining_transaction_reach_the_joiner():
    """A chat created with members and a first message in one transaction (as a new direct
    chat is): the new members' sockets subscribe only after the commit, yet get it all."""
    w = await world()
    dave = await sync_to_async(UserFactory)()

    def create_chat_with_first_message():
        chat = group_chat(w.alice)  # no events from the factory
        membership_bare(chat, dave)
        chat_events.member_joined(chat_id=chat.pk, user=dave, role="member")
        MessageFactory(chat=chat, author=w.alice, body="welcome")  # message.created
        return chat

    async with Sockets() as sockets:
        await open_all(sockets, w)
        dave_socket = await sockets.open(dave)
        chat = await committed(create_chat_with_first_message)

        assert (await receive(dave_socket))["type"] == "member.joined"
        created = await receive(dave_socket)
        assert (created["type"], created["chat_id"]) == ("message.created", chat.pk)
        assert created["data"]["body"] == "welcome"
        await sockets.assert_quiet(dave)
        await sockets.assert_quiet(w.bob)  # not a member of that chat


@run_async
async def test_leave_stops_events_at_once_and_the_leaver_hears_it_once():
    w = await world()
    async with Sockets() as sockets:
        await open_all(sockets, w)
        bob_second = await sockets.open(w.bob)

        # Left, then a message, in quick succession: bob's sockets get the leave only.
        await committed(leave, w.chat, w.bob)
        await committed(events.message_created, w.message)

        left = {
            "type": "member.left",
            "chat_id": w.chat.pk,
            "data": {"user": ref(w.bob), "role": "member"},
        }
        assert await receive(sockets.alice) == left
        assert (await receive(sockets.alice))["type"] == "message.created"
        for socket in (sockets.bob, bob_second):
            assert await receive(socket) == left
        await sockets.assert_quiet(w.alice, w.bob, w.carol)

        # And bob may no longer type there.
        await sockets.bob.send_json_to({"type": "typing", "chat_id": w.chat.pk})
        assert (await receive(sockets.bob))["code"] == "not_a_member"


@run_async
async def test_leaving_one_chat_keeps_the_others():
    w = await world()
    other = await sync_to_async(group_chat)(w.carol, members=[w.bob])
    async with Sockets() as sockets:
        await open_all(sockets, w)
        await committed(leave, w.chat, w.bob)
        assert (await receive(sockets.bob))["type"] == "member.left"
        await committed(MessageFactory, chat=other, author=w.carol, body="x")
        assert (await receive(sockets.bob))["chat_id"] == other.pk


@run_async
async def test_rejoin_after_leave():
    w = await world()
    async with Sockets() as sockets:
        await open_all(sockets, w)
        await committed(leave, w.chat, w.bob)
        await committed(join, w.chat, w.bob)
        assert (await receive(sockets.bob))["type"] == "member.left"
        # Once a socket has its own member.joined, it is subscribed (that frame comes after
        # the subscribe): what is committed from then on reaches it. A client fetches
        # ?after= at that point to fill the gap since the join committed.
        assert (await receive(sockets.bob))["type"] == "member.joined"
        await committed(events.message_created, w.message)
        assert (await receive(sockets.bob))["type"] == "message.created"
        await sockets.assert_quiet(w.bob)


# --- transactions ---------------------------------------------------------------------------
@run_async
async def test_rolled_back_transaction_sends_nothing():
    w = await world()

    def change_then_fail():
        with transaction.atomic():
            Message.objects.filter(pk=w.message.pk).update(body="changed")
            events.message_updated(w.message)
            chat_events.member_left(chat_id=w.chat.pk, user=w.bob, role="member")
            raise RuntimeError("rolled back")

    def savepoint_rolled_back():
        with transaction.atomic():
            try:
                with transaction.atomic():
                    chat_events.chat_deleted(chat_id=w.chat.pk, member_ids=[w.alice.pk, w.bob.pk])
                    raise RuntimeError("inner rolled back")
            except RuntimeError:
                pass
            events.message_deleted(chat_id=w.chat.pk, message_id=w.message.pk)

    async with Sockets() as sockets:
        await open_all(sockets, w)
        with pytest.raises(RuntimeError):
            await sync_to_async(change_then_fail)()
        await sockets.assert_quiet(w.alice)
        await sockets.assert_quiet(w.bob)

        # Only what the committed outer transaction emitted goes out; bob is still subscribed.
        await sync_to_async(savepoint_rolled_back)()
        assert (await receive(sockets.bob))["type"] == "message.deleted"
        await sockets.assert_quiet(w.bob)
        assert (await receive(sockets.alice))["type"] == "message.deleted"
        await sockets.assert_quiet(w.alice)
