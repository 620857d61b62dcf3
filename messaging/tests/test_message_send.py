"""POST chats/{id}/messages/ and POST users/{id}/messages/."""

import pytest
from django.db import connection

from chats.models import Chat
from chats.tests.factories import direct_chat, group_chat
from messaging.models import Message

pytestmark = pytest.mark.django_db


def url(chat_id):
    return f"/api/v1/chats/{chat_id}/messages/"


def test_member_sends_and_chat_counters_follow(
    client_for, group, bob, sent_events, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(bob).post(url(group.pk), {"body": "hello", "client_id": "c-1"})
    assert response.status_code == 201, response.data
    body = response.json()
    message = Message.objects.get()
    assert body == {
        "id": message.pk,
        "chat_id": group.pk,
        "author": {"id": bob.pk, "username": "bob"},
        "body": "hello",
        "created_at": body["created_at"],
        "edited_at": None,
        "like_count": 0,
        "liked_by_me": False,
        "client_id": "c-1",
        "attachments": [],
        "reply_to": None,
        "reply_count": 0,
        "reactions": [],
        "pinned": False,
        "mentions": [],
    }
    assert body["created_at"].endswith("Z")
    group.refresh_from_db()
    assert group.message_count == 1
    assert group.last_message_id == message.pk
    assert group.last_activity_at == message.created_at
    (frame,) = sent_events.of_type()
    assert frame["type"] == "message.created"
    assert frame["chat_id"] == group.pk
    expected = dict(body)
    del expected["liked_by_me"]
    assert frame["data"] == expected


def test_client_id_replay_returns_first_message_with_200(
    client_for, group, bob, sent_events, django_capture_on_commit_callbacks
):
    client = client_for(bob)
    first = client.post(url(group.pk), {"body": "once", "client_id": "abc"})
    with django_capture_on_commit_callbacks(execute=True):
        again = client.post(url(group.pk), {"body": "twice?", "client_id": "abc"})
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json() == first.json()
    assert Message.objects.count() == 1
    group.refresh_from_db()
    assert group.message_count == 1
    assert sent_events.of_type() == []


def test_same_client_id_by_another_author_or_chat_is_a_new_message(client_for, group, alice, bob):
    other = group_chat(alice, members=[bob])
    assert client_for(bob).post(url(group.pk), {"body": "a", "client_id": "x"}).status_code == 201
    assert client_for(alice).post(url(group.pk), {"body": "b", "client_id": "x"}).status_code == 201
    assert client_for(bob).post(url(other.pk), {"body": "c", "client_id": "x"}).status_code == 201
    assert Message.objects.count() == 3


def test_without_client_id_every_post_is_new(client_for, group, bob):
    client = client_for(bob)
    for _ in range(2):
        response = client.post(url(group.pk), {"body": "same", "client_id": None})
        assert response.status_code == 201
        assert response.json()["client_id"] is None
    assert Message.objects.count() == 2


def test_body_is_kept_as_written(client_for, group, bob):
    response = client_for(bob).post(url(group.pk), {"body": "  spaced  \n"})
    assert response.status_code == 201
    assert response.json()["body"] == "  spaced  \n"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "body"),
        ({"body": ""}, "body"),
        ({"body": "   \n\t"}, "body"),
        ({"body": "x" * 5001}, "body"),
        ({"body": None}, "body"),
        ({"body": ["list"]}, "body"),
        ({"body": "ok", "client_id": "c" * 65}, "client_id"),
        ({"body": "ok", "client_id": ""}, "client_id"),
    ],
)
def test_invalid_body_or_client_id_is_400(client_for, group, bob, payload, field):
    response = client_for(bob).post(url(group.pk), payload)
    assert response.status_code == 400
    assert field in response.json()
    assert Message.objects.count() == 0


def test_body_of_5000_chars_is_accepted(client_for, group, bob):
    response = client_for(bob).post(url(group.pk), {"body": "é" * 5000, "client_id": "c" * 64})
    assert response.status_code == 201
    assert len(response.json()["body"]) == 5000


