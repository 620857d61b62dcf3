"""GET, PATCH, DELETE /chats/{id}/ and GET /chats/{id}/passkey/."""

import pytest

from accounts.tests.factories import UserFactory
from chats.models import Chat, Membership
from chats.tests.factories import direct_chat, group_chat
from live.testing import chats_heard_by
from messaging.models import Like, Message
from messaging.tests.factories import LikeFactory, MessageFactory

pytestmark = pytest.mark.django_db


def url(chat, suffix: str = "") -> str:
    return f"/api/v1/chats/{chat.pk}/{suffix}"


# --- GET ---------------------------------------------------------------------------------


def test_retrieve_as_member(client_for):
    owner, me = UserFactory(), UserFactory()
    chat = group_chat(owner, members=[me], passkey="pw")

    response = client_for(me).get(url(chat))

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == chat.pk
    assert body["role"] == "member"
    assert body["is_member"] is True
    assert body["created_by"] == {"id": owner.pk, "username": owner.username}
    assert "passkey" not in body


def test_retrieve_private_chat_as_outsider_is_limited(client_for):
    chat = group_chat(UserFactory(), passkey="pw")

    body = client_for(UserFactory()).get(url(chat)).json()

    assert body["name"] == chat.name
    assert body["member_count"] == 1
    assert body["created_by"] is None
    assert body["role"] is None
    assert body["last_message"] is None
    assert "passkey" not in body


def test_retrieve_someone_elses_direct_chat_is_404(client_for):
    chat = direct_chat(UserFactory(), UserFactory())

    response = client_for(UserFactory()).get(url(chat))

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_retrieve_unknown_chat_is_404(client_for):
    response = client_for(UserFactory()).get("/api/v1/chats/999999/")

    assert response.status_code == 404
    assert response.json() == {"detail": response.json()["detail"], "code": "not_found"}


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("get", ""), ("get", "members/"), ("delete", "members/1/"), ("post", "join/")],
)
def test_ids_beyond_64_bits_are_404(client_for, method, suffix):
    client = client_for(UserFactory())

    response = getattr(client, method)(f"/api/v1/chats/{10**20}/{suffix}")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_member_id_beyond_64_bits_is_404(client_for):
    owner = UserFactory()
    chat = group_chat(owner)

    response = client_for(owner).delete(f"/api/v1/chats/{chat.pk}/members/{10**20}/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_retrieve_requires_authentication(api_client):
    chat = group_chat(UserFactory())

    assert api_client.get(url(chat)).status_code == 401


def test_put_is_not_allowed(client_for):
    owner = UserFactory()
    chat = group_chat(owner)

    response = client_for(owner).put(url(chat), {"name": "x"})

    assert response.status_code == 405


# --- PATCH -------------------------------------------------------------------------------


def test_any_member_may_change_name_and_description(
    client_for, sent_events, django_capture_on_commit_callbacks
):
    member = UserFactory()
    chat = group_chat(UserFactory(), members=[member])

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(member).patch(url(chat), {"name": " New ", "description": "D"})

    assert response.status_code == 200
    assert response.json()["name"] == "New"
    assert response.json()["description"] == "D"
    assert response.json()["role"] == "member"
    chat.refresh_from_db()
    assert (chat.name, chat.description) == ("New", "D")
    assert sent_events.frames() == [
        (
            f"chat.{chat.pk}",
            "chat.updated",
            {
                "id": chat.pk,
                "name": "New",
                "description": "D",
                "is_private": False,
                "capacity": None,
            },
        )
    ]


def test_plain_member_may_not_change_passkey_or_capacity(client_for):
    member = UserFactory()
    chat = group_chat(UserFactory(), members=[member])
    client = client_for(member)

    for payload in ({"passkey": "x"}, {"capacity": 5}, {"name": "n", "capacity": 5}):
        response = client.patch(url(chat), payload)
        assert response.status_code == 403
        assert response.json()["code"] == "permission_denied"
    chat.refresh_from_db()
    assert (chat.passkey, chat.capacity, chat.name) == ("", None, chat.name)


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_owner_or_admin_may_change_passkey_and_capacity(
    client_for, sent_events, django_capture_on_commit_callbacks, role
):
    owner, admin = UserFactory(), UserFactory()
    chat = group_chat(owner, admins=[admin])
    actor = owner if role == "owner" else admin

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(actor).patch(url(chat), {"passkey": "pw", "capacity": 2})

    assert response.status_code == 200
    assert response.json()["is_private"] is True
    assert response.json()["capacity"] == 2
    assert "passkey" not in response.json()
    chat.refresh_from_db()
    assert (chat.passkey, chat.capacity) == ("pw", 2)
    [(_, type_, data)] = sent_events.frames()
    assert type_ == "chat.updated"
    assert data["is_private"] is True and data["capacity"] == 2
    assert "pw" not in str(sent_events)


def test_removing_passkey_and_capacity(client_for):
    owner = UserFactory()
    chat = group_chat(owner, passkey="pw", capacity=4)

    response = client_for(owner).patch(url(chat), {"passkey": "", "capacity": None})

    assert response.status_code == 200
    assert response.json()["is_private"] is False
    assert response.json()["capacity"] is None


def test_capacity_below_member_count_is_400(client_for):
    owner = UserFactory()
    chat = group_chat(owner, members=UserFactory.create_batch(2))

    response = client_for(owner).patch(url(chat), {"capacity": 2})

    assert response.status_code == 400
    assert "capacity" in response.json()
    chat.refresh_from_db()
    assert chat.capacity is None
    assert client_for(owner).patch(url(chat), {"capacity": 3}).status_code == 200


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 81}, "name"),
        ({"description": "x" * 501}, "description"),
        ({"passkey": "x" * 129}, "passkey"),
        ({"capacity": 1}, "capacity"),
        ({"capacity": 10_001}, "capacity"),
    ],
)
def test_patch_invalid_is_400(client_for, payload, field):
    owner = UserFactory()
    chat = group_chat(owner)

    response = client_for(owner).patch(url(chat), payload)

    assert response.status_code == 400
    assert field in response.json()


