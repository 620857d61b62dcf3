"""GET messages/mine/, messages/latest/, messages/inbox/."""

import pytest

from accounts.tests.factories import UserFactory
from chats.tests.factories import direct_chat, group_chat, membership_delete
from messaging.tests.factories import LikeFactory, MessageFactory

pytestmark = pytest.mark.django_db


def ids(response):
    return [m["id"] for m in response.json()["results"]]


def test_mine_lists_own_messages_newest_first_also_in_left_chats(
    client_for, group, alice, bob, send
):
    other = group_chat(bob, members=[alice])
    first = send(group, alice, "a")
    send(group, bob, "not mine")
    second = send(other, alice, "b")
    membership_delete(other, alice)  # alice left
    response = client_for(alice).get("/api/v1/messages/mine/")
    assert response.status_code == 200
    assert ids(response) == [second.pk, first.pk]
    assert response.json()["results"][0]["author"] == {"id": alice.pk, "username": "alice"}


def test_mine_pages(client_for, group, alice, send):
    made = [send(group, alice).pk for _ in range(5)]
    client = client_for(alice)
    page = client.get("/api/v1/messages/mine/", {"page_size": 3})
    assert ids(page) == made[::-1][:3]
    assert ids(client.get(page.json()["next"])) == made[::-1][3:]


def test_latest_one_per_chat_newest_first_with_chat_ref(client_for, group, alice, bob, send):
    dm = direct_chat(alice, bob)
    quiet = group_chat(bob, members=[alice], name="quiet")
    group_chat(bob, members=[alice], name="empty")  # no messages: not listed
    outside = group_chat(bob, name="outside")
    send(group, alice, "old")
    in_group = send(group, bob, "group newest")
    in_quiet = send(quiet, bob, "quiet")
    in_dm = send(dm, bob, "dm newest")
    send(outside, bob, "not for alice")
    response = client_for(alice).get("/api/v1/messages/latest/")
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["id"] for r in results] == [in_dm.pk, in_quiet.pk, in_group.pk]
    assert results[0]["chat"] == {"id": dm.pk, "name": "bob"}
    assert results[1]["chat"] == {"id": quiet.pk, "name": "quiet"}
    assert results[2]["chat"] == {"id": group.pk, "name": "general"}
    assert results[0]["body"] == "dm newest"
    # The direct chat's name is the other member's, as seen by each side.
    for_bob = client_for(bob).get("/api/v1/messages/latest/").json()["results"]
    assert {"id": dm.pk, "name": "alice"} in [r["chat"] for r in for_bob]


def test_inbox_lists_direct_messages_from_others(client_for, group, alice, bob, carol, send):
    with_bob = direct_chat(alice, bob)
    with_carol = direct_chat(alice, carol)
    between_others = direct_chat(bob, carol)
    from_bob = send(with_bob, bob, "hi alice")
    send(with_bob, alice, "hi bob")  # her own: not in her inbox
    from_carol = send(with_carol, carol, "hey")
    send(group, bob, "group: not inbox")
    send(between_others, bob, "not alice's")
    response = client_for(alice).get("/api/v1/messages/inbox/")
    assert response.status_code == 200
    assert ids(response) == [from_carol.pk, from_bob.pk]


@pytest.mark.parametrize("path", ["mine", "latest", "inbox"])
def test_lists_need_auth(api_client, path):
    assert api_client.get(f"/api/v1/messages/{path}/").status_code == 401


@pytest.mark.parametrize("path", ["mine", "latest", "inbox"])
def test_lists_are_empty_for_newcomer(client_for, path):
    response = client_for(UserFactory()).get(f"/api/v1/messages/{path}/")
    assert response.status_code == 200
    assert response.json() == {"next": None, "previous": None, "results": []}


def test_messages_root_is_not_a_list(client_for, alice):
    assert client_for(alice).get("/api/v1/messages/").status_code == 404


def test_latest_for_user_in_200_chats_has_fixed_query_count(
    client_for, alice, bob, send, django_assert_num_queries
):
    others = UserFactory.create_batch(100)
    chats = [group_chat(bob, members=[alice]) for _ in range(100)]
    chats += [direct_chat(alice, other) for other in others]
    for chat in chats:
        author = chat.memberships.exclude(user=alice).get().user  # bob, or alice's peer
        LikeFactory(message=MessageFactory(chat=chat, author=author, body="x"), user=alice)
    client = client_for(alice)
    assert client.get("/api/v1/users/me/").status_code == 200  # the token's mark cached
    with django_assert_num_queries(1):  # the page (no attachments to look up)
        response = client.get("/api/v1/messages/latest/", {"page_size": 200})
    results = response.json()["results"]
    assert len(results) == 200
    assert all(r["liked_by_me"] for r in results)
    names = {r["chat"]["name"] for r in results}
    assert {o.username for o in others} <= names


def test_inbox_and_mine_with_200_messages_have_fixed_query_count(
    client_for, alice, bob, django_assert_num_queries
):
    dms = [direct_chat(alice, UserFactory()) for _ in range(20)]
    for i in range(200):
        MessageFactory(chat=dms[i % 20], author=dms[i % 20].memberships.last().user)
    for i in range(200):
        MessageFactory(chat=dms[i % 20], author=alice)
    client = client_for(alice)
    assert client.get("/api/v1/users/me/").status_code == 200  # the token's mark cached
    with django_assert_num_queries(1):  # the page (no attachments to look up)
        inbox = client.get("/api/v1/messages/inbox/", {"page_size": 200})
    assert len(inbox.json()["results"]) == 200
    assert all(r["author"]["id"] != alice.pk for r in inbox.json()["results"])
    with django_assert_num_queries(1):
        mine = client.get("/api/v1/messages/mine/", {"page_size": 200})
    assert len(mine.json()["results"]) == 200
    assert all(r["author"]["id"] == alice.pk for r in mine.json()["results"])
