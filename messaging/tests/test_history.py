"""1.1 edit history: every earlier body is kept; GET messages/{id}/history/."""

import pytest

from chats.tests.factories import direct_chat
from messaging.models import MessageEdit
from messaging.services import message_edit

pytestmark = pytest.mark.django_db


def history_url(message_id):
    return f"/api/v1/messages/{message_id}/history/"


def edit(client, message_id, body):
    return client.patch(f"/api/v1/messages/{message_id}/", {"body": body}, format="json")


def test_history_newest_first_and_empty_when_never_edited(client_for, group, alice, bob, send):
    message = send(group, alice, "first")
    client = client_for(alice)
    assert client.get(history_url(message.pk)).json()["results"] == []
    first_edit = edit(client, message.pk, "second")
    second_edit = edit(client, message.pk, "third")
    assert first_edit.status_code == second_edit.status_code == 200
    response = client_for(bob).get(history_url(message.pk))
    assert response.status_code == 200
    assert response.json()["results"] == [
        {"body": "second", "replaced_at": second_edit.json()["edited_at"]},
        {"body": "first", "replaced_at": first_edit.json()["edited_at"]},
    ]
    assert client.get(f"/api/v1/messages/{message.pk}/").json()["body"] == "third"


def test_an_edit_to_the_same_body_adds_no_version(client_for, group, alice, send):
    message = send(group, alice, "same")
    assert edit(client_for(alice), message.pk, "same").status_code == 200
    assert client_for(alice).get(history_url(message.pk)).json()["results"] == []


def test_a_refused_edit_keeps_no_version(client_for, group, alice, bob, send):
    message = send(group, alice, "mine")
    assert edit(client_for(bob), message.pk, "hijack").status_code == 403
    assert edit(client_for(alice), message.pk, "").status_code == 400
    assert not MessageEdit.objects.exists()


def test_history_members_only(client_for, group, alice, bob, carol, send):
    message = send(group, alice)
    assert client_for(carol).get(history_url(message.pk)).status_code == 403
    dm = send(direct_chat(alice, bob), alice)
    assert client_for(carol).get(history_url(dm.pk)).status_code == 404


def test_history_paginated_with_fixed_query_count(
    client_for, group, alice, bob, send, django_assert_num_queries
):
    message = send(group, alice, "v0")
    for i in range(1, 121):
        message.refresh_from_db()
        message_edit(message=message, body=f"v{i}")
    client = client_for(bob)
    client.get(history_url(message.pk))  # the token's user, once
    # The message (with its chat), the caller's role, the page.
    with django_assert_num_queries(3):
        response = client.get(history_url(message.pk), {"page_size": 100})
    first = response.json()
    assert [v["body"] for v in first["results"]] == [f"v{i}" for i in range(119, 19, -1)]
    rest = client.get(first["next"]).json()
    assert [v["body"] for v in rest["results"]] == [f"v{i}" for i in range(19, -1, -1)]
    assert rest["next"] is None


def test_deleting_the_message_or_chat_removes_its_history(client_for, group, alice, send):
    first, second = send(group, alice, "a"), send(group, alice, "b")
    edit(client_for(alice), first.pk, "a2")
    edit(client_for(alice), second.pk, "b2")
    assert client_for(alice).delete(f"/api/v1/messages/{first.pk}/").status_code == 204
    assert MessageEdit.objects.count() == 1
    assert client_for(alice).delete(f"/api/v1/chats/{group.pk}/").status_code == 204
    assert not MessageEdit.objects.exists()
