"""1.1 pins: POST/DELETE messages/{id}/pin/, the `pinned` field, GET chats/{id}/pins/ and
the message.pinned event."""

import pytest

from chats.models import Membership
from chats.tests.factories import direct_chat
from chitchat.invariants import check_invariants
from messaging.models import Message, Pin
from messaging.services import message_pin
from messaging.tests.conftest import add_member

pytestmark = pytest.mark.django_db


def pin_url(message_id):
    return f"/api/v1/messages/{message_id}/pin/"


def pins_url(chat_id):
    return f"/api/v1/chats/{chat_id}/pins/"


@pytest.fixture(autouse=True)
def _counters_agree(db):
    yield
    assert check_invariants() == []
    assert check_invariants() == []


def test_owner_pins_twice_once_and_event(
    client_for, group, alice, bob, send, sent_events, django_capture_on_commit_callbacks
):
    message = send(group, bob)
    client = client_for(alice)
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(pin_url(message.pk))
        second = client.post(pin_url(message.pk))
    assert first.status_code == second.status_code == 200
    assert first.json()["pinned"] is second.json()["pinned"] is True
    assert first.json()["id"] == message.pk
    assert sent_events.of_type() == [
        {
            "type": "message.pinned",
            "chat_id": group.pk,
            "data": {"id": message.pk, "pinned": True, "by": {"id": alice.pk, "username": "alice"}},
        }
    ]
    assert client_for(bob).get(f"/api/v1/messages/{message.pk}/").json()["pinned"] is True
    page = client_for(bob).get(f"/api/v1/chats/{group.pk}/messages/").json()["results"]
    assert page[0]["pinned"] is True


def test_unpin_twice_changes_once(
    client_for, group, alice, bob, send, sent_events, django_capture_on_commit_callbacks
):
    message = send(group, bob)
    client = client_for(alice)
    client.post(pin_url(message.pk))
    sent_events.clear()
    with django_capture_on_commit_callbacks(execute=True):
        first = client.delete(pin_url(message.pk))
        second = client.delete(pin_url(message.pk))
    assert first.status_code == second.status_code == 200
    assert first.json()["pinned"] is False
    (frame,) = sent_events.of_type()
    assert frame["data"] == {
        "id": message.pk,
        "pinned": False,
        "by": {"id": alice.pk, "username": "alice"},
    }
    assert not Pin.objects.exists()
    assert client.get(pins_url(group.pk)).json()["results"] == []


def test_admin_may_pin_plain_member_may_not(client_for, group, alice, bob, carol, send):
    message = send(group, alice)
    response = client_for(bob).post(pin_url(message.pk))
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert client_for(bob).delete(pin_url(message.pk)).status_code == 403
    Membership.objects.filter(chat=group, user=bob).update(role=Membership.Role.ADMIN)
    assert client_for(bob).post(pin_url(message.pk)).status_code == 200
    # A non-member: 403 for a group chat.
    assert client_for(carol).post(pin_url(message.pk)).status_code == 403
    assert Message.objects.get(pk=message.pk).pinned is True


def test_either_member_of_a_direct_chat_pins_others_get_404(client_for, alice, bob, carol, send):
    chat = direct_chat(alice, bob)
    message = send(chat, alice)
    assert client_for(bob).post(pin_url(message.pk)).json()["pinned"] is True
    assert client_for(alice).delete(pin_url(message.pk)).json()["pinned"] is False
    assert client_for(carol).post(pin_url(message.pk)).status_code == 404
    assert client_for(carol).get(pins_url(chat.pk)).status_code == 404


def test_51st_pin_is_409(client_for, group, alice, send):
    messages = [send(group, alice, f"m{i}") for i in range(51)]
    for message in messages[:50]:
        message_pin(message=message, user=alice)
    response = client_for(alice).post(pin_url(messages[50].pk))
    assert response.status_code == 409
    assert response.json()["code"] == "too_many_pins"
    # Pinning one already pinned is still fine; unpinning frees a place.
    assert client_for(alice).post(pin_url(messages[0].pk)).status_code == 200
    client_for(alice).delete(pin_url(messages[0].pk))
    assert client_for(alice).post(pin_url(messages[50].pk)).status_code == 200


def test_pins_most_recently_pinned_first_paginated_fixed_queries(
    client_for, group, alice, bob, send, django_assert_num_queries
):
    messages = [send(group, alice, f"m{i}") for i in range(50)]
    # Pinned in an order unlike the messages' own.
    order = messages[25:] + messages[:25]
    for message in order:
        message_pin(message=message, user=alice)
    client = client_for(bob)
    client.get(pins_url(group.pk))  # the token's user, once
    # The chat and role, the pins with their messages (no attachments to look up).
    with django_assert_num_queries(3):
        response = client.get(pins_url(group.pk), {"page_size": 30})
    assert response.status_code == 200
    first = response.json()
    expected = [m.pk for m in reversed(order)]
    assert [m["id"] for m in first["results"]] == expected[:30]
    assert all(m["pinned"] for m in first["results"])
    rest = client.get(first["next"]).json()
    assert [m["id"] for m in rest["results"]] == expected[30:]
    assert rest["next"] is None
    back = client.get(rest["previous"], {"page_size": 30}).json()
    assert [m["id"] for m in back["results"]] == expected[:30]


def test_pins_members_only(client_for, group, alice, carol, send):
    message_pin(message=send(group, alice), user=alice)
    response = client_for(carol).get(pins_url(group.pk))
    assert response.status_code == 403
    add_member(group, carol)
    assert len(client_for(carol).get(pins_url(group.pk)).json()["results"]) == 1


def test_deleting_a_pinned_message_or_chat_removes_the_pin(client_for, group, alice, send):
    first, second = send(group, alice), send(group, alice)
    message_pin(message=first, user=alice)
    message_pin(message=second, user=alice)
    assert client_for(alice).delete(f"/api/v1/messages/{first.pk}/").status_code == 204
    assert [m["id"] for m in client_for(alice).get(pins_url(group.pk)).json()["results"]] == [
        second.pk
    ]
    assert client_for(alice).delete(f"/api/v1/chats/{group.pk}/").status_code == 204
    assert not Pin.objects.exists()
