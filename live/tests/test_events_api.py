"""GET /api/v1/events/?since=: what a client missed, with the sockets' visibility."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from accounts.tests.factories import UserFactory
from chats.models import Chat
from chats.services import member_add
from live.models import Event, MembershipSpan
from live.tests.conftest import (
    all_events,
    create_chat,
    events,
    join,
    leave,
    say,
    summary,
)
from messaging.services import message_send

# Rows are read once the transactions that wrote them have ended (live/log.py): the test
# must commit its writes, as a server does.
pytestmark = pytest.mark.django_db(transaction=True)


def test_without_since_gives_the_current_position_and_no_events(people):
    start = events(people.alice_api)
    assert start == {"events": [], "pos": start["pos"], "has_more": False}
    chat = create_chat(people.alice_api)
    say(people.alice_api, chat, "one")
    now = events(people.alice_api)
    assert now["events"] == [] and now["pos"] != start["pos"]
    # Nothing after the current position yet; the same position comes back.
    assert events(people.alice_api, now["pos"]) == {
        "events": [],
        "pos": now["pos"],
        "has_more": False,
    }


def test_events_after_since_in_order_with_pos(people):
    start = events(people.alice_api)["pos"]
    chat = create_chat(people.alice_api)
    join(people.bob_api, chat)
    first = say(people.alice_api, chat, "one")
    response = people.alice_api.patch(f"/api/v1/messages/{first}/", {"body": "uno"}, format="json")
    assert response.status_code == 200
    assert people.bob_api.post(f"/api/v1/messages/{first}/like/").status_code == 200
    assert people.alice_api.delete(f"/api/v1/messages/{first}/").status_code == 204
    page = events(people.alice_api, start)
    assert summary(page["events"]) == [
        ("member.joined", chat, "alice"),
        ("member.joined", chat, "bob"),
        ("message.created", chat, "one"),
        ("message.updated", chat, "uno"),
        ("message.liked", chat, "bob"),
        ("message.deleted", chat, first),
    ]
    positions = [frame["pos"] for frame in page["events"]]
    assert all(isinstance(pos, str) for pos in positions) and len(set(positions)) == 6
    assert page["pos"] == positions[-1] and page["has_more"] is False
    # The frames are the sockets' frames: {type, chat_id, data} and pos, nothing else.
    assert set(page["events"][2]) == {"type", "chat_id", "data", "pos"}
    assert page["events"][2]["data"]["body"] == "one"
    assert "liked_by_me" not in page["events"][2]["data"]
    # Resuming from any position gives exactly the rest.
    assert events(people.alice_api, positions[2])["events"] == page["events"][3:]


def test_pages_of_limit_cover_everything_once(people):
    start = events(people.alice_api)["pos"]
    chat = create_chat(people.alice_api)
    bodies = [f"m{i}" for i in range(7)]
    for body in bodies:
        say(people.alice_api, chat, body)
    page = events(people.alice_api, start, limit=3)
    assert len(page["events"]) == 3 and page["has_more"] is True
    frames, _ = all_events(people.alice_api, start, limit=3)
    assert [f["data"].get("body") for f in frames[1:]] == bodies
    assert len({f["pos"] for f in frames}) == 8


def test_a_joiner_sees_nothing_from_before_and_a_leaver_their_member_left_last(people):
    start = events(people.alice_api)["pos"]
    chat = create_chat(people.alice_api)
    say(people.alice_api, chat, "before bob")
    join(people.bob_api, chat)
    say(people.alice_api, chat, "with bob")
    leave(people.bob_api, chat)
    say(people.alice_api, chat, "after bob")
    join(people.bob_api, chat)
    say(people.alice_api, chat, "bob again")

    bob, _ = all_events(people.bob_api, start)
    assert summary(bob) == [
        ("member.joined", chat, "bob"),
        ("message.created", chat, "with bob"),
        ("member.left", chat, "bob"),
        ("member.joined", chat, "bob"),
        ("message.created", chat, "bob again"),
    ]
    alice, _ = all_events(people.alice_api, start)
    assert [s[2] for s in summary(alice)] == [
        "alice",
        "before bob",
        "bob",
        "with bob",
        "bob",
        "after bob",
        "bob",
        "bob again",
    ]
    # carol was never a member: nothing.
    assert all_events(people.carol_api, start)[0] == []


def test_private_chat_events_are_members_only(people):
    start = events(people.carol_api)["pos"]
    chat = create_chat(people.alice_api, name="secret", passkey="p4ss-word")
    say(people.alice_api, chat, "hush")
    assert all_events(people.carol_api, start)[0] == []
    wrong = people.carol_api.post(f"/api/v1/chats/{chat}/join/", {"passkey": "no"}, format="json")
    assert wrong.status_code == 403
    assert all_events(people.carol_api, start)[0] == []
    join(people.carol_api, chat, passkey="p4ss-word")
    say(people.alice_api, chat, "welcome")
    assert [s[2] for s in summary(all_events(people.carol_api, start)[0])] == ["carol", "welcome"]


def test_kicked_member_gets_member_left_last(people):
    start = events(people.bob_api)["pos"]
    chat = create_chat(people.alice_api)
    join(people.bob_api, chat)
    response = people.alice_api.delete(f"/api/v1/chats/{chat}/members/{people.bob.pk}/")
    assert response.status_code == 204
    say(people.alice_api, chat, "bob is gone")
    bob, _ = all_events(people.bob_api, start)
    assert summary(bob) == [("member.joined", chat, "bob"), ("member.left", chat, "bob")]


def test_chat_deleted_is_the_last_of_a_chat(people):
    start = events(people.bob_api)["pos"]
    chat = create_chat(people.alice_api)
    join(people.bob_api, chat)
    assert people.alice_api.delete(f"/api/v1/chats/{chat}/").status_code == 204
    bob, _ = all_events(people.bob_api, start)
    assert summary(bob) == [("member.joined", chat, "bob"), ("chat.deleted", chat, chat)]


def test_chat_read_goes_to_the_reader_only(people):
    start = events(people.alice_api)["pos"]
    chat = create_chat(people.alice_api)
    join(people.bob_api, chat)
    first = say(people.alice_api, chat, "one")
    say(people.alice_api, chat, "two")
    say(people.bob_api, chat, "bob's own")  # not unread for bob
    url = f"/api/v1/chats/{chat}/read/"
    assert people.bob_api.post(url, {"message_id": first}, format="json").status_code == 204
    # The marker does not move back: no event.
    assert people.bob_api.post(url, {"message_id": first}, format="json").status_code == 204
    reads = [f for f in all_events(people.bob_api, start)[0] if f["type"] == "chat.read"]
    assert [(f["chat_id"], f["data"]) for f in reads] == [
        (chat, {"message_id": first, "unread_count": 1, "mention_count": 0})
    ]
    assert not [f for f in all_events(people.alice_api, start)[0] if f["type"] == "chat.read"]


def test_one_row_per_chat_event_however_many_members(people):
    chat = Chat.objects.get(pk=create_chat(people.alice_api))
    users = UserFactory.create_batch(60)
    for user in users:
        member_add(chat=chat, user=user)
    before = Event.objects.count()
    say(people.alice_api, chat.pk, "to sixty-one people")
    assert Event.objects.count() == before + 1
    assert MembershipSpan.objects.filter(chat_id=chat.pk, end_id__isnull=True).count() == 61


def test_a_rolled_back_write_stores_nothing(people):
    chat = Chat.objects.get(pk=create_chat(people.alice_api))
    start = events(people.alice_api)["pos"]
    before = Event.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        message_send(chat=chat, author=people.alice, body="never")
        raise RuntimeError
    assert Event.objects.count() == before
    assert events(people.alice_api, start)["events"] == []


def test_typing_is_not_stored(people):
    # typing goes from socket to socket and never through a service: no row has it.
    create_chat(people.alice_api)
    assert not Event.objects.filter(frame__contains='"typing"').exists()


@pytest.mark.parametrize(
    "since",
    ["", "abc", "1", "1_", "_1", "-1_2", "1_2_3", "1.5_2", "9" * 19 + "_1", "1_2 ", "\uff11_2"],
)
def test_malformed_since_is_400(people, since):
    response = people.alice_api.get("/api/v1/events/", {"since": since})
    assert response.status_code == 400
    assert "since" in response.json()


@pytest.mark.parametrize("limit", ["0", "1001", "-1", "x", "1.5", ""])
def test_limit_out_of_range_is_400(people, limit):
    response = people.alice_api.get("/api/v1/events/", {"since": "0_0", "limit": limit})
    assert response.status_code == 400
    assert "limit" in response.json()


def test_events_need_a_token(api_client):
    response = api_client.get("/api/v1/events/")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_older_than_retention_is_410_and_purge_keeps_the_rest(people, settings):
    settings.EVENT_RETENTION_DAYS = 7
    start = events(people.alice_api)["pos"]
    chat = create_chat(people.alice_api)
    for i in range(5):
        say(people.alice_api, chat, f"old {i}")
    middle = events(people.alice_api)["pos"]
    say(people.alice_api, chat, "new")
    Event.objects.filter(frame__contains='"old ').update(
        created_at=timezone.now() - timedelta(days=8)
    )
    Event.objects.filter(frame__contains='"member.joined"').update(
        created_at=timezone.now() - timedelta(days=8)
    )
    call_command("purge_events", batch_size=2)
    assert not Event.objects.filter(frame__contains='"old ').exists()

    response = people.alice_api.get("/api/v1/events/", {"since": start})
    assert response.status_code == 410
    assert response.json()["code"] == "resync_required"
    # A client that had read everything purged misses nothing: it goes on.
    assert [f["data"]["body"] for f in events(people.alice_api, middle)["events"]] == ["new"]
    # Purging again is harmless.
    call_command("purge_events")
    assert [f["data"]["body"] for f in events(people.alice_api, middle)["events"]] == ["new"]


def test_a_page_costs_a_fixed_number_of_queries(people, django_assert_num_queries):
    start = events(people.alice_api)["pos"]
    chats = [create_chat(people.alice_api, name=f"c{i}") for i in range(3)]
    for chat in chats:
        join(people.bob_api, chat)
    # the page, the purge horizon (the access token is checked without a query)
    with django_assert_num_queries(2):
        small = events(people.bob_api, start)
    for chat in Chat.objects.filter(pk__in=chats):
        for i in range(10):  # through the service: the API would throttle this burst
            message_send(chat=chat, author=people.alice, body=f"{chat.pk}-{i}")
    with django_assert_num_queries(2):
        big = events(people.bob_api, start)
    assert len(small["events"]) == 3 and len(big["events"]) == 33


def test_a_batch_of_events_is_stored_one_row_each_in_order(people):
    from messaging.services import user_messages_purge

    chat = Chat.objects.get(pk=create_chat(people.alice_api))
    join(people.bob_api, chat.pk)
    ids = [message_send(chat=chat, author=people.bob, body=f"b{i}")[0].pk for i in range(4)]
    start = events(people.alice_api)["pos"]
    with transaction.atomic():
        user_messages_purge(user=people.bob)
    frames, _ = all_events(people.alice_api, start)
    assert [(f["type"], f["data"]["id"]) for f in frames] == [("message.deleted", pk) for pk in ids]
    assert len({f["pos"] for f in frames}) == 4


def test_after_everything_was_purged_the_current_position_is_still_kept(people, settings):
    """With every event purged, the position handed out is the purge horizon, not the
    start: a client that takes it goes on reading rather than getting 410 at once."""
    settings.EVENT_RETENTION_DAYS = 7
    chat = create_chat(people.alice_api)
    say(people.alice_api, chat, "old")
    Event.objects.update(created_at=timezone.now() - timedelta(days=8))
    call_command("purge_events")
    assert not Event.objects.exists()
    current = events(people.alice_api)
    assert current["events"] == [] and current["pos"] != "0_0"
    response = people.alice_api.get("/api/v1/events/", {"since": current["pos"]})
    assert response.status_code == 200, response.json()
    say(people.alice_api, chat, "new")
    after = events(people.alice_api, current["pos"])["events"]
    assert [f["data"]["body"] for f in after] == ["new"]
