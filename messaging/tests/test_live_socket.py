"""The WebSocket itself: token check (4401), ping, typing, and frames it does not understand."""

from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from accounts.tests.factories import UserFactory
from chats.tests.factories import group_chat
from live import log
from messaging.tests.live_sockets import (
    TIMEOUT,
    Sockets,
    receive,
    run_async,
    token_for,
)

pytestmark = pytest.mark.django_db(transaction=True)


async def assert_closed_unauthorized(sockets, query):
    """The handshake is accepted, then the server closes with 4401."""
    communicator = await sockets.raw(query)
    assert await communicator.receive_output(timeout=TIMEOUT) == {
        "type": "websocket.close",
        "code": 4401,
    }


def expired_token(user) -> str:
    token = AccessToken.for_user(user)
    token.set_exp(lifetime=-timedelta(seconds=1))
    return str(token)


@pytest.mark.parametrize(
    "query",
    ["", "?", "?token=", "?token=not-a-jwt", "?other=1", "?token=" + "x" * 5000],
)
@run_async
async def test_missing_or_malformed_token_closes_4401(query):
    async with Sockets() as sockets:
        await assert_closed_unauthorized(sockets, query)


@run_async
async def test_expired_token_closes_4401():
    user = await sync_to_async(UserFactory)()
    async with Sockets() as sockets:
        await assert_closed_unauthorized(sockets, f"?token={expired_token(user)}")


@run_async
async def test_refresh_token_is_not_an_access_token():
    user = await sync_to_async(UserFactory)()
    refresh = await sync_to_async(RefreshToken.for_user)(user)
    async with Sockets() as sockets:
        await assert_closed_unauthorized(sockets, f"?token={refresh}")


@run_async
async def test_token_signed_with_another_key_closes_4401():
    user = await sync_to_async(UserFactory)()
    header, payload, _signature = token_for(user).split(".")
    async with Sockets() as sockets:
        await assert_closed_unauthorized(sockets, f"?token={header}.{payload}.AAAA")


@run_async
async def test_inactive_or_deleted_user_closes_4401():
    inactive = await sync_to_async(UserFactory)(is_active=False)
    deleted = await sync_to_async(UserFactory)()
    deleted_token = token_for(deleted)
    await sync_to_async(deleted.delete)()
    async with Sockets() as sockets:
        await assert_closed_unauthorized(sockets, f"?token={token_for(inactive)}")
        await assert_closed_unauthorized(sockets, f"?token={deleted_token}")


@run_async
async def test_valid_token_stays_open_and_answers_ping():
    user = await sync_to_async(UserFactory)()
    async with Sockets() as sockets:
        socket = await sockets.open(user)  # open() itself checks ping -> pong
        await socket.send_json_to({"type": "ping", "extra": "ignored"})
        assert await receive(socket) == {"type": "pong"}
        await sockets.assert_quiet(user)


@sync_to_async
def make_chat_with_outsider():
    alice, bob, carol = UserFactory(), UserFactory(), UserFactory()
    chat = group_chat(alice, members=[bob])
    group_chat(carol)  # carol has chats of her own, just not this one
    return alice, bob, carol, chat


@run_async
async def test_typing_reaches_other_members_only():
    alice, bob, carol, chat = await make_chat_with_outsider()
    async with Sockets() as sockets:
        alice_socket = await sockets.open(alice)
        await sockets.open(alice)  # a second socket of the sender
        bob_socket = await sockets.open(bob)
        await sockets.open(carol)

        await alice_socket.send_json_to({"type": "typing", "chat_id": chat.pk})

        assert await receive(bob_socket) == {
            "type": "typing",
            "chat_id": chat.pk,
            "data": {"user": {"id": alice.pk, "username": alice.username}},
        }
        # The sender's pong comes after its typing was relayed (frames are handled in order).
        await alice_socket.send_json_to({"type": "ping"})
        assert await receive(alice_socket) == {"type": "pong"}
        # Not echoed to the sender, nor to the sender's other socket; nothing to outsiders.
        await sockets.assert_quiet(alice, carol)


