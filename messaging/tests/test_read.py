"""POST chats/{id}/read/: the caller's read marker moves forward only."""

import pytest

from chats.models import Membership
from chats.tests.factories import direct_chat, group_chat

pytestmark = pytest.mark.django_db


def url(chat_id):
    return f"/api/v1/chats/{chat_id}/read/"


def marker(chat, user):
    return Membership.objects.get(chat=chat, user=user).last_read_message_id


def test_mark_read_moves_forward_never_back(client_for, group, alice, bob, send):
    first = send(group, alice)
    second = send(group, alice)
    client = client_for(bob)
    response = client.post(url(group.pk), {"message_id": second.pk})
    assert response.status_code == 204
    assert response.content == b""
    assert marker(group, bob) == second.pk
    assert client.post(url(group.pk), {"message_id": first.pk}).status_code == 204
    assert marker(group, bob) == second.pk
    assert marker(group, alice) is None


def test_message_of_another_chat_is_400(client_for, group, alice, bob, send):
    other = group_chat(alice, members=[bob])
    elsewhere = send(other, alice)
    response = client_for(bob).post(url(group.pk), {"message_id": elsewhere.pk})
    assert response.status_code == 400
    assert "message_id" in response.json()
    assert marker(group, bob) is None


@pytest.mark.parametrize(
    "payload", [{}, {"message_id": "x"}, {"message_id": 0}, {"message_id": 2**64}]
)
def test_invalid_message_id_is_400(client_for, group, bob, payload):
    response = client_for(bob).post(url(group.pk), payload)
    assert response.status_code == 400
    assert "message_id" in response.json()


def test_unknown_message_is_400(client_for, group, bob):
    assert client_for(bob).post(url(group.pk), {"message_id": 99999}).status_code == 400


def test_non_member_403_hidden_chat_404_anonymous_401(
    client_for, api_client, group, alice, bob, carol, send
):
    message = send(group, alice)
    response = client_for(carol).post(url(group.pk), {"message_id": message.pk})
    assert response.status_code == 403
    dm = direct_chat(alice, bob)
    dm_message = send(dm, alice)
    assert client_for(carol).post(url(dm.pk), {"message_id": dm_message.pk}).status_code == 404
    assert api_client.post(url(group.pk), {"message_id": message.pk}).status_code == 401
    assert client_for(alice).post(url(987654), {"message_id": message.pk}).status_code == 404