def test_patch_without_change_sends_no_event(
    client_for, sent_events, django_capture_on_commit_callbacks
):
    owner = UserFactory()
    chat = group_chat(owner, name="same")

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(owner).patch(url(chat), {"name": "same"})

    assert response.status_code == 200
    assert sent_events == []


def test_non_member_may_not_patch(client_for):
    chat = group_chat(UserFactory())

    response = client_for(UserFactory()).patch(url(chat), {"name": "x"})

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_direct_chat_cannot_be_patched(client_for):
    me = UserFactory()
    chat = direct_chat(me, UserFactory())

    assert client_for(me).patch(url(chat), {"description": "x"}).status_code == 403


def test_patch_someone_elses_direct_chat_is_404(client_for):
    chat = direct_chat(UserFactory(), UserFactory())

    assert client_for(UserFactory()).patch(url(chat), {"name": "x"}).status_code == 404


# --- DELETE ------------------------------------------------------------------------------


def test_owner_deletes_chat_with_its_messages(
    client_for, sent_events, django_capture_on_commit_callbacks
):
    owner, member = UserFactory(), UserFactory()
    chat = group_chat(owner, members=[member])
    LikeFactory(message=MessageFactory(chat=chat, author=member, body="bye"), user=owner)
    elsewhere = group_chat(member, members=[owner])
    kept = MessageFactory(chat=elsewhere, author=member, body="stays")
    LikeFactory(message=kept, user=owner)

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(owner).delete(url(chat))

    assert response.status_code == 204
    assert not Chat.objects.filter(pk=chat.pk).exists()
    assert list(Message.objects.all()) == [kept]
    assert list(Like.objects.values_list("message_id", flat=True)) == [kept.pk]
    assert not Membership.objects.filter(chat_id=chat.pk).exists()
    assert sent_events.frames() == [(f"chat.{chat.pk}", "chat.deleted", {"id": chat.pk})]
    assert chat.pk not in chats_heard_by(owner.pk) | chats_heard_by(member.pk)


def test_staff_may_delete_any_group_chat(client_for):
    chat = group_chat(UserFactory())

    response = client_for(UserFactory(is_staff=True)).delete(url(chat))

    assert response.status_code == 204
    assert not Chat.objects.exists()


@pytest.mark.parametrize("role", ["admin", "member", None])
def test_others_may_not_delete(client_for, role):
    actor = UserFactory()
    chat = group_chat(
        UserFactory(),
        admins=[actor] if role == "admin" else [],
        members=[actor] if role == "member" else [],
    )

    response = client_for(actor).delete(url(chat))

    assert response.status_code == 403
    assert Chat.objects.filter(pk=chat.pk).exists()


def test_delete_someone_elses_direct_chat_is_404(client_for):
    chat = direct_chat(UserFactory(), UserFactory())

    assert client_for(UserFactory()).delete(url(chat)).status_code == 404


# --- passkey -----------------------------------------------------------------------------


def test_member_reads_passkey(client_for):
    member = UserFactory()
    chat = group_chat(UserFactory(), members=[member], passkey="open sesame")

    response = client_for(member).get(url(chat, "passkey/"))

    assert response.status_code == 200
    assert response.json() == {"passkey": "open sesame"}


def test_public_chat_passkey_is_empty(client_for):
    owner = UserFactory()
    chat = group_chat(owner)

    assert client_for(owner).get(url(chat, "passkey/")).json() == {"passkey": ""}


def test_non_member_may_not_read_passkey(client_for):
    chat = group_chat(UserFactory(), passkey="pw")

    response = client_for(UserFactory()).get(url(chat, "passkey/"))

    assert response.status_code == 403
    assert "pw" not in response.content.decode()


def test_passkey_of_someone_elses_direct_chat_is_404(client_for):
    chat = direct_chat(UserFactory(), UserFactory())

    assert client_for(UserFactory()).get(url(chat, "passkey/")).status_code == 404
