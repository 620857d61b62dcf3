"""Concurrency on PostgreSQL, with real threads and connections.

Likes: the unique (message, user) key decides, and like_count moves only with a real insert.
Catch-up: message ids of one chat commit in order (the chat row lock in message_send), so
a reader polling ?after=<last id seen> never skips a message still in flight.
"""

import threading

import pytest
from django.db import connection
from rest_framework.throttling import ScopedRateThrottle

from accounts.tests.factories import UserFactory
from chats.tests.factories import group_chat
from chitchat.testing import raised, run_concurrently
from messaging.models import Like, Message
from messaging.services import message_send

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_six_users_liking_twice_at_once_count_six(client_for):
    owner = UserFactory()
    likers = UserFactory.create_batch(6)
    chat = group_chat(owner, members=likers)
    message = message_send(chat=chat, author=owner, body="like me")[0]
    clients = [client_for(user) for user in likers]
    statuses: list[int] = []

    def like(client):
        def run():
            statuses.append(client.post(f"/api/v1/messages/{message.pk}/like/").status_code)

        return run

    outcomes = run_concurrently([like(client) for client in clients for _ in range(2)])
    assert raised(outcomes) == []
    assert statuses == [200] * 12
    message.refresh_from_db()
    assert message.like_count == 6
    assert Like.objects.filter(message=message).count() == 6


def test_six_users_unliking_twice_at_once_count_zero(client_for):
    owner = UserFactory()
    likers = UserFactory.create_batch(6)
    chat = group_chat(owner, members=likers)
    message = message_send(chat=chat, author=owner, body="like me")[0]
    for client in map(client_for, likers):
        client.post(f"/api/v1/messages/{message.pk}/like/")
    clients = [client_for(user) for user in likers]
    responses = run_concurrently(
        [
            (lambda c=c: c.delete(f"/api/v1/messages/{message.pk}/like/"))
            for c in clients
            for _ in range(2)
        ]
    )
    assert raised(responses) == []
    assert [r.status_code for r in responses] == [200] * 12
    message.refresh_from_db()
    assert message.like_count == 0


def test_reader_polling_after_sees_every_message_exactly_once(client_for, monkeypatch):
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"message": None})
    owner = UserFactory()
    senders = UserFactory.create_batch(6)
    chat = group_chat(owner, members=senders)
    per_sender = 25
    reader = client_for(owner)
    done = threading.Event()
    seen: list[int] = []
    sender_clients = [client_for(user) for user in senders]

    def send_all(client, n):
        def run():
            for i in range(per_sender):
                response = client.post(f"/api/v1/chats/{chat.pk}/messages/", {"body": f"s{n} m{i}"})
                assert response.status_code == 201, response.content

        return run

    def poll():
        last = 0
        finished = False
        while True:
            # Read the flag first: one more full catch-up after every sender finished.
            finished = done.is_set()
            url = f"/api/v1/chats/{chat.pk}/messages/?after={last}&page_size=200"
            while url:
                body = reader.get(url).json()
                seen.extend(m["id"] for m in body["results"])
                if body["results"]:
                    last = body["results"][-1]["id"]
                url = body["next"]
            if finished:
                return

    reader_thread_errors: list[BaseException] = []

    def reader_run():
        try:
            poll()
        except BaseException as exc:
            reader_thread_errors.append(exc)
        finally:
            connection.close()

    reader_thread = threading.Thread(target=reader_run)
    reader_thread.start()
    outcomes = run_concurrently([send_all(c, n) for n, c in enumerate(sender_clients)])
    done.set()
    reader_thread.join(timeout=120)
    assert not reader_thread.is_alive()
    assert raised(outcomes) == []
    assert reader_thread_errors == []

    expected = list(Message.objects.filter(chat=chat).order_by("id").values_list("id", flat=True))
    assert len(expected) == 6 * per_sender
    assert seen == expected  # each once, in order
    chat.refresh_from_db()
    assert chat.message_count == 6 * per_sender
    assert chat.last_message_id == expected[-1]
