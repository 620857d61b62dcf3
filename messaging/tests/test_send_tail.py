"""The send as its own transaction on PostgreSQL: its tail (the message, the event-log row
and the COMMIT) goes out in one query (chitchat.batch), and a failed insert still answers
as the contract says (a replay 200, a non-member 403/404) with nothing stored or counted
and the connection as good as before.

Real commits (transaction=True): the send is the outermost transaction, as in a request.
"""

import pytest
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import UserFactory
from chats.models import Chat
from chats.tests.factories import direct_chat, group_chat
from live.log import format_pos
from live.models import Event
from messaging.models import Mention, Message
from messaging.services import _refused_send

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def url(chat_id):
    return f"/api/v1/chats/{chat_id}/messages/"


def tails(queries) -> list[list[str]]:
    """The queries that joined several statements, as their statements' first words."""
    return [
        [" ".join(part.split()[:2]) for part in query["sql"].split("; ")]
        for query in queries
        if "; " in query["sql"]
    ]


def clean(raw) -> bool:
    """The same psycopg connection as before, idle (no transaction), not pipelined."""
    return (
        connection.connection is raw
        and raw.pgconn.transaction_status == 0
        and raw.pgconn.pipeline_status == 0
    )


def counters(chat: Chat) -> tuple[int, int | None]:
    chat.refresh_from_db()
    return chat.message_count, chat.last_message_id


def test_plain_send_sends_its_tail_and_commit_in_one_query(client_for, group, bob, sent_events):
    client = client_for(bob)
    with CaptureQueriesContext(connection) as queries:
        response = client.post(url(group.pk), {"body": "hello", "client_id": "t-1"})
    assert response.status_code == 201, response.content
    assert tails(queries) == [["INSERT INTO", "INSERT INTO", "COMMIT"]]
    message = Message.objects.get()
    assert response.json()["id"] == message.pk
    assert (message.author_id, message.body, message.client_id) == (bob.pk, "hello", "t-1")
    assert counters(group) == (1, message.pk)
    # The event's position is its log row's.
    (frame,) = [
        sent["frame"]
        for _, sent in sent_events
        if sent.get("frame", {}).get("type") == "message.created"
    ]
    (row,) = Event.objects.filter(chat_id=group.pk, frame__contains='"message.created"')
    assert frame["pos"] == format_pos((row.tx, row.pk))
    assert frame["data"]["id"] == message.pk


def test_replay_in_its_own_transaction_is_200_and_counts_nothing(
    client_for, group, bob, sent_events
):
    client = client_for(bob)
    first = client.post(url(group.pk), {"body": "once", "client_id": "again"})
    before, logged = counters(group), Event.objects.count()
    raw = connection.connection
    again = client.post(url(group.pk), {"body": "twice?", "client_id": "again"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert clean(raw)  # the failed query rolled back; no reconnect
    assert Message.objects.count() == 1
    assert counters(group) == before
    assert Event.objects.count() == logged
    assert len(sent_events.of_type("message.created")) == 1


def test_non_member_is_refused_and_nothing_is_stored(client_for, group, sent_events):
    client = client_for(UserFactory())
    client.get("/api/v1/users/me/")
    raw = connection.connection
    response = client.post(url(group.pk), {"body": "let me in"})
    assert response.status_code == 403, response.content
    assert response.json()["code"] == "permission_denied"
    assert clean(raw)
    assert not Message.objects.exists()
    assert counters(group) == (0, None)
    assert not Event.objects.filter(chat_id=group.pk, frame__contains="message.created").exists()
    assert sent_events.of_type("message.created") == []


def test_someone_elses_direct_chat_is_404(client_for, alice, bob):
    chat = direct_chat(alice, bob)
    response = client_for(UserFactory()).post(url(chat.pk), {"body": "psst"})
    assert response.status_code == 404, response.content
    assert not Message.objects.exists()
    assert counters(chat) == (0, None)


def test_missing_chat_is_404(client_for, bob):
    response = client_for(bob).post(url(999_999), {"body": "anyone?"})
    assert response.status_code == 404


def test_rich_send_batches_only_its_event_after_its_own_writes(
    client_for, group, alice, bob, sent_events
):
    client = client_for(bob)
    parent = client.post(url(group.pk), {"body": "question"}).json()
    payload = {"body": "@alice answer", "reply_to": parent["id"], "client_id": "rich"}
    with CaptureQueriesContext(connection) as queries:
        response = client.post(url(group.pk), payload, format="json")
    assert response.status_code == 201, response.content
    assert tails(queries) == [["INSERT INTO", "COMMIT"]]  # the event-log row
    body = response.json()
    assert body["mentions"] == [{"id": alice.pk, "username": "alice"}]
    assert body["reply_to"]["id"] == parent["id"]
    assert Mention.objects.filter(message_id=body["id"], user=alice).exists()
    assert Message.objects.get(pk=parent["id"]).reply_count == 1
    raw = connection.connection
    replay = client.post(url(group.pk), payload, format="json")
    assert replay.status_code == 200
    assert replay.json() == body
    assert clean(raw)
    assert Message.objects.get(pk=parent["id"]).reply_count == 1
    assert Mention.objects.count() == 1
    assert counters(group) == (2, body["id"])


def test_an_unexplained_integrity_error_is_raised_not_translated(group, bob):
    # A member without a client_id: neither a replay nor a refusal, so a real error (500).
    error = IntegrityError("some other constraint")
    with pytest.raises(IntegrityError) as raised:
        _refused_send(chat_id=group.pk, author=bob, client_id=None, error=error)
    assert raised.value is error
    assert group_chat(bob).pk  # the connection is still usable


@pytest.mark.parametrize(
    "text",
    ["it's 100%; COMMIT; --", "%s %(user_id)s %%", "'); DELETE FROM messaging_message; --"],
)
def test_quotes_percents_and_semicolons_are_stored_as_sent(client_for, group, bob, text):
    # The tail binds its parameters on the client (psycopg's quoting): a body is a value.
    response = client_for(bob).post(url(group.pk), {"body": text, "client_id": text})
    assert response.status_code == 201, response.content
    assert response.json()["body"] == text
    (message,) = Message.objects.all()
    assert (message.body, message.client_id) == (text, text)
    assert counters(group) == (1, message.pk)
