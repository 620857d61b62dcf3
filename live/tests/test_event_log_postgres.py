"""The event log under concurrent transactions, on PostgreSQL (real threads and connections).

The failure case of a plain bigserial position: a transaction that drew a smaller id
commits after one that drew a larger id. A reader that returned the larger one and moved
its cursor past it would never deliver the smaller. live/log.py's watermark holds the
larger one back until the smaller's transaction has ended.
"""

import random
import threading
import time

import pytest
from django.db import connection, transaction

from accounts.tests.factories import UserFactory
from chats.services import chat_create
from chitchat.testing import raised, run_concurrently
from live.models import Event
from live.tests.conftest import all_events, events
from messaging.services import message_send

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_an_earlier_id_committing_later_is_not_skipped(client_for):
    alice = UserFactory(username="alice")
    api = client_for(alice)
    slow_chat = chat_create(creator=alice, name="slow")
    fast_chat = chat_create(creator=alice, name="fast")
    start = events(api)["pos"]
    start_id = Event.objects.order_by("-id").values_list("id", flat=True).first()
    inserted, release = threading.Event(), threading.Event()
    errors = []

    def slow_sender():
        try:
            with transaction.atomic():
                message_send(chat=slow_chat, author=alice, body="slow")
                inserted.set()
                assert release.wait(30)
        except BaseException as exc:
            errors.append(exc)
            inserted.set()
        finally:
            connection.close()

    thread = threading.Thread(target=slow_sender)
    thread.start()
    try:
        assert inserted.wait(30)
        message_send(chat=fast_chat, author=alice, body="fast")  # commits first
        # The failure case is real: the committed row has the larger id, the smaller one is
        # still in flight, so "id > cursor" would return "fast" and move past "slow".
        visible = list(Event.objects.filter(id__gt=start_id).values_list("id", "frame"))
        assert len(visible) == 1 and '"fast"' in visible[0][1]
        # The log holds "fast" back while the transaction of "slow" runs.
        assert events(api, start) == {"events": [], "pos": start, "has_more": False}
    finally:
        release.set()
        thread.join(30)
    assert not errors
    frames, _ = all_events(api, start)
    assert [frame["data"]["body"] for frame in frames] == ["slow", "fast"]
    slow_id, fast_id = (frame["data"]["id"] for frame in frames)
    assert (
        Event.objects.get(frame__contains=f'"id":{slow_id},').id
        < Event.objects.get(frame__contains=f'"id":{fast_id},').id
    )


def test_a_chats_events_follow_its_commit_order_even_with_an_older_transaction_id(client_for):
    """A transaction whose id was drawn before it waited for the chat lock still sorts after
    the one that held the lock (the key takes the chat's newest key)."""
    alice = UserFactory(username="alice")
    api = client_for(alice)
    chat = chat_create(creator=alice, name="ordered")
    other = chat_create(creator=alice, name="other")
    start = events(api)["pos"]
    has_xid, holder_locked, go = threading.Event(), threading.Event(), threading.Event()
    errors = []

    def early_writer():  # draws its transaction id first, then waits for the chat lock
        try:
            with transaction.atomic():
                message_send(chat=other, author=alice, body="draws an id")
                has_xid.set()
                assert go.wait(30)
                message_send(chat=chat, author=alice, body="second")
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    def lock_holder():
        try:
            assert has_xid.wait(30)
            with transaction.atomic():
                message_send(chat=chat, author=alice, body="first")
                holder_locked.set()
                go.set()
                time.sleep(0.3)  # the early writer now waits for the lock
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=early_writer), threading.Thread(target=lock_holder)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    frames, _ = all_events(api, start)
    in_chat = [f["data"]["body"] for f in frames if f["chat_id"] == chat.pk]
    assert in_chat == ["first", "second"]


def test_six_senders_in_many_chats_and_a_polling_reader_get_everything_once_in_order(
    client_for,
):
    reader = UserFactory(username="reader")
    senders = UserFactory.create_batch(6)
    chats = [
        chat_create(creator=reader, name=f"c{i}", member_ids=[s.pk for s in senders])
        for i in range(12)
    ]
    api = client_for(reader)
    start = events(api)["pos"]
    per_sender = 25
    sent: list[int] = []
    sent_lock = threading.Lock()
    done = threading.Event()
    received: list[dict] = []
    reader_errors: list[BaseException] = []

    def sender(user, seed):
        def run():
            rng = random.Random(seed)
            for i in range(per_sender):
                message, _ = message_send(chat=rng.choice(chats), author=user, body=f"{i}")
                with sent_lock:
                    sent.append(message.pk)

        return run

    def poll():
        pos = start
        try:
            while True:
                finished = done.is_set()
                while True:
                    page = events(api, pos, limit=50)
                    received.extend(page["events"])
                    pos = page["pos"]
                    if not page["has_more"]:
                        break
                if finished:
                    return
                time.sleep(0.005)
        except BaseException as exc:
            reader_errors.append(exc)
        finally:
            connection.close()

    polling = threading.Thread(target=poll)
    polling.start()
    errors = raised(run_concurrently([sender(user, seed) for seed, user in enumerate(senders)]))
    done.set()
    polling.join(120)
    assert not errors and not reader_errors
    created = [f for f in received if f["type"] == "message.created"]
    ids = [f["data"]["id"] for f in created]
    assert len(ids) == len(set(ids)) == len(sent) == 6 * per_sender
    assert set(ids) == set(sent)
    positions = [f["pos"] for f in received]
    assert len(positions) == len(set(positions))
    for chat in chats:
        in_chat = [f["data"]["id"] for f in created if f["chat_id"] == chat.pk]
        assert in_chat == sorted(in_chat)  # message ids follow the chat's commit order
