"""POST join/, leave/, GET and POST invite/, POST /invites/{code}/."""

import pytest

from accounts.tests.factories import UserFactory
from chats.models import Chat, Membership
from chats.tests.factories import direct_chat, group_chat
from live.testing import chats_heard_by
from messaging.models import Message
from messaging.tests.factories import MessageFactory

pytestmark = pytest.mark.django_db


def url(chat, suffix: str) -> str:
    return f"/api/v1/chats/{chat.pk}/{suffix}"


def role_of(chat, user) -> str | None:
    return Membership.objects.filter(chat=chat, user=user).values_list("role", flat=True).first()


# --- join --------------------------------------------------------------------------------


def test_join_public_chat(client_for, sent_events, django_capture_on_commit_callbacks):
    owner, me = UserFactory(), UserFactory()
    chat = group_chat(owner)

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(me).post(url(chat, "join/"))

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == chat.pk
    assert body["is_member"] is True
    assert body["role"] == "member"
    assert body["member_count"] == 2
    assert role_of(chat, me) == "member"
    assert sent_events.frames() == [
        (
            f"chat.{chat.pk}",
            "member.joined",
            {"user": {"id": me.pk, "username": me.username}, "role": "member"},
        )
    ]
    assert chat.pk in chats_heard_by(me.pk)  # her sockets hear the chat from now on


def test_join_marks_messages_read_after_the_newest_was_deleted(client_for):
    owner, me = UserFactory(), UserFactory()
    chat = group_chat(owner)
    older = MessageFactory(chat=chat, author=owner, body="older")
    newest = MessageFactory(chat=chat, author=owner, body="deleted")
    assert client_for(owner).delete(f"/api/v1/messages/{newest.pk}/").status_code == 204

    body = client_for(me).post(url(chat, "join/")).json()

    assert body["unread_count"] == 0
    assert body["last_message"]["id"] == older.pk
    assert Membership.objects.get(chat=chat, user=me).last_read_message_id == older.pk


def test_join_marks_existing_messages_read(client_for):
    owner, me = UserFactory(), UserFactory()
    chat = group_chat(owner)
    message = MessageFactory(chat=chat, author=owner, body="before you came")

    body = client_for(me).post(url(chat, "join/")).json()

    assert body["unread_count"] == 0
    assert body["last_message"]["id"] == message.pk
    assert Membership.objects.get(chat=chat, user=me).last_read_message_id == message.pk


def test_join_private_chat_with_passkey(client_for):
    me = UserFactory()
    chat = group_chat(UserFactory(), passkey="open sesame")

    response = client_for(me).post(url(chat, "join/"), {"passkey": "open sesame"})

    assert response.status_code == 200
    assert response.json()["role"] == "member"
    assert response.json()["created_by"] is not None  # a member sees the full view
    assert "passkey" not in response.json()


@pytest.mark.parametrize("payload", [{}, {"passkey": ""}, {"passkey": "wrong"}, {"passkey": None}])
def test_wrong_or_missing_passkey_is_403(
    client_for, sent_events, django_capture_on_commit_callbacks, payload
):
    me = UserFactory()
    chat = group_chat(UserFactory(), passkey="open sesame")

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(me).post(url(chat, "join/"), payload)

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert role_of(chat, me) is None
    assert sent_events == []


def test_passkey_is_checked_before_capacity(client_for):
    owner = UserFactory()
    chat = group_chat(owner, members=[UserFactory()], passkey="pw", capacity=2)

    assert client_for(UserFactory()).post(url(chat, "join/"), {"passkey": "no"}).status_code == 403
    response = client_for(UserFactory()).post(url(chat, "join/"), {"passkey": "pw"})
    assert response.status_code == 409
    assert response.json()["code"] == "chat_full"