@run_async
async def test_typing_in_a_chat_one_is_not_in_is_refused():
    _alice, bob, carol, chat = await make_chat_with_outsider()
    async with Sockets() as sockets:
        carol_socket = await sockets.open(carol)
        await sockets.open(bob)

        await carol_socket.send_json_to({"type": "typing", "chat_id": chat.pk})
        assert await receive(carol_socket) == {
            "type": "error",
            "detail": "You are not a member of this chat.",
            "code": "not_a_member",
        }
        await carol_socket.send_json_to({"type": "typing", "chat_id": 999_999})
        assert (await receive(carol_socket))["code"] == "not_a_member"
        await sockets.assert_quiet(bob)


GARBAGE = [
    ("text", "not json", "invalid_json"),
    ("text", "{", "invalid_json"),
    ("text", "", "invalid_json"),
    ("text", "[1, 2]", "unknown_type"),
    ("text", "42", "unknown_type"),
    ("text", "null", "unknown_type"),
    ("text", '"ping"', "unknown_type"),
    ("text", "{}", "unknown_type"),
    ("text", '{"type": "pong"}', "unknown_type"),
    ("text", '{"type": 1}', "unknown_type"),
    ("text", '{"type": ["ping"]}', "unknown_type"),
    ("text", '{"type": "message.created", "chat_id": 1}', "unknown_type"),
    ("text", '{"type": "typing"}', "invalid_chat_id"),
    ("text", '{"type": "typing", "chat_id": "1"}', "invalid_chat_id"),
    ("text", '{"type": "typing", "chat_id": 1.0}', "invalid_chat_id"),
    ("text", '{"type": "typing", "chat_id": true}', "invalid_chat_id"),
    ("text", '{"type": "typing", "chat_id": null}', "invalid_chat_id"),
    ("text", '{"type": "typing", "chat_id": 99999999999999999999999}', "invalid_chat_id"),
    ("text", '{"type": "ping", "pad": "' + "x" * 2000 + '"}', "frame_too_large"),
    ("text", "\x00\udcff", "invalid_json"),
    ("bytes", b'{"type": "ping"}', "text_frames_only"),
    ("bytes", b"\x00\xff", "text_frames_only"),
]


@run_async
async def test_garbage_frames_get_an_error_and_never_close_the_socket():
    alice, bob, _carol, chat = await make_chat_with_outsider()
    async with Sockets() as sockets:
        socket, bob_socket = await sockets.open(alice), await sockets.open(bob)
        for kind, payload, code in GARBAGE:
            if kind == "bytes":
                await socket.send_to(bytes_data=payload)
            else:
                await socket.send_to(text_data=payload)
            frame = await receive(socket)
            assert frame["type"] == "error", payload
            assert frame["code"] == code, payload
            assert isinstance(frame["detail"], str) and frame["detail"]
        # Still open and still subscribed: ping and typing work as before.
        await socket.send_json_to({"type": "ping"})
        assert await receive(socket) == {"type": "pong"}
        await socket.send_json_to({"type": "typing", "chat_id": chat.pk})
        assert (await receive(bob_socket))["type"] == "typing"
        await sockets.assert_quiet(alice)


@run_async
async def test_socket_closes_with_try_again_later_when_subscribing_fails(monkeypatch):
    user = await sync_to_async(UserFactory)()

    def database_down(**kwargs):
        raise ConnectionError("database down")

    # The hub reads the user's memberships (spans) when their first socket attaches.
    monkeypatch.setattr(log, "spans_live_after", database_down)
    async with Sockets() as sockets:
        communicator = await sockets.raw(f"?token={token_for(user)}")
        assert await communicator.receive_output(timeout=TIMEOUT) == {
            "type": "websocket.close",
            "code": 1013,
        }


@run_async
async def test_typing_is_relayed_at_most_once_a_second_per_chat(monkeypatch):
    alice, bob, _carol, chat = await make_chat_with_outsider()
    clock = [1000.0]
    monkeypatch.setattr("live.consumers.monotonic", lambda: clock[0])
    async with Sockets() as sockets:
        alice_socket, bob_socket = await sockets.open(alice), await sockets.open(bob)
        for now in (1000.0, 1000.5, 1000.99, 1001.0, 1001.2):
            clock[0] = now
            await alice_socket.send_json_to({"type": "typing", "chat_id": chat.pk})
            # The pong comes once the typing was handled (at `now`), silently.
            await alice_socket.send_json_to({"type": "ping"})
            assert await receive(alice_socket) == {"type": "pong"}
        assert (await receive(bob_socket))["type"] == "typing"  # at 1000.0
        assert (await receive(bob_socket))["type"] == "typing"  # at 1001.0
        await sockets.assert_quiet(bob)
