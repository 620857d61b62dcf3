"""`mine=true` builds its page apart from the detail view (one statement on PostgreSQL):
each of its chats must read exactly as GET chats/{id}/ shows it to the same caller."""

from accounts.tests.factories import UserFactory
from chats.tests.factories import direct_chat, group_chat
from messaging.tests.factories import LikeFactory


def send(chat, author, body):
    from messaging.services import message_send

    return message_send(chat=chat, author=author, body=body)[0]


def test_every_mine_row_equals_the_chat_detail(client_for):
    me, ann, bob = UserFactory(), UserFactory(), UserFactory()
    public = group_chat(ann, members=[me, bob], name="public", description="d")
    private = group_chat(me, members=[ann], name="private", passkey="s3cret", capacity=5)
    direct = direct_chat(me, bob)
    quiet = group_chat(bob, members=[me], name="quiet")  # no messages
    send(public, ann, "one")
    liked = send(public, bob, "two")
    LikeFactory(message=liked, user=me)
    send(private, me, "mine")
    send(direct, bob, "hello")
    send(direct, bob, "again")
    client = client_for(me)

    response = client.get("/api/v1/chats/", {"mine": "true"})

    assert response.status_code == 200
    rows = response.json()["results"]
    assert {row["id"] for row in rows} == {public.pk, private.pk, direct.pk, quiet.pk}
    for row in rows:
        assert row == client.get(f"/api/v1/chats/{row['id']}/").json()
    by_id = {row["id"]: row for row in rows}
    assert by_id[direct.pk]["name"] == bob.username
    assert by_id[direct.pk]["unread_count"] == 2
    assert by_id[public.pk]["last_message"]["liked_by_me"] is True
    assert by_id[quiet.pk]["last_message"] is None
    assert by_id[private.pk]["is_private"] is True


def test_mine_with_kind_filter_and_second_page(client_for):
    me = UserFactory()
    chats = [group_chat(me, name=f"g{i}") for i in range(5)]
    direct_chat(me, UserFactory())
    client = client_for(me)

    first = client.get("/api/v1/chats/", {"mine": "true", "kind": "group", "page_size": 3})
    second = client.get(first.json()["next"])

    ids = [row["id"] for row in first.json()["results"] + second.json()["results"]]
    assert ids == [chat.pk for chat in reversed(chats)]
    assert second.json()["next"] is None