def test_full_chat_is_409(client_for):
    chat = group_chat(UserFactory(), members=[UserFactory()], capacity=2)
    me = UserFactory()

    response = client_for(me).post(url(chat, "join/"))

    assert response.status_code == 409
    assert response.json() == {"detail": "The chat is full.", "code": "chat_full"}
    assert role_of(chat, me) is None


def test_already_a_member_is_200_and_nothing_changes(
    client_for, sent_events, django_capture_on_commit_callbacks
):
    owner = UserFactory()
    chat = group_chat(owner, passkey="pw", capacity=2, members=[UserFactory()])

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(owner).post(url(chat, "join/"))  # no passkey, chat full

    assert response.status_code == 200
    assert response.json()["role"] == "owner"
    assert role_of(chat, owner) == "owner"
    assert sent_events == []


def test_join_someone_elses_direct_chat_is_404(client_for):
    chat = direct_chat(UserFactory(), UserFactory())
    me = UserFactory()

    assert client_for(me).post(url(chat, "join/")).status_code == 404
    assert role_of(chat, me) is None


def test_join_own_direct_chat_is_200(client_for):
    me = UserFactory()
    chat = direct_chat(me, UserFactory())

    response = client_for(me).post(url(chat, "join/"))

    assert response.status_code == 200
    assert response.json()["kind"] == "direct"


def test_join_unknown_chat_is_404(client_for):
    assert client_for(UserFactory()).post("/api/v1/chats/424242/join/").status_code == 404


def test_join_invalid_body_is_400(client_for):
    chat = group_chat(UserFactory(), passkey="pw")

    assert (
        client_for(UserFactory()).post(url(chat, "join/"), {"passkey": ["pw"]}).status_code == 400
    )


def test_join_requires_authentication(api_client):
    chat = group_chat(UserFactory())

    assert api_client.post(url(chat, "join/")).status_code == 401


# --- leave -------------------------------------------------------------------------------


def test_member_leaves(client_for, sent_events, django_capture_on_commit_callbacks):
    me = UserFactory()
    chat = group_chat(UserFactory(), members=[me])

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(me).post(url(chat, "leave/"))

    assert response.status_code == 204
    assert response.content == b""
    assert role_of(chat, me) is None
    left = {"user": {"id": me.pk, "username": me.username}, "role": "member"}
    assert sent_events.frames() == [(f"chat.{chat.pk}", "member.left", left)]
    assert chat.pk not in chats_heard_by(me.pk)  # member.left was the last she hears


def test_leaving_when_not_a_member_is_204(
    client_for, sent_events, django_capture_on_commit_callbacks
):
    chat = group_chat(UserFactory())

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(UserFactory()).post(url(chat, "leave/"))

    assert response.status_code == 204
    assert sent_events == []


def test_owner_leaving_hands_ownership_to_oldest_admin(client_for):
    owner, old_member, old_admin, new_admin = UserFactory.create_batch(4)
    chat = group_chat(owner, members=[old_member], admins=[old_admin, new_admin])

    assert client_for(owner).post(url(chat, "leave/")).status_code == 204

    assert role_of(chat, old_admin) == "owner"
    assert role_of(chat, new_admin) == "admin"
    assert role_of(chat, old_member) == "member"


def test_owner_leaving_without_admins_hands_ownership_to_oldest_member(client_for):
    owner, first, second = UserFactory.create_batch(3)
    chat = group_chat(owner, members=[first, second])

    client_for(owner).post(url(chat, "leave/"))

    assert role_of(chat, first) == "owner"
    assert role_of(chat, second) == "member"


def test_last_member_leaving_keeps_the_chat_and_history(client_for):
    owner = UserFactory()
    chat = group_chat(owner)
    MessageFactory(chat=chat, author=owner, body="history")

    assert client_for(owner).post(url(chat, "leave/")).status_code == 204

    assert Chat.objects.filter(pk=chat.pk).exists()
    assert Message.objects.filter(chat=chat).count() == 1
    assert not Membership.objects.filter(chat=chat).exists()