def test_malformed_json_is_400(client_for, group, bob):
    response = client_for(bob).post(url(group.pk), b"{nope", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_json_array_is_400(client_for, group, bob):
    response = client_for(bob).post(url(group.pk), ["body"])
    assert response.status_code == 400
    assert "non_field_errors" in response.json()


def test_non_member_of_visible_chat_is_403(client_for, group, carol):
    response = client_for(carol).post(url(group.pk), {"body": "hi"})
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert Message.objects.count() == 0


def test_non_member_of_private_chat_is_403(client_for, alice, carol):
    chat = group_chat(alice, passkey="secret")
    response = client_for(carol).post(url(chat.pk), {"body": "hi"})
    assert response.status_code == 403


def test_someone_elses_direct_chat_is_404(client_for, alice, bob, carol):
    chat = direct_chat(alice, bob)
    response = client_for(carol).post(url(chat.pk), {"body": "hi"})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize("chat_id", ["999999", "9" * 18])
def test_unknown_chat_is_404(client_for, bob, chat_id):
    response = client_for(bob).post(f"/api/v1/chats/{chat_id}/messages/", {"body": "hi"})
    assert response.status_code == 404


def test_anonymous_is_401(api_client, group):
    response = api_client.post(url(group.pk), {"body": "hi"})
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_put_is_405(client_for, group, bob):
    assert client_for(bob).put(url(group.pk), {"body": "hi"}).status_code == 405


# ---------------------------------------------------------------------------
# POST users/{id}/messages/
# ---------------------------------------------------------------------------
def test_direct_message_creates_the_direct_chat(client_for, alice, bob):
    response = client_for(alice).post(f"/api/v1/users/{bob.pk}/messages/", {"body": "psst"})
    assert response.status_code == 201, response.data
    chat = Chat.objects.get(kind=Chat.Kind.DIRECT)
    assert response.json()["chat_id"] == chat.pk
    assert set(chat.memberships.values_list("user_id", flat=True)) == {alice.pk, bob.pk}
    chat.refresh_from_db()
    assert chat.message_count == 1

    # Either side writes into the same chat afterwards.
    again = client_for(bob).post(f"/api/v1/users/{alice.pk}/messages/", {"body": "yes?"})
    assert again.status_code == 201
    assert again.json()["chat_id"] == chat.pk
    assert Chat.objects.filter(kind=Chat.Kind.DIRECT).count() == 1


def test_direct_message_replay_is_200(client_for, alice, bob):
    client = client_for(alice)
    first = client.post(f"/api/v1/users/{bob.pk}/messages/", {"body": "a", "client_id": "k"})
    again = client.post(f"/api/v1/users/{bob.pk}/messages/", {"body": "a", "client_id": "k"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]


def test_direct_message_to_unknown_user_is_404(client_for, alice):
    response = client_for(alice).post("/api/v1/users/999999/messages/", {"body": "hi"})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_direct_message_to_oneself_is_400(client_for, alice):
    response = client_for(alice).post(f"/api/v1/users/{alice.pk}/messages/", {"body": "hi"})
    assert response.status_code == 400
    assert "user_id" in response.json()
    assert not Chat.objects.exists()


def test_direct_message_invalid_body_is_400_and_creates_no_chat(client_for, alice, bob):
    response = client_for(alice).post(f"/api/v1/users/{bob.pk}/messages/", {"body": " "})
    assert response.status_code == 400
    assert "body" in response.json()
    assert not Chat.objects.exists()


def test_direct_message_anonymous_is_401(api_client, bob):
    assert api_client.post(f"/api/v1/users/{bob.pk}/messages/", {"body": "x"}).status_code == 401


def test_sending_is_throttled_with_429(client_for, group, bob, monkeypatch):
    from rest_framework.throttling import ScopedRateThrottle

    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"message": "2/min"})
    client = client_for(bob)
    statuses = [client.post(url(group.pk), {"body": "x"}).status_code for _ in range(3)]
    assert statuses == [201, 201, 429]
    response = client.post(url(group.pk), {"body": "x"})
    assert response.json()["code"] == "throttled"
    assert "Retry-After" in response.headers


@pytest.mark.parametrize("client_id", [None, "c-9"])
def test_send_query_count_is_fixed(
    client_for, group, bob, send, django_assert_num_queries, client_id
):
    for i in range(30):
        send(group, bob, f"earlier {i}")
    client = client_for(bob)
    assert client.get("/api/v1/users/me/").status_code == 200  # the token's mark cached
    data = {"body": "one more"} | ({"client_id": client_id} if client_id else {})
    # The service's transaction (a savepoint inside the test's): the chat locked, counted
    # and the message's id drawn (the author's username read with it); then the insert
    # guarded by the membership and the client_id and the event log's insert, in one query
    # on PostgreSQL (chitchat.batch), one after the other on SQLite. A client_id costs
    # nothing.
    with django_assert_num_queries(4 if connection.vendor == "postgresql" else 5):
        response = client.post(url(group.pk), data, format="json")
    assert response.status_code == 201
    # A replay: the lock, the insert that stores nothing, the look-up, the rollback of the
    # counting (to the savepoint), whether the author liked it (no attachments to read).
    if client_id:
        with django_assert_num_queries(7):
            replay = client.post(url(group.pk), data, format="json")
        assert replay.status_code == 200
        assert replay.json() == response.json()


def test_a_send_that_read_the_clock_before_a_later_one_never_moves_time_back(
    group, bob, alice, send, monkeypatch
):
    """A send reads the clock, then may wait for the chat's lock behind a later one (or run
    on a process whose clock is behind): its message is stamped no earlier than the chat's
    last activity, so times never go back along a chat's ids."""
    from datetime import timedelta

    from django.utils import timezone

    from chitchat.invariants import check_invariants
    from messaging import services

    first = send(group, alice, "first")
    behind = first.created_at - timedelta(seconds=5)
    monkeypatch.setattr(services.timezone, "now", lambda: behind)
    second = send(group, bob, "second")
    monkeypatch.undo()
    assert second.pk > first.pk
    stored = Message.objects.get(pk=second.pk)
    assert stored.created_at == first.created_at == second.created_at
    assert Chat.objects.get(pk=group.pk).last_activity_at == first.created_at
    assert timezone.now() >= stored.created_at
    assert check_invariants() == []
