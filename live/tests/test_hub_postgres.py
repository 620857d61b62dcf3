"""The hub (live/hub.py) under concurrent transactions, on PostgreSQL: real threads, each with
its own connection, and sockets through the ASGI application.

The failure case of relaying frames in commit order: transaction A (chat 1) stores its frame
first, so it gets the smaller position; B (chat 2) stores one after it and commits first. A
relay in commit order delivered B's frame, then A's; a client that stored the newest pos
(B's) and dropped off before A's frame arrived resumed after B and never got A. The hub
reads the log in position order behind the watermark: it holds B back until A has
committed, then delivers A, B.
"""

import asyncio
import random
import threading

import orjson
import pytest
from asgiref.sync import sync_to_async
from django.db import connection, transaction

from accounts.tests.factories import UserFactory
from chats.services import chat_create
from live import log
from messaging.services import message_send
from messaging.tests.live_sockets import (
    Sockets,
    committed,
    receive_with_pos,
    run_async,
    settle,
    token_for,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


class HeldTransaction:
    """Runs `function` in a transaction on a thread of its own and holds it open (not
    committed) until `commit()`."""

    def __init__(self, function, *args, **kwargs) -> None:
        self.stored, self.release = threading.Event(), threading.Event()
        self.errors: list[BaseException] = []

        def run():
            try:
                with transaction.atomic():
                    function(*args, **kwargs)
                    self.stored.set()
                    assert self.release.wait(30)
            except BaseException as exc:
                self.errors.append(exc)
                self.stored.set()
            finally:
                connection.close()

        self.thread = threading.Thread(target=run)
        self.thread.start()
        assert self.stored.wait(30)

    async def commit(self) -> None:
        self.release.set()
        await asyncio.to_thread(self.thread.join, 30)
        assert not self.thread.is_alive() and not self.errors


@sync_to_async
def two_chats():
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    first = chat_create(creator=alice, name="first", member_ids=[bob.pk])
    second = chat_create(creator=alice, name="second", member_ids=[bob.pk])
    return alice, bob, first, second


def key(frame) -> tuple[int, int]:
    return log.parse_pos(frame["pos"])


@run_async
async def test_a_frame_with_an_earlier_pos_committed_later_comes_first():
    alice, bob, first, second = await two_chats()
    async with Sockets() as sockets:
        live = await sockets.open(bob)
        start = await sync_to_async(log.current_position)()
        earlier = await asyncio.to_thread(
            HeldTransaction, message_send, chat=first, author=alice, body="earlier pos"
        )
        await committed(message_send, chat=second, author=alice, body="later pos")
        # "later pos" has committed, but a transaction with a smaller id still runs: the hub
        # holds it back (a commit-order relay would have sent it now, first).
        await sockets.assert_quiet(bob)
        await earlier.commit()

        one, two = await receive_with_pos(live), await receive_with_pos(live)
        assert [one["data"]["body"], two["data"]["body"]] == ["earlier pos", "later pos"]
        assert key(one) < key(two)
        # A client that stored the pos of the first and dropped off gets the second.
        resumed = await sockets.raw(f"?token={token_for(bob)}&since={one['pos']}")
        assert await receive_with_pos(resumed) == two
        # And GET /events/ has the same frames in the same order.
        frames, _ = await sync_to_async(log.events_after)(
            user_id=bob.pk, since=log.parse_pos(start), limit=10
        )
        assert [orjson.loads(text) for text in frames] == [one, two]


@run_async
async def test_nothing_reaches_a_socket_before_the_commit():
    alice, bob, first, _ = await two_chats()
    async with Sockets() as sockets:
        socket = await sockets.open(bob)
        held = await asyncio.to_thread(
            HeldTransaction, message_send, chat=first, author=alice, body="pending"
        )
        await sockets.assert_quiet(bob)  # stored, not committed: not sent
        await held.commit()
        assert (await receive_with_pos(socket))["data"]["body"] == "pending"
        await sockets.assert_quiet(bob)


@run_async
async def test_six_concurrent_senders_and_a_socket_killed_mid_burst_get_each_frame_once():
    reader = await sync_to_async(UserFactory)(username="reader")
    senders = await sync_to_async(UserFactory.create_batch)(6)
    chats = [
        await sync_to_async(chat_create)(
            creator=reader, name=f"c{i}", member_ids=[s.pk for s in senders]
        )
        for i in range(4)
    ]
    start = await sync_to_async(log.current_position)()
    per_sender = 15

    def sender(user, seed):
        rng = random.Random(seed)
        try:
            for i in range(per_sender):
                message_send(chat=rng.choice(chats), author=user, body=f"{user.pk}:{i}")
        finally:
            connection.close()

    async with Sockets() as sockets:
        first = await sockets.raw(f"?token={token_for(reader)}&since={start}")
        threads = [
            threading.Thread(target=sender, args=(user, seed)) for seed, user in enumerate(senders)
        ]
        for thread in threads:
            thread.start()
        got = [await receive_with_pos(first) for _ in range(20)]
        await first.disconnect()  # killed in the middle of the burst
        second = await sockets.raw(f"?token={token_for(reader)}&since={got[-1]['pos']}")
        for thread in threads:
            await asyncio.to_thread(thread.join, 60)
        while len(got) < 6 * per_sender:
            got.append(await receive_with_pos(second))
        await settle()
        await second.send_json_to({"type": "ping"})
        assert await receive_with_pos(second) == {"type": "pong"}  # and nothing more
    bodies = [frame["data"]["body"] for frame in got]
    assert len(bodies) == len(set(bodies)) == 6 * per_sender
    assert [key(frame) for frame in got] == sorted({key(frame) for frame in got})
    everything, _ = await sync_to_async(log.events_after)(
        user_id=reader.pk, since=log.parse_pos(start), limit=1000
    )
    assert got == [orjson.loads(text) for text in everything]  # what GET /events/ gives