def test_direct_chat_cannot_be_left(client_for):
    me = UserFactory()
    chat = direct_chat(me, UserFactory())

    response = client_for(me).post(url(chat, "leave/"))

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert role_of(chat, me) == "member"


def test_leave_someone_elses_direct_chat_is_404(client_for):
    chat = direct_chat(UserFactory(), UserFactory())

    assert client_for(UserFactory()).post(url(chat, "leave/")).status_code == 404


def test_leave_unknown_chat_is_404(client_for):
    assert client_for(UserFactory()).post("/api/v1/chats/424242/leave/").status_code == 404


# --- invites -----------------------------------------------------------------------------


def test_member_gets_invite(client_for):
    member = UserFactory()
    chat = group_chat(UserFactory(), members=[member], passkey="pw")

    response = client_for(member).get(url(chat, "invite/"))

    assert response.status_code == 200
    assert response.json() == {
        "code": chat.invite_code,
        "url": f"http://testserver/api/v1/invites/{chat.invite_code}/",
    }
    assert len(chat.invite_code) >= 20


def test_non_member_may_not_get_invite(client_for):
    chat = group_chat(UserFactory())

    response = client_for(UserFactory()).get(url(chat, "invite/"))

    assert response.status_code == 403


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_owner_or_admin_rotates_invite(client_for, role):
    owner, admin, me = UserFactory(), UserFactory(), UserFactory()
    chat = group_chat(owner, admins=[admin])
    old = chat.invite_code

    response = client_for(owner if role == "owner" else admin).post(url(chat, "invite/"))

    assert response.status_code == 200
    new = response.json()["code"]
    assert new != old
    assert response.json()["url"].endswith(f"/api/v1/invites/{new}/")
    chat.refresh_from_db()
    assert chat.invite_code == new
    assert client_for(me).post(f"/api/v1/invites/{old}/").status_code == 404
    assert client_for(me).post(f"/api/v1/invites/{new}/").status_code == 200


def test_member_may_not_rotate_invite(client_for):
    member = UserFactory()
    chat = group_chat(UserFactory(), members=[member])

    assert client_for(member).post(url(chat, "invite/")).status_code == 403


def test_direct_chat_has_no_invite(client_for):
    me = UserFactory()
    chat = direct_chat(me, UserFactory())

    assert client_for(me).get(url(chat, "invite/")).status_code == 403
    assert client_for(me).post(f"/api/v1/invites/{chat.invite_code}/").status_code == 404


def test_invite_joins_private_chat_without_passkey(
    client_for, sent_events, django_capture_on_commit_callbacks
):
    me = UserFactory()
    chat = group_chat(UserFactory(), passkey="pw")

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(me).post(f"/api/v1/invites/{chat.invite_code}/")

    assert response.status_code == 200
    assert response.json()["id"] == chat.pk
    assert response.json()["role"] == "member"
    assert role_of(chat, me) == "member"
    assert sent_events.types() == [(f"chat.{chat.pk}", "member.joined")]


def test_invite_when_already_member_is_200(client_for):
    owner = UserFactory()
    chat = group_chat(owner)

    response = client_for(owner).post(f"/api/v1/invites/{chat.invite_code}/")

    assert response.status_code == 200
    assert response.json()["role"] == "owner"


def test_invite_to_full_chat_is_409(client_for):
    chat = group_chat(UserFactory(), members=[UserFactory()], capacity=2)

    response = client_for(UserFactory()).post(f"/api/v1/invites/{chat.invite_code}/")

    assert response.status_code == 409
    assert response.json()["code"] == "chat_full"


def test_unknown_invite_is_404(client_for):
    response = client_for(UserFactory()).post("/api/v1/invites/not-a-code/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_invite_requires_authentication(api_client):
    chat = group_chat(UserFactory())

    assert api_client.post(f"/api/v1/invites/{chat.invite_code}/").status_code == 401
