"""1.1 mentions: the `mentions` field, GET messages/mentions/ and chats' `mention_count`."""

import pytest

from accounts.tests.factories import UserFactory
from chitchat.invariants import check_invariants
from messaging.models import Mention
from messaging.tests.conftest import add_member

pytestmark = pytest.mark.django_db


def send_url(chat_id):
    return f"/api/v1/chats/{chat_id}/messages/"


def post(client, chat_id, body):
    response = client.post(send_url(chat_id), {"body": body}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


@pytest.fixture(autouse=True)
def _counters_agree(db):
    yield
    assert check_invariants() == []


def ref(user):
    return {"id": user.pk, "username": user.username}


def test_mentions_members_once_in_first_appearance_order_ignoring_case(
    client_for, group, alice, bob, carol, sent_events, django_capture_on_commit_callbacks
):
    add_member(group, carol)
    outsider = UserFactory(username="dave")
    with django_capture_on_commit_callbacks(execute=True):
        body = post(
            client_for(alice),
            group.pk,
            "@Carol and @bob, then @carol again; @dave and @nobody stay plain",
        )
    assert body["mentions"] == [ref(carol), ref(bob)]
    (frame,) = sent_events.of_type("message.created")
    assert frame["data"]["mentions"] == [ref(carol), ref(bob)]
    assert outsider.pk not in Mention.objects.values_list("user_id", flat=True)


@pytest.mark.parametrize(
    ("text", "mentioned"),
    [
        ("@bob", True),
        ("hi @bob.", True),  # sentence punctuation after the name
        ("(@bob)", True),
        ("hi,@bob!", True),
        ("bob@bob", False),  # after a letter: an e-mail address, not a mention
        ("x.@bob", False),  # after one of @.+-_
        ("_@bob", False),
        ("1@bob", False),
        ("@bobby", False),  # another name
        ("@ bob", False),
    ],
)
def test_what_counts_as_a_mention(client_for, group, alice, bob, text, mentioned):
    body = post(client_for(alice), group.pk, text)
    assert body["mentions"] == ([ref(bob)] if mentioned else [])


def test_username_with_punctuation_is_matched_whole(client_for, group, alice):
    dotted = UserFactory(username="j.doe")
    add_member(group, dotted)
    body = post(client_for(alice), group.pk, "ask @J.Doe.")
    assert body["mentions"] == [ref(dotted)]


def test_editing_recomputes_mentions(client_for, group, alice, bob, carol):
    add_member(group, carol)
    client = client_for(alice)
    message = post(client, group.pk, "@bob look")
    response = client.patch(
        f"/api/v1/messages/{message['id']}/", {"body": "@carol look, @alice too"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["mentions"] == [ref(carol), ref(alice)]
    detail = client_for(bob).get(f"/api/v1/messages/{message['id']}/").json()
    assert detail["mentions"] == [ref(carol), ref(alice)]
    response = client.patch(f"/api/v1/messages/{message['id']}/", {"body": "no one"})
    assert response.json()["mentions"] == []


def test_mentions_list_newest_first_only_chats_still_in(client_for, group, alice, bob, carol, send):
    from chats.tests.factories import group_chat

    other = group_chat(carol, members=[bob], name="other")
    first = post(client_for(alice), group.pk, "@bob one")
    post(client_for(alice), group.pk, "no mention")
    second = post(client_for(carol), other.pk, "@bob two")
    client = client_for(bob)
    response = client.get("/api/v1/messages/mentions/")
    assert response.status_code == 200
    assert [m["id"] for m in response.json()["results"]] == [second["id"], first["id"]]
    assert client.post(f"/api/v1/chats/{other.pk}/leave/").status_code == 204
    response = client.get("/api/v1/messages/mentions/")
    assert [m["id"] for m in response.json()["results"]] == [first["id"]]
    assert client_for(alice).get("/api/v1/messages/mentions/").json()["results"] == []


def test_mentions_list_paginated_with_fixed_query_count(
    client_for, group, alice, bob, send, django_assert_num_queries
):
    sent = [send(group, alice, f"@bob number {i}") for i in range(120)]
    client = client_for(bob)
    client.get("/api/v1/messages/mentions/")  # the token's user, once
    # The page, then the mentions of all its messages (no attachments: no query for them).
    with django_assert_num_queries(2):
        response = client.get("/api/v1/messages/mentions/", {"page_size": 100})
    first = response.json()
    assert [m["id"] for m in first["results"]] == [m.pk for m in reversed(sent)][:100]
    assert all(m["mentions"] == [ref(bob)] for m in first["results"])
    rest = client.get(first["next"]).json()
    assert [m["id"] for m in rest["results"]] == [m.pk for m in reversed(sent)][100:]


def test_chat_mention_count_follows_the_read_marker(client_for, group, alice, bob, carol):
    add_member(group, carol)
    client = client_for(bob)
    first = post(client_for(alice), group.pk, "@bob first")
    post(client_for(carol), group.pk, "no mention")
    last = post(client_for(carol), group.pk, "@bob and @alice")
    post(client, group.pk, "@bob myself")  # one's own message does not count
    chat = client.get(f"/api/v1/chats/{group.pk}/").json()
    assert chat["mention_count"] == 2
    mine = client.get("/api/v1/chats/", {"mine": "true"}).json()["results"]
    assert mine[0]["mention_count"] == 2
    client.post(f"/api/v1/chats/{group.pk}/read/", {"message_id": first["id"]})
    assert client.get(f"/api/v1/chats/{group.pk}/").json()["mention_count"] == 1
    client.post(f"/api/v1/chats/{group.pk}/read/", {"message_id": last["id"]})
    assert client.get(f"/api/v1/chats/{group.pk}/").json()["mention_count"] == 0
    # Not a member: null.
    outsider = client_for(UserFactory()).get(f"/api/v1/chats/{group.pk}/").json()
    assert outsider["mention_count"] is None


def test_deleting_a_mentioned_account_fixes_counts(client_for, group, alice, bob):
    message = post(client_for(alice), group.pk, "@bob and @alice")
    bob.set_password("pw-for-bob-1")
    bob.save()
    response = client_for(bob).delete(
        "/api/v1/users/me/", {"password": "pw-for-bob-1"}, format="json"
    )
    assert response.status_code == 204
    body = client_for(alice).get(f"/api/v1/messages/{message['id']}/").json()
    assert body["mentions"] == [ref(alice)]


def test_deleting_the_chat_removes_mentions(client_for, group, alice, bob):
    post(client_for(alice), group.pk, "@bob hi")
    assert client_for(alice).delete(f"/api/v1/chats/{group.pk}/").status_code == 204
    assert not Mention.objects.exists()
