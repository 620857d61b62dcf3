"""POST /chats/direct/: the one direct chat of a pair."""

import pytest

from accounts.tests.factories import UserFactory
from chats import services
from chats.models import Chat
from live.testing import chats_heard_by

pytestmark = pytest.mark.django_db

URL = "/api/v1/chats/direct/"


def test_creates_direct_chat(client_for, sent_events, django_capture_on_commit_callbacks):
    me, other = UserFactory(), UserFactory(username="bob")

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(me).post(URL, {"user_id": other.pk})

    assert response.status_code == 201
    body = response.json()
    chat = Chat.objects.get()
    assert body["id"] == chat.pk
    assert body["kind"] == "direct"
    assert body["name"] == "bob"
    assert body["member_count"] == 2
    assert body["is_member"] is True
    assert body["role"] == "member"
    assert body["is_private"] is False
    assert chat.direct_key == Chat.direct_key_for(me.pk, other.pk)
    assert set(chat.memberships.values_list("user_id", flat=True)) == {me.pk, other.pk}
    joined = sorted(d["user"]["id"] for _, t, d in sent_events.frames() if t == "member.joined")
    assert joined == sorted([me.pk, other.pk])
    assert chat.pk in chats_heard_by(me.pk) & chats_heard_by(other.pk)


def test_existing_direct_chat_is_200_from_either_side(client_for):
    me, other = UserFactory(username="amy"), UserFactory()
    first = client_for(me).post(URL, {"user_id": other.pk}).json()

    response = client_for(other).post(URL, {"user_id": me.pk})

    assert response.status_code == 200
    assert response.json()["id"] == first["id"]
    assert response.json()["name"] == "amy"
    assert Chat.objects.count() == 1


def test_unknown_user_is_404(client_for):
    response = client_for(UserFactory()).post(URL, {"user_id": 999999})

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_oneself_is_400(client_for):
    me = UserFactory()

    response = client_for(me).post(URL, {"user_id": me.pk})

    assert response.status_code == 400
    assert "user_id" in response.json()
    assert not Chat.objects.exists()


@pytest.mark.parametrize("payload", [{}, {"user_id": "abc"}, {"user_id": None}, {"user_id": -1}])
def test_invalid_body_is_400(client_for, payload):
    response = client_for(UserFactory()).post(URL, payload)

    assert response.status_code == 400
    assert "user_id" in response.json()


def test_requires_authentication(api_client):
    assert api_client.post(URL, {"user_id": UserFactory().pk}).status_code == 401


def test_service_returns_existing_chat():
    a, b = UserFactory(), UserFactory()
    chat, created = services.direct_chat_get_or_create(user=a, other=b)
    again, created_again = services.direct_chat_get_or_create(user=b, other=a)

    assert (created, created_again) == (True, False)
    assert again.pk == chat.pk


def test_service_race_loser_gets_the_winners_chat(
    monkeypatch, sent_events, django_capture_on_commit_callbacks
):
    """The loser of a create race hits the unique key, and returns the winner's chat."""
    a, b = UserFactory(), UserFactory()
    winner, _ = services.direct_chat_get_or_create(user=a, other=b)
    real_filter = Chat.objects.filter
    lookups = []

    def first_lookup_misses(*args, **kwargs):
        lookups.append(kwargs)
        queryset = real_filter(*args, **kwargs)
        return queryset.none() if len(lookups) == 1 else queryset

    monkeypatch.setattr(Chat.objects, "filter", first_lookup_misses)

    with django_capture_on_commit_callbacks(execute=True):
        chat, created = services.direct_chat_get_or_create(user=b, other=a)

    assert (chat.pk, created) == (winner.pk, False)
    assert Chat.objects.count() == 1
    assert sent_events == []  # the rolled-back attempt announced nothing
