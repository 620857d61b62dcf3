"""Capacity and direct-chat uniqueness under concurrent requests (PostgreSQL, real threads)."""

from collections import Counter

import pytest

from accounts.tests.factories import UserFactory
from chats.models import Chat, Membership
from chats.tests.factories import group_chat
from chitchat.testing import raised, run_concurrently

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_eight_joins_for_two_free_seats(client_for):
    chat = group_chat(UserFactory(), capacity=3)
    clients = [client_for(UserFactory()) for _ in range(8)]

    responses = run_concurrently(
        [lambda c=c: c.post(f"/api/v1/chats/{chat.pk}/join/") for c in clients]
    )
    assert raised(responses) == []

    assert Counter(r.status_code for r in responses) == {200: 2, 409: 6}
    assert all(r.json()["code"] == "chat_full" for r in responses if r.status_code == 409)
    assert Membership.objects.filter(chat=chat).count() == 3


def test_eight_invite_uses_and_adds_for_two_free_seats(client_for):
    owner = UserFactory()
    chat = group_chat(owner, capacity=3)
    calls = [
        lambda c=client_for(UserFactory()): c.post(f"/api/v1/invites/{chat.invite_code}/")
        for _ in range(4)
    ] + [
        lambda u=UserFactory(), c=client_for(owner): c.post(
            f"/api/v1/chats/{chat.pk}/members/", {"user_id": u.pk}
        )
        for _ in range(4)
    ]

    responses = run_concurrently(calls)
    assert raised(responses) == []

    codes = Counter(r.status_code for r in responses)
    assert codes[409] == 6
    assert codes[200] + codes[201] == 2
    assert Membership.objects.filter(chat=chat).count() == 3


def test_eight_direct_chat_requests_for_one_pair_make_one_chat(client_for):
    alice, bob = UserFactory(), UserFactory()
    alice_client, bob_client = client_for(alice), client_for(bob)
    calls = []
    for i in range(8):
        if i % 2:
            calls.append(lambda: alice_client.post("/api/v1/chats/direct/", {"user_id": bob.pk}))
        else:
            calls.append(lambda: bob_client.post("/api/v1/chats/direct/", {"user_id": alice.pk}))

    responses = run_concurrently(calls)
    assert raised(responses) == []

    assert Counter(r.status_code for r in responses) == {201: 1, 200: 7}
    assert len({r.json()["id"] for r in responses}) == 1
    chat = Chat.objects.get(kind=Chat.Kind.DIRECT)
    assert chat.memberships.count() == 2
