"""The socket's `?since=`: replay from the log, then live, with no gap and no duplicate."""

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer

from accounts.tests.factories import UserFactory
from chats.services import chat_create, chat_join, chat_leave
from live import consumers, log
from live import events as live_events
from live.models import PurgeHorizon
from messaging.services import chat_mark_read, message_send
from messaging.tests.live_sockets import (
    TIMEOUT,
    Sockets,
    committed,
    receive_with_pos,
    run_async,
    token_for,
)

pytestmark = pytest.mark.django_db(transaction=True)


@sync_to_async
def world():
    alice, bob, carol = (UserFactory(username=name) for name in ("alice", "bob", "carol"))
    chat = chat_create(creator=alice, name="general")
    chat_join(chat=chat, user=bob)
    return alice, bob, carol, chat


def send(chat, author, body):
    return committed(message_send, chat=chat, author=author, body=body)


@sync_to_async
def current_pos() -> str:
    return log.current_position()


async def resume(sockets, user, since):
    return await sockets.raw(f"?token={token_for(user)}&since={since}")


async def expect_pong(communicator):
    """Nothing else is queued for the socket: a ping is answered next."""
    await communicator.send_json_to({"type": "ping"})
    assert await receive_with_pos(communicator) == {"type": "pong"}


def key(frame) -> tuple[int, int]:
    return log.parse_pos(frame["pos"])


@run_async
async def test_socket_killed_mid_burst_resumes_every_event_once_in_order():
    alice, bob, _, chat = await world()
    async with Sockets() as sockets:
        first = await sockets.open(bob)
        for i in range(20):
            await send(chat, alice, f"m{i}")
        got = [await receive_with_pos(first) for _ in range(7)]
        await first.disconnect()  # 13 frames were on their way to it
        for i in range(20, 25):
            await send(chat, alice, f"m{i}")
        second = await resume(sockets, bob, got[-1]["pos"])
        got += [await receive_with_pos(second) for _ in range(18)]
        assert [frame["data"]["body"] for frame in got] == [f"m{i}" for i in range(25)]
        assert [key(frame) for frame in got] == sorted(key(frame) for frame in got)
        # Then live, each once, with its pos.
        await send(chat, alice, "live")
        live = await receive_with_pos(second)
        assert live["data"]["body"] == "live" and key(live) > key(got[-1])
        await expect_pong(second)


@run_async
async def test_events_committed_during_the_replay_come_once(monkeypatch):
    alice, bob, _, chat = await world()
    start = await current_pos()
    for i in range(5):
        await send(chat, alice, f"m{i}")
    monkeypatch.setattr(consumers, "REPLAY_PAGE", 2)
    real_events_after = log.events_after
    calls = []

    def events_after_with_a_send_in_between(**kwargs):
        page = real_events_after(**kwargs)
        calls.append(kwargs["since"])
        if len(calls) == 1:
            # Committed after the socket joined its groups and after the first page was
            # read: its live copy is queued for the socket AND a later page has it.
            from django.db import transaction

            with transaction.atomic():
                message_send(chat=chat, author=alice, body="during the replay")
        return page

    monkeypatch.setattr(log, "events_after", events_after_with_a_send_in_between)
    async with Sockets() as sockets:
        socket = await resume(sockets, bob, start)
        frames = [await receive_with_pos(socket) for _ in range(6)]
        await expect_pong(socket)  # the queued live copy was dropped
    assert [f["data"]["body"] for f in frames] == [
        *(f"m{i}" for i in range(5)),
        "during the replay",
    ]
    assert len(calls) >= 3


@run_async
async def test_a_live_copy_of_a_replayed_frame_is_dropped_and_pos_matches_rest():
    alice, bob, _, chat = await world()
    start = await current_pos()
    await send(chat, alice, "one")
    async with Sockets() as sockets:
        socket = await resume(sockets, bob, start)
        replayed = await receive_with_pos(socket)
        assert replayed["data"]["body"] == "one"
        frames, _ = await sync_to_async(log.events_after)(user_id=bob.pk, since=(0, 0), limit=10)
        assert any(f'"pos":"{replayed["pos"]}"' in frame for frame in frames)
        await get_channel_layer().group_send(
            live_events.chat_group(chat.pk), {"type": "chat.event", "frame": replayed, "id": "x"}
        )
        await expect_pong(socket)
        await send(chat, alice, "two")
        assert (await receive_with_pos(socket))["data"]["body"] == "two"


@pytest.mark.parametrize("since", ["", "nope", "1_2_3", "-1_0", "9999999999999999999_1"])
@run_async
async def test_malformed_since_gets_invalid_since_and_4400(since):
    alice, *_ = await world()
    async with Sockets() as sockets:
        socket = await resume(sockets, alice, since)
        frame = await receive_with_pos(socket)
        assert frame["type"] == "error" and frame["code"] == "invalid_since"
        assert await socket.receive_output(timeout=TIMEOUT) == {
            "type": "websocket.close",
            "code": 4400,
        }


@run_async
async def test_since_older_than_retention_gets_resync_required_and_4410():
    alice, _, _, chat = await world()
    start = await current_pos()
    await send(chat, alice, "one")
    now = await current_pos()
    await sync_to_async(PurgeHorizon.objects.create)(
        pk=1, tx=log.parse_pos(now)[0], event_id=log.parse_pos(now)[1]
    )
    async with Sockets() as sockets:
        socket = await resume(sockets, alice, start)
        assert await receive_with_pos(socket) == {"type": "resync_required"}
        assert await socket.receive_output(timeout=TIMEOUT) == {
            "type": "websocket.close",
            "code": 4410,
        }
        # From the horizon on, nothing is missing: the socket resumes.
        fine = await resume(sockets, alice, now)
        await expect_pong(fine)


@run_async
async def test_chat_read_reaches_the_readers_own_sockets_only():
    alice, bob, _, chat = await world()
    message = await send(chat, alice, "one")
    message = message[0]
    async with Sockets() as sockets:
        phone, laptop = await sockets.open(bob), await sockets.open(bob)
        await sockets.open(alice)
        await committed(chat_mark_read, chat=chat, user=bob, message_id=message.pk)
        for socket in (phone, laptop):
            frame = await receive_with_pos(socket)
            assert isinstance(frame.pop("pos"), str)
            assert frame == {
                "type": "chat.read",
                "chat_id": chat.pk,
                "data": {"message_id": message.pk, "unread_count": 0, "mention_count": 0},
            }
        await sockets.assert_quiet(alice, bob)


@run_async
async def test_a_leaver_resuming_gets_member_left_last_and_nothing_after():
    alice, bob, _, chat = await world()
    start = await current_pos()
    await send(chat, alice, "before")
    await committed(chat_leave, chat=chat, user=bob)
    await send(chat, alice, "after")
    async with Sockets() as sockets:
        socket = await resume(sockets, bob, start)
        assert (await receive_with_pos(socket))["data"]["body"] == "before"
        assert (await receive_with_pos(socket))["type"] == "member.left"
        await expect_pong(socket)
