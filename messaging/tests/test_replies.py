"""1.1 replies: `reply_to` on send, the `reply_to` preview and `reply_count` fields, and
GET messages/{id}/replies/."""

import pytest

from chats.tests.factories import direct_chat, group_chat
from chitchat.invariants import check_invariants
from messaging.models import Message
from messaging.tests.conftest import add_member

pytestmark = pytest.mark.django_db


def send_url(chat_id):
    return f"/api/v1/chats/{chat_id}/messages/"


def replies_url(message_id):
    return f"/api/v1/messages/{message_id}/replies/"


@pytest.fixture(autouse=True)
def _counters_agree(db):
    yield
    assert check_invariants() == []


def test_reply_carries_a_preview_and_counts_on_the_parent(
    client_for, group, alice, bob, send, sent_events, django_capture_on_commit_callbacks
):
    parent = send(group, alice, "x" * 150 + "y" * 100)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(bob).post(
            send_url(group.pk), {"body": "answer", "reply_to": parent.pk}, format="json"
        )
    assert response.status_code == 201
    preview = {
        "id": parent.pk,
        "author": {"id": alice.pk, "username": "alice"},
        "body": "x" * 150 + "y" * 50,
    }
    assert response.json()["reply_to"] == preview
    assert response.json()["reply_count"] == 0
    (frame,) = sent_events.of_type("message.created")
    assert frame["data"]["reply_to"] == preview
    detail = client_for(bob).get(f"/api/v1/messages/{parent.pk}/").json()
    assert detail["reply_count"] == 1 and detail["reply_to"] is None
    page = client_for(alice).get(send_url(group.pk)).json()["results"]
    assert [(m["reply_to"] and m["reply_to"]["id"], m["reply_count"]) for m in page] == [
        (parent.pk, 0),
        (None, 1),
    ]


def test_reply_to_another_chats_or_unknown_message_is_400(client_for, group, alice, bob, send):
    elsewhere = send(group_chat(bob, name="other"), bob)
    for reply_to in (elsewhere.pk, 10**12, "abc", 0, True):
        response = client_for(bob).post(
            send_url(group.pk), {"body": "answer", "reply_to": reply_to}, format="json"
        )
        assert response.status_code == 400, reply_to
        assert list(response.json()) == ["reply_to"]
    assert not Message.objects.filter(chat=group).exists()


