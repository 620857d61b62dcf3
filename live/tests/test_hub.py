"""The hub (live/hub.py) against the log's own rule, on both databases: what each socket gets
is exactly what GET /events/ gives its user, in the same order, with joins and leaves in the
middle of what the hub reads at once."""

import asyncio
import random

import orjson
import pytest
from asgiref.sync import sync_to_async
from django.db import transaction

from accounts.tests.factories import UserFactory
from chats.models import Membership
from chats.services import chat_create, chat_join, chat_leave
from live import log
from messaging.services import chat_mark_read, message_send
from messaging.tests.live_sockets import Sockets, receive_with_pos, run_async

pytestmark = pytest.mark.django_db(transaction=True)


def stored_for(user, since: str) -> list[dict]:
    frames, has_more = log.events_after(user_id=user.pk, since=log.parse_pos(since), limit=1000)
    assert not has_more
    return [orjson.loads(text) for text in frames]


@run_async
async def test_a_join_and_a_leave_read_in_one_batch_bound_what_the_joiner_gets():
    alice = await sync_to_async(UserFactory)(username="alice")
    bob = await sync_to_async(UserFactory)(username="bob")
    chat = await sync_to_async(chat_create)(creator=alice, name="general")
    start = await sync_to_async(log.current_position)()

    def story():
        # One sync call: the hub's reads wait for this thread, so it reads all of it at once.
        for step in (
            lambda: message_send(chat=chat, author=alice, body="before"),
            lambda: chat_join(chat=chat, user=bob),
            lambda: message_send(chat=chat, author=alice, body="during"),
            lambda: chat_leave(chat=chat, user=bob),
            lambda: message_send(chat=chat, author=alice, body="after"),
        ):
            with transaction.atomic():
                step()

    async with Sockets() as sockets:
        socket = await sockets.open(bob)
        await sync_to_async(story)()
        got = [await receive_with_pos(socket) for _ in range(3)]
        await sockets.assert_quiet(bob)
    assert [(f["type"], f["data"].get("body")) for f in got] == [
        ("member.joined", None),
        ("message.created", "during"),
        ("member.left", None),
    ]
    assert got == await sync_to_async(stored_for)(bob, start)


@run_async
async def test_random_joins_leaves_and_messages_reach_each_socket_as_the_log_has_them():
    rng = random.Random(7)
    users = [await sync_to_async(UserFactory)(username=f"u{i}") for i in range(4)]
    owner = users[0]
    chats = [
        await sync_to_async(chat_create)(creator=owner, name=f"c{i}", member_ids=[users[1].pk])
        for i in range(3)
    ]
    start = await sync_to_async(log.current_position)()

    def step():
        chat = rng.choice(chats)
        user = rng.choice(users[1:])
        member = Membership.objects.filter(chat=chat, user=user).exists()
        roll = rng.random()
        with transaction.atomic():
            if roll < 0.25:
                (chat_leave if member else chat_join)(chat=chat, user=user)
            elif roll < 0.35 and member:
                last = message_send(chat=chat, author=owner, body="to read")[0]
                chat_mark_read(chat=chat, user=user, message_id=last.pk)
            else:
                message_send(chat=chat, author=owner, body=f"m{rng.random():.6f}")

    async with Sockets() as sockets:
        socket_of = {user.pk: await sockets.open(user) for user in users}
        for _ in range(8):
            await sync_to_async(lambda: [step() for _ in range(rng.randint(1, 12))])()
        await sockets.assert_quiet()  # the hub has delivered everything committed
        for user in users:
            expected = await sync_to_async(stored_for)(user, start)
            got = [await receive_with_pos(socket_of[user.pk]) for _ in range(len(expected))]
            assert got == expected
        await sockets.assert_quiet(*users)


@run_async
async def test_a_client_that_stops_reading_holds_up_no_one_and_is_closed_with_1013(
    monkeypatch,
):
    """The hub queues each socket's frames in its own outbox: one client that stops reading
    (its sends never complete) does not stall the others, and is closed with 1013 once it
    is OUTBOX_LIMIT frames behind, to resume with `since`."""
    from live import hub as hub_module

    monkeypatch.setattr(hub_module, "OUTBOX_LIMIT", 5)
    alice = await sync_to_async(UserFactory)(username="alice")
    bob = await sync_to_async(UserFactory)(username="bob")
    chat = await sync_to_async(chat_create)(creator=alice, name="general", member_ids=[bob.pk])
    async with Sockets() as sockets:
        slow, fine = await sockets.open(alice), await sockets.open(bob)
        (consumer,) = hub_module.hub().users[alice.pk].sockets
        stuck = asyncio.Event()  # never set: the client reads nothing more
        real_send = consumer.base_send

        async def base_send(message):
            if message["type"] == "websocket.send":
                await stuck.wait()
            await real_send(message)

        consumer.base_send = base_send
        for i in range(12):
            await sync_to_async(message_send)(chat=chat, author=bob, body=f"m{i}")
        got = [await receive_with_pos(fine) for _ in range(12)]
        assert [f["data"]["body"] for f in got] == [f"m{i}" for i in range(12)]
        closed = await slow.receive_output(timeout=5)
        assert closed == {"type": "websocket.close", "code": 1013}
        assert alice.pk not in hub_module.hub().users
        await sockets.assert_quiet(bob)
