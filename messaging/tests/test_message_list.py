"""GET chats/{id}/messages/: newest first, cursor pages, ?after= catch-up, ?search=."""

import pytest

from chats.tests.factories import direct_chat, group_chat
from messaging.tests.conftest import add_member
from messaging.tests.factories import LikeFactory, MessageFactory

pytestmark = pytest.mark.django_db


def url(chat_id):
    return f"/api/v1/chats/{chat_id}/messages/"


def ids(response):
    return [m["id"] for m in response.json()["results"]]


def test_newest_first_with_liked_by_me(client_for, group, alice, bob, send):
    first = send(group, alice, "one")
    second = send(group, bob, "two")
    LikeFactory(message=first, user=bob)
    response = client_for(bob).get(url(group.pk))
    assert response.status_code == 200
    body = response.json()
    assert body["next"] is None
    assert body["previous"] is None
    assert [(m["id"], m["body"], m["liked_by_me"]) for m in body["results"]] == [
        (second.pk, "two", False),
        (first.pk, "one", True),
    ]
    assert body["results"][1]["author"] == {"id": alice.pk, "username": "alice"}


def test_only_this_chats_messages(client_for, group, alice, bob, send):
    other = group_chat(alice, members=[bob])
    mine = send(group, alice)
    send(other, alice)
    assert ids(client_for(bob).get(url(group.pk))) == [mine.pk]


def test_cursor_pages_walk_forward_and_back(client_for, group, alice, send):
    made = [send(group, alice, f"m{i}").pk for i in range(7)]
    client = client_for(alice)
    page1 = client.get(url(group.pk), {"page_size": 3})
    assert ids(page1) == made[::-1][:3]
    assert page1.json()["previous"] is None
    page2 = client.get(page1.json()["next"])
    assert ids(page2) == made[::-1][3:6]
    page3 = client.get(page2.json()["next"])
    assert ids(page3) == made[::-1][6:]
    assert page3.json()["next"] is None
    back = client.get(page3.json()["previous"])
    assert ids(back) == made[::-1][3:6]
    back2 = client.get(back.json()["previous"])
    assert ids(back2) == made[::-1][:3]
    assert back2.json()["previous"] is None


def test_page_size_is_capped_at_200_and_defaults_to_50(client_for, group, alice):
    MessageFactory.create_batch(210, chat=group, author=alice)
    client = client_for(alice)
    assert len(ids(client.get(url(group.pk)))) == 50
    assert len(ids(client.get(url(group.pk), {"page_size": 1000}))) == 200
    assert len(ids(client.get(url(group.pk), {"page_size": "abc"}))) == 50


def test_invalid_cursor_is_404(client_for, group, alice):
    response = client_for(alice).get(url(group.pk), {"cursor": "garbage!"})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_after_gives_newer_messages_oldest_first(client_for, group, alice, bob, send):
    made = [send(group, alice if i % 2 else bob, f"m{i}").pk for i in range(6)]
    client = client_for(bob)
    response = client.get(url(group.pk), {"after": made[2]})
    assert response.status_code == 200
    assert ids(response) == made[3:]
    assert ids(client.get(url(group.pk), {"after": made[-1]})) == []
    assert ids(client.get(url(group.pk), {"after": 0})) == made


def test_after_pages_oldest_first(client_for, group, alice, send):
    made = [send(group, alice).pk for i in range(5)]
    client = client_for(alice)
    page1 = client.get(url(group.pk), {"after": made[0], "page_size": 2})
    assert ids(page1) == made[1:3]
    page2 = client.get(page1.json()["next"])
    assert ids(page2) == made[3:5]
    assert page2.json()["next"] is None
    assert "after=" in page1.json()["next"]


@pytest.mark.parametrize("after", ["abc", "1.5", "-1", "1e3", str(2**64)])
def test_non_integer_or_out_of_range_after_is_400(client_for, group, alice, after):
    response = client_for(alice).get(url(group.pk), {"after": after})
    assert response.status_code == 400
    assert "after" in response.json()


def test_search_matches_words_case_insensitively(client_for, group, alice, bob, send):
    hit = send(group, alice, "Pizza tonight?")
    send(group, bob, "no thanks")
    also = send(group, bob, "PIZZA for sure")
    other = group_chat(alice)
    send(other, alice, "pizza elsewhere")
    response = client_for(bob).get(url(group.pk), {"search": "pizza"})
    assert response.status_code == 200
    assert ids(response) == [also.pk, hit.pk]
    assert ids(client_for(bob).get(url(group.pk), {"search": "burger"})) == []


def test_search_with_after(client_for, group, alice, send):
    old = send(group, alice, "cake")
    new = send(group, alice, "more cake")
    response = client_for(alice).get(url(group.pk), {"search": "cake", "after": old.pk})
    assert ids(response) == [new.pk]


def test_blank_search_lists_everything(client_for, group, alice, send):
    made = send(group, alice, "x")
    assert ids(client_for(alice).get(url(group.pk), {"search": ""})) == [made.pk]


def test_search_with_odd_characters_never_500(client_for, group, alice, send):
    send(group, alice, "a & b | c")
    for term in ["&", "|", "!", "'", ":*", "a & b", "(", "%", "_", "\\"]:
        response = client_for(alice).get(url(group.pk), {"search": term})
        assert response.status_code == 200, term


def test_non_member_of_group_chat_is_403(client_for, group, carol, send, alice):
    send(group, alice)
    response = client_for(carol).get(url(group.pk))
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_someone_elses_direct_chat_is_404(client_for, alice, bob, carol):
    chat = direct_chat(alice, bob)
    assert client_for(carol).get(url(chat.pk)).status_code == 404
    assert client_for(alice).get(url(chat.pk)).status_code == 200


def test_unknown_chat_is_404(client_for, alice):
    assert client_for(alice).get(url(123456)).status_code == 404


def test_anonymous_is_401(api_client, group):
    assert api_client.get(url(group.pk)).status_code == 401


def test_list_of_200_messages_with_likes_has_fixed_query_count(
    client_for, group, alice, bob, carol, django_assert_num_queries
):
    add_member(group, carol)
    messages = [
        MessageFactory(chat=group, author=(alice, bob, carol)[i % 3], body=f"m{i}")
        for i in range(200)
    ]
    for message in messages:
        if message.pk % 2:
            LikeFactory(message=message, user=alice)
            LikeFactory(message=message, user=bob)
    client = client_for(bob)
    assert client.get("/api/v1/users/me/").status_code == 200  # the token's mark cached
    # One statement: the page (authors joined, liked_by_me as EXISTS) of a chat the caller
    # is a member of (an EXISTS evaluated once); the token needs none. No message has
    # attachments, so none are looked up.
    with django_assert_num_queries(1):
        response = client.get(url(group.pk), {"page_size": 200})
    assert response.status_code == 200
    results = response.json()["results"]
    assert len(results) == 200
    assert all(r["liked_by_me"] == bool(r["id"] % 2) for r in results)
    with django_assert_num_queries(1):
        response = client.get(url(group.pk), {"page_size": 200, "after": 0})
    assert len(response.json()["results"]) == 200
    # Nothing newer (an idle client's catch-up): the empty page, then the chat and role
    # that tell a member's empty page from a 404/403.
    with django_assert_num_queries(2):
        response = client.get(url(group.pk), {"after": messages[-1].pk})
    assert response.status_code == 200
    assert response.json()["results"] == []