def test_reply_to_null_is_a_plain_message(client_for, group, bob):
    response = client_for(bob).post(
        send_url(group.pk), {"body": "plain", "reply_to": None}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["reply_to"] is None


def test_non_member_gets_403_before_the_reply_to_check(client_for, group, carol, alice, send):
    parent = send(group, alice)
    response = client_for(carol).post(
        send_url(group.pk), {"body": "hi", "reply_to": parent.pk}, format="json"
    )
    assert response.status_code == 403


def test_deleted_parent_shows_as_deleted(client_for, group, alice, bob, send):
    parent = send(group, alice)
    reply = send(group, bob, "answer", reply_to=parent.pk)
    assert client_for(alice).delete(f"/api/v1/messages/{parent.pk}/").status_code == 204
    body = client_for(bob).get(f"/api/v1/messages/{reply.pk}/").json()
    assert body["reply_to"] == {"id": parent.pk, "author": None, "body": None, "deleted": True}


def test_deleting_a_reply_lowers_the_count(client_for, group, alice, bob, send):
    parent = send(group, alice)
    reply = send(group, bob, "answer", reply_to=parent.pk)
    send(group, alice, "second", reply_to=parent.pk)
    assert client_for(bob).delete(f"/api/v1/messages/{reply.pk}/").status_code == 204
    assert client_for(bob).get(f"/api/v1/messages/{parent.pk}/").json()["reply_count"] == 1


def test_deleting_an_account_recounts_replies_to_others(client_for, group, alice, bob, send):
    parent = send(group, alice)
    send(group, bob, "answer", reply_to=parent.pk)
    send(group, alice, "mine", reply_to=parent.pk)
    bob.set_password("pw-for-bob-1")
    bob.save()
    response = client_for(bob).delete(
        "/api/v1/users/me/", {"password": "pw-for-bob-1"}, format="json"
    )
    assert response.status_code == 204
    assert client_for(alice).get(f"/api/v1/messages/{parent.pk}/").json()["reply_count"] == 1


def test_direct_message_reply(client_for, alice, bob):
    chat = direct_chat(alice, bob)
    first = client_for(alice).post(f"/api/v1/users/{bob.pk}/messages/", {"body": "hi"})
    response = client_for(bob).post(
        f"/api/v1/users/{alice.pk}/messages/",
        {"body": "hello", "reply_to": first.json()["id"]},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["chat_id"] == chat.pk
    assert response.json()["reply_to"]["id"] == first.json()["id"]


def test_replies_oldest_first_paginated_with_fixed_query_count(
    client_for, group, alice, bob, send, django_assert_num_queries
):
    parent = send(group, alice)
    other = send(group, alice)
    replies = [send(group, (alice, bob)[i % 2], f"r{i}", reply_to=parent.pk) for i in range(120)]
    send(group, bob, "to the other", reply_to=other.pk)
    client = client_for(bob)
    client.get(replies_url(parent.pk))  # the token's user, once
    # The parent (with its chat), the caller's role, the page, the parent's preview (no
    # attachments to look up).
    with django_assert_num_queries(4):
        response = client.get(replies_url(parent.pk), {"page_size": 100})
    assert response.status_code == 200
    first = response.json()
    assert [m["id"] for m in first["results"]] == [r.pk for r in replies[:100]]
    assert all(m["reply_to"]["id"] == parent.pk for m in first["results"])
    rest = client.get(first["next"]).json()
    assert [m["id"] for m in rest["results"]] == [r.pk for r in replies[100:]]
    assert rest["next"] is None
    back = client.get(rest["previous"], {"page_size": 100}).json()
    assert [m["id"] for m in back["results"]] == [r.pk for r in replies[:100]]


def test_replies_members_only(client_for, group, alice, bob, carol, send):
    parent = send(group, alice)
    assert client_for(carol).get(replies_url(parent.pk)).status_code == 403
    dm = send(direct_chat(alice, bob), alice)
    assert client_for(carol).get(replies_url(dm.pk)).status_code == 404
    add_member(group, carol)
    assert client_for(carol).get(replies_url(parent.pk)).json()["results"] == []


def test_reply_with_a_mention_is_sent_in_a_fixed_number_of_queries(
    client_for,
    group,
    alice,
    bob,
    send,
    sent_events,
    django_assert_num_queries,
    django_capture_on_commit_callbacks,
):
    """What the send reads under the lock (the parent's preview, the mentioned members) is
    the body's reply_to and mentions: neither the event nor the response reads them again."""
    parent = send(group, alice, "the question")
    client = client_for(bob)
    assert client.get("/api/v1/users/me/").status_code == 200  # the token's mark cached
    # Savepoint, lock (counting, the id), membership, parent preview, mentioned members,
    # insert, parent's reply_count, mention row, event log, release.
    with django_capture_on_commit_callbacks(execute=True), django_assert_num_queries(10):
        response = client.post(
            send_url(group.pk),
            {"body": "@Alice here", "reply_to": parent.pk, "client_id": "r-1"},
            format="json",
        )
    assert response.status_code == 201
    body = response.json()
    assert body["reply_to"] == {
        "id": parent.pk,
        "author": {"id": alice.pk, "username": "alice"},
        "body": "the question",
    }
    assert body["mentions"] == [{"id": alice.pk, "username": "alice"}]
    (frame,) = sent_events.of_type("message.created")
    assert frame["data"]["reply_to"] == body["reply_to"]
    assert frame["data"]["mentions"] == body["mentions"]
    # The stored message reads back the same; a replay changes no count.
    replay = client.post(
        send_url(group.pk),
        {"body": "@Alice here", "reply_to": parent.pk, "client_id": "r-1"},
        format="json",
    )
    assert replay.status_code == 200
    assert replay.json() == client.get(f"/api/v1/messages/{body['id']}/").json()
    assert client.get(f"/api/v1/messages/{parent.pk}/").json()["reply_count"] == 1
    assert check_invariants() == []
