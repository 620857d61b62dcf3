"""Live events caused by REST requests, as the sockets of members and outsiders see them."""

import pytest
from asgiref.sync import sync_to_async

from accounts.tests.factories import UserFactory
from chats.tests.factories import group_chat
from messaging.models import Message
from messaging.tests.live_sockets import Sockets, receive, run_async

pytestmark = pytest.mark.django_db(transaction=True)


def ref(user) -> dict:
    return {"id": user.pk, "username": user.username}


class World:
    """alice owns the public `chat`, bob is a member; carol is an outsider with her own chat."""

    def __init__(self, client_for):
        self.alice, self.bob, self.carol = UserFactory(), UserFactory(), UserFactory()
        self.chat = group_chat(self.alice, members=[self.bob])
        self.carols_chat = group_chat(self.carol)
        self.client = {u.pk: client_for(u) for u in (self.alice, self.bob, self.carol)}

    def api(self, user, method, url, data=None):
        response = getattr(self.client[user.pk], method)(f"/api/v1/{url}", data, format="json")
        return response.status_code, response.json() if response.content else None


async def setup(sockets, client_for):
    w = await sync_to_async(World)(client_for)
    w.call = sync_to_async(w.api)
    sockets.alice = await sockets.open(w.alice)
    sockets.bob = await sockets.open(w.bob)
    sockets.carol = await sockets.open(w.carol)
    return w


async def members_get(sockets, w, frame):
    """Alice's and bob's sockets get exactly `frame`; carol's nothing."""
    assert await receive(sockets.alice) == frame
    assert await receive(sockets.bob) == frame
    await sockets.assert_quiet(w.alice, w.bob, w.carol)


@run_async
async def test_message_send_edit_like_unlike_delete(client_for):
    async with Sockets() as sockets:
        w = await setup(sockets, client_for)
        chat_id = w.chat.pk

        status, message = await w.call(
            w.alice, "post", f"chats/{chat_id}/messages/", {"body": "hi"}
        )
        assert status == 201
        data = {k: v for k, v in message.items() if k != "liked_by_me"}
        await members_get(sockets, w, {"type": "message.created", "chat_id": chat_id, "data": data})

        status, edited = await w.call(
            w.alice, "patch", f"messages/{message['id']}/", {"body": "hey"}
        )
        assert status == 200
        data = {k: v for k, v in edited.items() if k != "liked_by_me"}
        assert data["body"] == "hey" and data["edited_at"] is not None
        await members_get(sockets, w, {"type": "message.updated", "chat_id": chat_id, "data": data})

        for method, liked, count in (("post", True, 1), ("delete", False, 0)):
            status, _ = await w.call(w.bob, method, f"messages/{message['id']}/like/")
            assert status == 200
            data = {"id": message["id"], "like_count": count, "user": ref(w.bob), "liked": liked}
            await members_get(
                sockets, w, {"type": "message.liked", "chat_id": chat_id, "data": data}
            )

        status, _ = await w.call(w.bob, "delete", f"messages/{message['id']}/like/")  # not liked
        assert status == 200
        await sockets.assert_quiet(w.alice, w.bob)  # nothing changed, nothing sent

        status, _ = await w.call(w.alice, "delete", f"messages/{message['id']}/")
        assert status == 204
        frame = {"type": "message.deleted", "chat_id": chat_id, "data": {"id": message["id"]}}
        await members_get(sockets, w, frame)


@run_async
async def test_refused_requests_send_nothing(client_for):
    async with Sockets() as sockets:
        w = await setup(sockets, client_for)
        status, _ = await w.call(w.carol, "post", f"chats/{w.chat.pk}/messages/", {"body": "x"})
        assert status == 403
        status, _ = await w.call(w.alice, "post", f"chats/{w.chat.pk}/messages/", {"body": " "})
        assert status == 400
        await sockets.assert_quiet(w.alice, w.bob, w.carol)


@run_async
async def test_chat_updated_then_deleted(client_for):
    async with Sockets() as sockets:
        w = await setup(sockets, client_for)
        chat_id = w.chat.pk

        status, _ = await w.call(w.bob, "patch", f"chats/{chat_id}/", {"name": "renamed"})
        assert status == 200
        data = {"id": chat_id, "name": "renamed", "description": "", "is_private": False}
        data["capacity"] = None
        await members_get(sockets, w, {"type": "chat.updated", "chat_id": chat_id, "data": data})

        # A passkey change is announced too, without the passkey.
        status, _ = await w.call(w.alice, "patch", f"chats/{chat_id}/", {"passkey": "hunter22"})
        assert status == 200
        data = {**data, "is_private": True}
        await members_get(sockets, w, {"type": "chat.updated", "chat_id": chat_id, "data": data})

        status, _ = await w.call(w.alice, "delete", f"chats/{chat_id}/")
        assert status == 204
        frame = {"type": "chat.deleted", "chat_id": chat_id, "data": {"id": chat_id}}
        await members_get(sockets, w, frame)


