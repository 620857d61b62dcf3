"""POST /chats/: validation, owner membership, member_ids, capacity, events."""

import pytest

from accounts.tests.factories import UserFactory
from chats.models import Chat, Membership

pytestmark = pytest.mark.django_db

URL = "/api/v1/chats/"


def test_create_public_chat(client_for, sent_events, django_capture_on_commit_callbacks):
    me = UserFactory()

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(me).post(URL, {"name": "  Book club  ", "description": "Reads"})

    assert response.status_code == 201
    body = response.json()
    chat = Chat.objects.get()
    assert body == {
        "id": chat.pk,
        "name": "Book club",
        "description": "Reads",
        "kind": "group",
        "is_private": False,
        "capacity": None,
        "member_count": 1,
        "message_count": 0,
        "created_by": {"id": me.pk, "username": me.username},
        "created_at": body["created_at"],
        "is_member": True,
        "role": "owner",
        "last_message": None,
        "unread_count": 0,
        "mention_count": 0,
    }
    assert chat.passkey == ""
    assert Membership.objects.get(chat=chat).role == "owner"
    assert (f"chat.{chat.pk}", "member.joined") in sent_events.types()


def test_create_private_chat_with_members(
    client_for, sent_events, django_capture_on_commit_callbacks
):
    me, a, b = UserFactory(), UserFactory(), UserFactory()

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(me).post(
            URL,
            {"name": "x", "passkey": " s3cret ", "capacity": 3, "member_ids": [a.pk, b.pk, a.pk]},
        )

    assert response.status_code == 201
    body = response.json()
    assert body["is_private"] is True
    assert body["capacity"] == 3
    assert body["member_count"] == 3
    assert "passkey" not in body
    chat = Chat.objects.get()
    assert chat.passkey == " s3cret "  # taken as given
    roles = dict(chat.memberships.values_list("user_id", "role"))
    assert roles == {me.pk: "owner", a.pk: "member", b.pk: "member"}
    joined = [
        data["user"]["id"] for _, type_, data in sent_events.frames() if type_ == "member.joined"
    ]
    assert sorted(joined) == sorted([me.pk, a.pk, b.pk])


def test_creator_in_member_ids_counts_once(client_for):
    me, a = UserFactory(), UserFactory()

    response = client_for(me).post(URL, {"name": "x", "capacity": 2, "member_ids": [me.pk, a.pk]})

    assert response.status_code == 201
    assert response.json()["member_count"] == 2
    assert Membership.objects.get(user=me).role == "owner"


def test_unknown_member_ids_are_named(client_for):
    me, a = UserFactory(), UserFactory()

    response = client_for(me).post(URL, {"name": "x", "member_ids": [a.pk, 9999, 8888]})

    assert response.status_code == 400
    message = response.json()["member_ids"][0]
    assert "8888" in message and "9999" in message
    assert str(a.pk) not in message.replace("8888", "").replace("9999", "")
    assert not Chat.objects.exists()


def test_more_members_than_capacity_is_400(client_for):
    me, a, b = UserFactory(), UserFactory(), UserFactory()

    response = client_for(me).post(URL, {"name": "x", "capacity": 2, "member_ids": [a.pk, b.pk]})

    assert response.status_code == 400
    assert "member_ids" in response.json()
    assert not Chat.objects.exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "    "}, "name"),
        ({"name": "x" * 81}, "name"),
        ({"name": 5, "description": "d" * 501}, "description"),
        ({"name": "x", "passkey": "p" * 129}, "passkey"),
        ({"name": "x", "capacity": 1}, "capacity"),
        ({"name": "x", "capacity": 10_001}, "capacity"),
        ({"name": "x", "capacity": "many"}, "capacity"),
        ({"name": "x", "member_ids": "1"}, "member_ids"),
        ({"name": "x", "member_ids": ["a"]}, "member_ids"),
        ({"name": "x", "member_ids": [10**30]}, "member_ids"),
    ],
)
def test_invalid_input_is_400(client_for, payload, field):
    response = client_for(UserFactory()).post(URL, payload)

    assert response.status_code == 400
    assert field in response.json()
    assert not Chat.objects.exists()


def test_limits_are_inclusive(client_for):
    response = client_for(UserFactory()).post(
        URL, {"name": "x" * 80, "description": "d" * 500, "passkey": "p" * 128, "capacity": 10_000}
    )

    assert response.status_code == 201
    assert response.json()["capacity"] == 10_000


def test_null_capacity_is_unlimited(client_for):
    response = client_for(UserFactory()).post(URL, {"name": "x", "capacity": None})

    assert response.status_code == 201
    assert response.json()["capacity"] is None


def test_body_must_be_an_object(client_for):
    response = client_for(UserFactory()).post(URL, [1, 2], format="json")

    assert response.status_code == 400


def test_requires_authentication(api_client):
    assert api_client.post(URL, {"name": "x"}).status_code == 401
