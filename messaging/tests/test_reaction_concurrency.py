"""1.1 reactions and pins under concurrency on PostgreSQL (real threads and connections): the
chat row lock in messaging.services serialises a message's reactions and a chat's pins."""

import pytest

from accounts.tests.factories import UserFactory
from chats.tests.factories import group_chat
from chitchat.invariants import check_invariants
from chitchat.testing import raised, run_concurrently
from messaging.models import Message, Reaction
from messaging.services import message_send

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _poster(client, message_id, emoji, statuses):
    def run():
        url = f"/api/v1/messages/{message_id}/reactions/"
        statuses.append(client.post(url, {"emoji": emoji}, format="json").status_code)

    return run


def test_two_users_same_emoji_count_twice_one_user_twice_counts_once(client_for):
    owner, first, second = UserFactory(), UserFactory(), UserFactory()
    chat = group_chat(owner, members=[first, second])
    message = message_send(chat=chat, author=owner, body="react")[0]
    statuses: list[int] = []
    targets = [
        _poster(client_for(first), message.pk, "👍", statuses),
        _poster(client_for(second), message.pk, "👍", statuses),
        # The same user twice at once (two devices).
        _poster(client_for(owner), message.pk, "🎉", statuses),
        _poster(client_for(owner), message.pk, "🎉", statuses),
    ]
    assert raised(run_concurrently(targets)) == []
    assert statuses == [200] * 4
    body = client_for(owner).get(f"/api/v1/messages/{message.pk}/").json()
    assert sorted((r["emoji"], r["count"]) for r in body["reactions"]) == [("🎉", 1), ("👍", 2)]
    assert Message.objects.get(pk=message.pk).reaction_count == 3
    assert check_invariants() == []


def test_racing_for_the_20th_distinct_emoji_one_gets_409(client_for):
    owner, first, second = UserFactory(), UserFactory(), UserFactory()
    chat = group_chat(owner, members=[first, second])
    message = message_send(chat=chat, author=owner, body="react")[0]
    used = list("😀😁😂🤣😃😄😅😆😉😊😋😎😍😘🥰😗😙😚🙂")
    Reaction.objects.bulk_create(Reaction(message=message, user=owner, emoji=e) for e in used)
    Message.objects.filter(pk=message.pk).update(reaction_count=len(used))
    statuses: list[int] = []
    targets = [
        _poster(client_for(first), message.pk, "🤔", statuses),
        _poster(client_for(second), message.pk, "🤯", statuses),
    ]
    assert raised(run_concurrently(targets)) == []
    assert sorted(statuses) == [200, 409]
    assert Reaction.objects.filter(message=message).values("emoji").distinct().count() == 20
    assert check_invariants() == []


def test_racing_for_the_50th_pin_one_gets_409(client_for):
    from messaging.models import Pin
    from messaging.services import message_pin

    owner, admin = UserFactory(), UserFactory()
    chat = group_chat(owner, members=[admin])
    chat.memberships.filter(user=admin).update(role="admin")
    messages = [message_send(chat=chat, author=owner, body=f"m{i}")[0] for i in range(51)]
    for message in messages[:49]:
        message_pin(message=message, user=owner)
    statuses: list[int] = []

    def pin(client, message):
        def run():
            statuses.append(client.post(f"/api/v1/messages/{message.pk}/pin/").status_code)

        return run

    targets = [pin(client_for(owner), messages[49]), pin(client_for(admin), messages[50])]
    assert raised(run_concurrently(targets)) == []
    assert sorted(statuses) == [200, 409]
    assert Pin.objects.filter(chat=chat).count() == 50
    assert Message.objects.filter(chat=chat, pinned=True).count() == 50
