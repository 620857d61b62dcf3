"""GET/PATCH/DELETE messages/{id}/."""

import pytest

from accounts.tests.factories import UserFactory
from chats.models import Membership
from chats.tests.factories import direct_chat, group_chat
from messaging.models import Like, Message
from messaging.tests.conftest import add_member
from messaging.tests.factories import LikeFactory

pytestmark = pytest.mark.django_db


def url(message_id):
    return f"/api/v1/messages/{message_id}/"


def test_member_gets_the_message(client_for, group, alice, bob, send):
    message = send(group, alice, "hello")
    LikeFactory(message=message, user=bob)
    response = client_for(bob).get(url(message.pk))
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == message.pk
    assert body["author"] == {"id": alice.pk, "username": "alice"}
    assert body["liked_by_me"] is True
    assert body["chat_id"] == group.pk


def test_non_member_of_group_chat_is_403(client_for, group, alice, carol, send):
    message = send(group, alice)
    response = client_for(carol).get(url(message.pk))
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_someone_elses_direct_message_is_404(client_for, alice, bob, carol, send):
    message = send(direct_chat(alice, bob), alice)
    response = client_for(carol).get(url(message.pk))
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert client_for(bob).get(url(message.pk)).status_code == 200


@pytest.mark.parametrize("path", ["999999", "9" * 19, "abc"])
def test_unknown_message_is_404(client_for, alice, path):
    assert client_for(alice).get(f"/api/v1/messages/{path}/").status_code == 404


def test_anonymous_is_401(api_client, group, alice, send):
    assert api_client.get(url(send(group, alice).pk)).status_code == 401


def test_put_is_405(client_for, group, alice, send):
    message = send(group, alice)
    assert client_for(alice).put(url(message.pk), {"body": "x"}).status_code == 405


def test_author_edits(
    client_for, group, alice, sent_events, send, django_capture_on_commit_callbacks
):
    message = send(group, alice, "tpyo")
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(alice).patch(url(message.pk), {"body": "typo"})
    assert response.status_code == 200
    body = response.json()
    assert body["body"] == "typo"
    assert body["edited_at"] is not None
    assert body["id"] == message.pk
    message.refresh_from_db()
    assert message.body == "typo"
    assert message.edited_at is not None
    (frame,) = sent_events.of_type()
    assert frame["type"] == "message.updated"
    assert frame["data"]["body"] == "typo"
    assert "liked_by_me" not in frame["data"]


def test_edit_by_someone_else_is_403_even_owner(client_for, group, alice, bob, send):
    message = send(group, bob, "mine")
    response = client_for(alice).patch(url(message.pk), {"body": "hijacked"})
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    message.refresh_from_db()
    assert message.body == "mine"
    assert message.edited_at is None


@pytest.mark.parametrize("payload", [{}, {"body": ""}, {"body": "  "}, {"body": "x" * 5001}])
def test_invalid_edit_is_400(client_for, group, alice, send, payload):
    message = send(group, alice)
    response = client_for(alice).patch(url(message.pk), payload)
    assert response.status_code == 400
    assert "body" in response.json()


def test_author_deletes_and_counters_follow(
    client_for, group, alice, bob, sent_events, send, django_capture_on_commit_callbacks
):
    first = send(group, alice, "one")
    last = send(group, alice, "two")
    LikeFactory(message=last, user=bob)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(alice).delete(url(last.pk))
    assert response.status_code == 204
    assert not Message.objects.filter(pk=last.pk).exists()
    assert not Like.objects.exists()
    group.refresh_from_db()
    assert group.message_count == 1
    assert group.last_message_id == first.pk
    (frame,) = sent_events.of_type()
    assert frame == {"type": "message.deleted", "chat_id": group.pk, "data": {"id": last.pk}}

    # Deleting an older message leaves last_message alone; the last one empties it.
    other = send(group, bob, "three")
    assert client_for(alice).delete(url(first.pk)).status_code == 204
    group.refresh_from_db()
    assert (group.message_count, group.last_message_id) == (1, other.pk)
    assert client_for(bob).delete(url(other.pk)).status_code == 204
    group.refresh_from_db()
    assert (group.message_count, group.last_message_id) == (0, None)


@pytest.mark.parametrize("role", [Membership.Role.ADMIN, Membership.Role.OWNER])
def test_owner_or_admin_deletes_others_messages(client_for, alice, bob, send, role):
    moderator = UserFactory()
    chat = group_chat(UserFactory() if role == Membership.Role.ADMIN else moderator, members=[bob])
    if role == Membership.Role.ADMIN:
        add_member(chat, moderator, role)
    message = send(chat, bob)
    assert client_for(moderator).delete(url(message.pk)).status_code == 204
    assert not Message.objects.filter(pk=message.pk).exists()


def test_staff_deletes_any_message(client_for, group, bob, send):
    staff = UserFactory(is_staff=True)
    message = send(group, bob)
    assert client_for(staff).delete(url(message.pk)).status_code == 204


def test_plain_member_cannot_delete_others_message(client_for, group, alice, bob, carol, send):
    add_member(group, carol)
    message = send(group, alice)
    for user in (bob, carol):
        response = client_for(user).delete(url(message.pk))
        assert response.status_code == 403
        assert response.json()["code"] == "permission_denied"
    assert Message.objects.filter(pk=message.pk).exists()


def test_other_direct_chat_message_delete_is_404(client_for, alice, bob, carol, send):
    message = send(direct_chat(alice, bob), alice)
    assert client_for(carol).delete(url(message.pk)).status_code == 404
    assert client_for(carol).patch(url(message.pk), {"body": "x"}).status_code == 404
