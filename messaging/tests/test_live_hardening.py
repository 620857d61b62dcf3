"""Sockets that must not outlive their right: closed with 4401 when the account goes, typing
checked against the database, client frames rate-limited; and invites after a kick."""

import pytest
from asgiref.sync import sync_to_async

from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from chats.models import Membership
from chats.tests.factories import group_chat, membership_delete
from live import consumers
from messaging.tests.live_sockets import TIMEOUT, Sockets, receive, run_async

pytestmark = pytest.mark.django_db(transaction=True)


async def assert_closed(communicator, code: int) -> None:
    assert await communicator.receive_output(timeout=TIMEOUT) == {
        "type": "websocket.close",
        "code": code,
    }


@run_async
async def test_deleting_the_account_closes_its_sockets_4401(client_for):
    alice, bob = await sync_to_async(UserFactory)(), await sync_to_async(UserFactory)()
    chat = await sync_to_async(group_chat)(alice, members=[bob])
    client = await sync_to_async(client_for)(bob)
    async with Sockets() as sockets:
        alice_socket, bob_socket = await sockets.open(alice), await sockets.open(bob)
        response = await sync_to_async(client.delete)(
            "/api/v1/users/me/", {"password": DEFAULT_PASSWORD}
        )
        assert response.status_code == 204
        # bob's socket hears his own member.left, then is closed.
        left = await receive(bob_socket)
        assert (left["type"], left["chat_id"]) == ("member.left", chat.pk)
        await assert_closed(bob_socket, 4401)
        assert (await receive(alice_socket))["type"] == "member.left"
        await sockets.assert_quiet(alice)


@run_async
async def test_deactivation_closes_the_sockets_4401():
    user = await sync_to_async(UserFactory)()
    async with Sockets() as sockets:
        socket = await sockets.open(user)

        def deactivate():
            user.is_active = False
            user.save(update_fields=["is_active"])

        await sync_to_async(deactivate)()
        await assert_closed(socket, 4401)


@run_async
async def test_typing_is_checked_against_the_database():
    """A membership gone without its unsubscribe arriving (a deleted account, a kick whose
    event is still queued): the socket still lists the chat, the database decides."""
    alice, bob = await sync_to_async(UserFactory)(), await sync_to_async(UserFactory)()
    chat = await sync_to_async(group_chat)(alice, members=[bob])
    async with Sockets() as sockets:
        alice_socket, bob_socket = await sockets.open(alice), await sockets.open(bob)
        await sync_to_async(membership_delete)(chat, bob)
        await bob_socket.send_json_to({"type": "typing", "chat_id": chat.pk})
        error = await receive(bob_socket)
        assert (error["type"], error["code"]) == ("error", "not_a_member")
        await sockets.assert_quiet(alice)
        assert alice_socket is not None


@run_async
async def test_client_frames_are_rate_limited(monkeypatch):
    user = await sync_to_async(UserFactory)()
    clock = [1000.0]
    monkeypatch.setattr(consumers, "monotonic", lambda: clock[0])
    async with Sockets() as sockets:
        socket = await sockets.open(user)  # its ping used one frame of the bucket
        for _ in range(consumers.FRAME_BURST + 10):
            await socket.send_json_to({"type": "ping"})
        replies = [await receive(socket) for _ in range(consumers.FRAME_BURST)]
        assert replies == [{"type": "pong"}] * (consumers.FRAME_BURST - 1) + [
            {
                "type": "error",
                "detail": "Too many frames; slow down.",
                "code": "rate_limited",
            }
        ]
        await sockets.assert_quiet(user)  # one error frame per burst, the rest dropped
        clock[0] += 1  # a second later the bucket has refilled a little
        await socket.send_json_to({"type": "ping"})
        assert await receive(socket) == {"type": "pong"}


@run_async
async def test_a_client_that_keeps_flooding_is_closed(monkeypatch):
    user = await sync_to_async(UserFactory)()
    monkeypatch.setattr(consumers, "monotonic", lambda: 1000.0)
    async with Sockets() as sockets:
        socket = await sockets.open(user)
        for _ in range(consumers.FRAME_BURST + consumers.FLOOD_LIMIT):
            await socket.send_json_to({"type": "ping"})
        frames = []
        while True:
            output = await socket.receive_output(timeout=TIMEOUT)
            if output["type"] == "websocket.close":
                assert output["code"] == 1008
                break
            frames.append(output)
        assert len(frames) == consumers.FRAME_BURST  # the pongs, then one error frame


@pytest.mark.django_db
def test_a_kicked_member_cannot_rejoin_with_an_old_invite_code(client_for):
    owner, kicked = UserFactory(), UserFactory()
    chat = group_chat(owner, members=[kicked])
    code = client_for(kicked).get(f"/api/v1/chats/{chat.pk}/invite/").json()["code"]

    owner_client = client_for(owner)
    assert owner_client.delete(f"/api/v1/chats/{chat.pk}/members/{kicked.pk}/").status_code == 204

    response = client_for(kicked).post(f"/api/v1/invites/{code}/")
    assert response.status_code == 404
    assert not Membership.objects.filter(chat=chat, user=kicked).exists()
    # The members' current code still works for someone else.
    fresh = owner_client.get(f"/api/v1/chats/{chat.pk}/invite/").json()["code"]
    assert fresh != code
    assert client_for(UserFactory()).post(f"/api/v1/invites/{fresh}/").status_code == 200
