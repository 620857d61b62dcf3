"""Membership is decided under the chat lock: a kick that commits first always wins.

On PostgreSQL, with real connections: a second connection holds the chat row lock, the
request under test queues behind it, the holder removes the membership and commits, and the
queued request is refused with 403, with nothing stored or changed.
"""

import threading
import time

import pytest
from django.db import connection, transaction

from accounts.tests.factories import UserFactory
from chats.models import Chat
from chats.services import member_remove
from chats.tests.factories import group_chat
from messaging.models import Like, Message
from messaging.services import message_send

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WAIT = 20  # seconds; never reached when things work


def wait_for_lock_waiters(count: int) -> None:
    """Until `count` other connections of this database wait on a lock."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
            if cursor.fetchone()[0] >= count:
                return
        time.sleep(0.02)
    raise AssertionError("the request never queued behind the chat lock")


def in_thread(target) -> tuple[threading.Thread, list]:
    results: list = []

    def run():
        try:
            results.append(target())
        except BaseException as exc:
            results.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, results


def kicked_while_queued(chat: Chat, member, request) -> object:
    """Hold the chat lock in one connection, queue `request` behind it in another, then
    remove `member` and commit; return what `request` returned."""
    locked, release = threading.Event(), threading.Event()

    def hold_and_kick():
        with transaction.atomic():
            Chat.objects.select_for_update().get(pk=chat.pk)
            locked.set()
            assert release.wait(WAIT)
            member_remove(chat=chat, user=member)

    holder, _ = in_thread(hold_and_kick)
    assert locked.wait(WAIT)
    queued, results = in_thread(request)
    wait_for_lock_waiters(1)
    release.set()
    holder.join(WAIT)
    queued.join(WAIT)
    assert not holder.is_alive() and not queued.is_alive()
    (result,) = results
    return result


@pytest.fixture
def chat_with_bob(client_for):
    alice, bob = UserFactory(), UserFactory()
    chat = group_chat(alice, members=[bob])
    earlier = message_send(chat=chat, author=alice, body="before the kick")[0]
    own = message_send(chat=chat, author=bob, body="bob's own")[0]
    return chat, bob, client_for(bob), earlier, own


def test_queued_send_of_a_kicked_member_is_refused(chat_with_bob):
    chat, bob, client, _, _ = chat_with_bob
    response = kicked_while_queued(
        chat, bob, lambda: client.post(f"/api/v1/chats/{chat.pk}/messages/", {"body": "late"})
    )
    assert response.status_code == 403, response.content
    assert response.json()["code"] == "permission_denied"
    assert not Message.objects.filter(body="late").exists()
    chat.refresh_from_db()
    assert chat.message_count == 2


def test_queued_edit_of_a_kicked_author_is_refused(chat_with_bob):
    chat, bob, client, _, own = chat_with_bob
    response = kicked_while_queued(
        chat, bob, lambda: client.patch(f"/api/v1/messages/{own.pk}/", {"body": "changed"})
    )
    assert response.status_code == 403, response.content
    own.refresh_from_db()
    assert (own.body, own.edited_at) == ("bob's own", None)


def test_queued_like_of_a_kicked_member_is_refused(chat_with_bob):
    chat, bob, client, earlier, _ = chat_with_bob
    response = kicked_while_queued(
        chat, bob, lambda: client.post(f"/api/v1/messages/{earlier.pk}/like/")
    )
    assert response.status_code == 403, response.content
    earlier.refresh_from_db()
    assert earlier.like_count == 0
    assert not Like.objects.filter(message=earlier).exists()
