"""POST/DELETE messages/{id}/like/ and GET messages/{id}/likes/."""

import pytest

from chats.tests.factories import direct_chat
from messaging.models import Like
from messaging.tests.conftest import add_member
from messaging.tests.factories import LikeFactory

pytestmark = pytest.mark.django_db


def like_url(message_id):
    return f"/api/v1/messages/{message_id}/like/"


def test_like_twice_counts_once(
    client_for, group, alice, bob, send, sent_events, django_capture_on_commit_callbacks
):
    message = send(group, alice)
    client = client_for(bob)
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(like_url(message.pk))
        second = client.post(like_url(message.pk))
    assert first.status_code == second.status_code == 200
    assert first.json()["like_count"] == second.json()["like_count"] == 1
    assert first.json()["liked_by_me"] is True
    assert first.json()["id"] == message.pk
    message.refresh_from_db()
    assert message.like_count == 1
    (frame,) = sent_events.of_type()  # the repeated like emits nothing
    assert frame == {
        "type": "message.liked",
        "chat_id": group.pk,
        "data": {
            "id": message.pk,
            "like_count": 1,
            "user": {"id": bob.pk, "username": "bob"},
            "liked": True,
        },
    }


def test_unlike_and_unlike_again(
    client_for, group, alice, bob, send, sent_events, django_capture_on_commit_callbacks
):
    message = send(group, alice)
    client = client_for(bob)
    client.post(like_url(message.pk))
    client_for(alice).post(like_url(message.pk))
    with django_capture_on_commit_callbacks(execute=True):
        first = client.delete(like_url(message.pk))
        second = client.delete(like_url(message.pk))
    assert first.status_code == second.status_code == 200
    assert first.json()["like_count"] == second.json()["like_count"] == 1
    assert first.json()["liked_by_me"] is False
    message.refresh_from_db()
    assert message.like_count == 1
    (frame,) = sent_events.of_type()
    assert frame["data"] == {
        "id": message.pk,
        "like_count": 1,
        "user": {"id": bob.pk, "username": "bob"},
        "liked": False,
    }


def test_unlike_when_never_liked_changes_nothing(client_for, group, alice, bob, send):
    message = send(group, alice)
    response = client_for(bob).delete(like_url(message.pk))
    assert response.status_code == 200
    assert response.json()["like_count"] == 0
    assert response.json()["liked_by_me"] is False


def test_non_member_cannot_like(client_for, group, alice, carol, send):
    message = send(group, alice)
    response = client_for(carol).post(like_url(message.pk))
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert client_for(carol).delete(like_url(message.pk)).status_code == 403
    assert not Like.objects.exists()


def test_like_in_someone_elses_direct_chat_is_404(client_for, alice, bob, carol, send):
    message = send(direct_chat(alice, bob), alice)
    assert client_for(carol).post(like_url(message.pk)).status_code == 404
    assert client_for(bob).post(like_url(message.pk)).status_code == 200


def test_like_unknown_message_is_404(client_for, alice):
    assert client_for(alice).post(like_url(424242)).status_code == 404


def test_like_anonymous_is_401(api_client, group, alice, send):
    assert api_client.post(like_url(send(group, alice).pk)).status_code == 401


def test_likers_list(client_for, group, alice, bob, carol, send):
    add_member(group, carol)
    message = send(group, alice)
    for user in (bob, carol):
        client_for(user).post(like_url(message.pk))
    response = client_for(alice).get(f"/api/v1/messages/{message.pk}/likes/")
    assert response.status_code == 200
    assert response.json()["results"] == [
        {"id": carol.pk, "username": "carol"},
        {"id": bob.pk, "username": "bob"},
    ]
    assert response.json()["next"] is None


def test_likers_list_pages_and_query_count(
    client_for, group, alice, send, django_assert_num_queries
):
    from accounts.tests.factories import UserFactory

    message = send(group, alice)
    users = UserFactory.create_batch(30)
    for user in users:
        add_member(group, user)  # only members may like
        LikeFactory(message=message, user=user)
    client = client_for(alice)
    assert client.get("/api/v1/users/me/").status_code == 200  # the token's mark cached
    with django_assert_num_queries(3):
        page = client.get(f"/api/v1/messages/{message.pk}/likes/", {"page_size": 20})
    assert len(page.json()["results"]) == 20
    rest = client.get(page.json()["next"])
    seen = {r["id"] for r in page.json()["results"]} | {r["id"] for r in rest.json()["results"]}
    assert seen == {u.pk for u in users}


def test_likers_list_non_member_403_and_hidden_404(client_for, group, alice, bob, carol, send):
    message = send(group, alice)
    assert client_for(carol).get(f"/api/v1/messages/{message.pk}/likes/").status_code == 403
    dm = send(direct_chat(alice, bob), alice)
    assert client_for(carol).get(f"/api/v1/messages/{dm.pk}/likes/").status_code == 404
