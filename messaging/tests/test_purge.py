"""messaging.services.user_messages_purge (used when an account is deleted)."""

import pytest

from chats.models import Chat
from chats.tests.factories import group_chat, membership_delete
from messaging.models import Like, Message
from messaging.services import message_like, user_messages_purge
from messaging.tests.conftest import add_member

pytestmark = pytest.mark.django_db


def test_purge_removes_messages_and_likes_and_fixes_counters(
    group,
    alice,
    bob,
    carol,
    send,
    django_assert_max_num_queries,
    sent_events,
    django_capture_on_commit_callbacks,
):
    add_member(group, carol)
    quiet = group_chat(carol, members=[bob])
    untouched = group_chat(alice, members=[carol, bob])
    keep_old = send(group, alice, "alice early")
    gone = [send(group, bob, f"bob {i}") for i in range(3)]
    only_bob = send(quiet, bob, "only bob here")
    other_msg = send(untouched, carol, "not bob's")
    # bob liked alice's and carol's messages (and his own); they liked his.
    for message in (keep_old, other_msg, gone[0]):
        message_like(message=message, user=bob)
    message_like(message=keep_old, user=carol)
    message_like(message=gone[1], user=alice)

    sent_events.clear()
    # A fixed number of statements whatever the rows: 12, plus the event log (an INSERT per
    # message.liked and per chat's batch of message.deleted), plus 1.1's reactions, replies,
    # pins, edits, mentions, reports and attachments (one or two statements each).
    with django_assert_max_num_queries(30), django_capture_on_commit_callbacks(execute=True):
        user_messages_purge(user=bob)

    # A message.deleted per purged message, one channel-layer message per chat; the messages
    # bob had liked get their message.liked (liked: false) with the new count.
    deleted = [(g, t, d["id"]) for g, t, d in sent_events.frames() if t == "message.deleted"]
    assert sorted(deleted) == sorted(
        [(f"chat.{group.pk}", "message.deleted", m.pk) for m in gone]
        + [(f"chat.{quiet.pk}", "message.deleted", only_bob.pk)]
    )
    assert sum(message["type"] == "chat.events" for _, message in sent_events) == 2
    unliked = {d["id"]: d for _, t, d in sent_events.frames() if t == "message.liked"}
    assert unliked[keep_old.pk]["like_count"] == 1 and not unliked[keep_old.pk]["liked"]
    assert unliked[other_msg.pk]["like_count"] == 0
    assert set(unliked) == {keep_old.pk, other_msg.pk}

    assert not Message.objects.filter(author=bob).exists()
    assert not Like.objects.filter(user=bob).exists()
    assert not Like.objects.filter(message_id__in=[m.pk for m in gone]).exists()
    keep_old.refresh_from_db()
    other_msg.refresh_from_db()
    assert keep_old.like_count == 1  # carol's like stays
    assert other_msg.like_count == 0
    group.refresh_from_db()
    assert (group.message_count, group.last_message_id) == (1, keep_old.pk)
    quiet.refresh_from_db()
    assert (quiet.message_count, quiet.last_message_id) == (0, None)
    untouched.refresh_from_db()
    assert (untouched.message_count, untouched.last_message_id) == (1, other_msg.pk)
    assert Chat.objects.filter(pk=only_bob.chat_id).exists()


def test_purge_of_user_without_messages_removes_only_their_likes(group, alice, bob, send):
    bobs = send(group, bob, "bob's")
    message_like(message=bobs, user=bob)
    message_like(message=bobs, user=alice)

    user_messages_purge(user=alice)

    assert list(Message.objects.values_list("pk", flat=True)) == [bobs.pk]
    assert list(Like.objects.values_list("user_id", flat=True)) == [bob.pk]
    bobs.refresh_from_db()
    assert bobs.like_count == 1
    group.refresh_from_db()
    assert (group.message_count, group.last_message_id) == (1, bobs.pk)


def test_purge_then_user_delete(group, alice, bob, send):
    send(group, bob)
    send(group, alice)
    user_messages_purge(user=bob)
    membership_delete(group, bob)  # the cascade would leave the chat's member_count behind
    bob.delete()
    group.refresh_from_db()
    assert group.message_count == 1