@run_async
async def test_join_and_leave_take_effect_on_open_sockets(client_for):
    async with Sockets() as sockets:
        w = await setup(sockets, client_for)
        chat_id = w.chat.pk

        status, _ = await w.call(w.carol, "post", f"chats/{chat_id}/join/")
        assert status == 200
        joined = {
            "type": "member.joined",
            "chat_id": chat_id,
            "data": {"user": ref(w.carol), "role": "member"},
        }
        for socket in (sockets.alice, sockets.bob, sockets.carol):
            assert await receive(socket) == joined
        await sockets.assert_quiet(w.alice, w.bob, w.carol)

        status, _ = await w.call(w.alice, "post", f"chats/{chat_id}/messages/", {"body": "hi"})
        assert status == 201
        for socket in (sockets.alice, sockets.bob, sockets.carol):
            assert (await receive(socket))["type"] == "message.created"

        status, _ = await w.call(w.carol, "post", f"chats/{chat_id}/leave/")
        assert status == 204
        left = {**joined, "type": "member.left"}
        for socket in (sockets.alice, sockets.bob, sockets.carol):
            assert await receive(socket) == left
        status, _ = await w.call(w.alice, "post", f"chats/{chat_id}/messages/", {"body": "bye"})
        assert status == 201
        for socket in (sockets.alice, sockets.bob):
            assert (await receive(socket))["type"] == "message.created"
        await sockets.assert_quiet(w.alice, w.bob, w.carol)

        # Leaving again (not a member) is a 204 that changes nothing and sends nothing.
        status, _ = await w.call(w.carol, "post", f"chats/{chat_id}/leave/")
        assert status == 204
        await sockets.assert_quiet(w.alice, w.bob, w.carol)


@run_async
async def test_added_then_removed_member(client_for):
    async with Sockets() as sockets:
        w = await setup(sockets, client_for)
        chat_id = w.chat.pk

        status, _ = await w.call(
            w.alice, "post", f"chats/{chat_id}/members/", {"user_id": w.carol.pk}
        )
        assert status == 201
        for socket in (sockets.alice, sockets.bob, sockets.carol):
            assert (await receive(socket))["type"] == "member.joined"
        await sockets.assert_quiet(w.carol)

        status, _ = await w.call(w.bob, "post", f"chats/{chat_id}/messages/", {"body": "hi"})
        assert status == 201
        for socket in (sockets.alice, sockets.bob, sockets.carol):
            assert (await receive(socket))["type"] == "message.created"

        status, _ = await w.call(w.alice, "delete", f"chats/{chat_id}/members/{w.carol.pk}/")
        assert status == 204
        left = {
            "type": "member.left",
            "chat_id": chat_id,
            "data": {"user": ref(w.carol), "role": "member"},
        }
        for socket in (sockets.alice, sockets.bob, sockets.carol):
            assert await receive(socket) == left
        await sockets.assert_quiet(w.carol)  # exactly one member.left about herself

        await w.call(w.bob, "post", f"chats/{chat_id}/messages/", {"body": "after"})
        await w.call(w.bob, "patch", f"chats/{chat_id}/", {"description": "after"})
        for socket in (sockets.alice, sockets.bob):
            assert (await receive(socket))["type"] == "message.created"
            assert (await receive(socket))["type"] == "chat.updated"
        await sockets.assert_quiet(w.alice, w.bob, w.carol)
        await sockets.carol.send_json_to({"type": "typing", "chat_id": chat_id})
        assert (await receive(sockets.carol))["code"] == "not_a_member"


@run_async
async def test_invite_join(client_for):
    async with Sockets() as sockets:
        w = await setup(sockets, client_for)
        status, invite = await w.call(w.alice, "get", f"chats/{w.chat.pk}/invite/")
        assert status == 200
        status, _ = await w.call(w.carol, "post", f"invites/{invite['code']}/")
        assert status == 200
        for socket in (sockets.alice, sockets.bob, sockets.carol):
            assert (await receive(socket))["type"] == "member.joined"
        await sockets.assert_quiet(w.alice, w.bob, w.carol)


@run_async
async def test_first_direct_message_reaches_the_recipients_open_socket(client_for):
    """The direct chat, both memberships and the message commit together; the recipient's
    socket subscribes only afterwards, and still gets the message."""
    async with Sockets() as sockets:
        w = await setup(sockets, client_for)
        status, message = await w.call(
            w.alice, "post", f"users/{w.carol.pk}/messages/", {"body": "psst"}
        )
        assert status == 201
        for socket, user in ((sockets.carol, w.carol), (sockets.alice, w.alice)):
            frames = [await receive(socket)]
            while frames[-1]["type"] == "member.joined" and len(frames) < 3:
                frames.append(await receive(socket))
            assert frames[-1]["type"] == "message.created", frames
            assert frames[-1]["data"]["id"] == message["id"]
            assert {f["data"]["user"]["id"] for f in frames[:-1]} <= {w.alice.pk, w.carol.pk}
            assert ref(user) in [f["data"]["user"] for f in frames[:-1]]  # its own join
        await sockets.assert_quiet(w.alice, w.bob, w.carol)
        assert await sync_to_async(Message.objects.filter(pk=message["id"]).exists)()

        # And typing in the new direct chat reaches the other side.
        await sockets.carol.send_json_to({"type": "typing", "chat_id": message["chat_id"]})
        assert (await receive(sockets.alice))["data"] == {"user": ref(w.carol)}
