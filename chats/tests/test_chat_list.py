"""GET /chats/: visibility, filters, ordering, pagination, the per-caller fields, query count."""

import base64
import datetime

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from chats.models import Chat, Membership
from chats.tests.factories import direct_chat, group_chat
from messaging.models import Message
from messaging.tests.factories import LikeFactory, MessageFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/chats/"

CHAT_FIELDS = {
    "id",
    "name",
    "description",
    "kind",
    "is_private",
    "capacity",
    "member_count",
    "message_count",
    "created_by",
    "created_at",
    "is_member",
    "role",
    "last_message",
    "unread_count",
    "mention_count",
}


def ids(response) -> list[int]:
    return [row["id"] for row in response.json()["results"]]


def post_message(chat: Chat, author, body: str = "hi") -> Message:
    """A message sent through the service (the chat's counters follow)."""
    return MessageFactory(chat=chat, author=author, body=body)


def test_requires_authentication(api_client):
    response = api_client.get(URL)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_lists_group_chats_and_own_direct_chats_only(client_for):
    me, other, third = UserFactory(), UserFactory(), UserFactory()
    public = group_chat(other)
    private = group_chat(other, passkey="secret")
    mine = direct_chat(me, other)
    theirs = direct_chat(other, third)

    response = client_for(me).get(URL)

    assert response.status_code == 200
    assert ids(response) == [mine.pk, private.pk, public.pk]
    assert theirs.pk not in ids(response)
    assert response.json()["next"] is None
    for row in response.json()["results"]:
        assert set(row) == CHAT_FIELDS
        assert "passkey" not in row


def test_private_chat_seen_from_outside_hides_members_and_messages(client_for):
    owner, outsider = UserFactory(), UserFactory()
    chat = group_chat(owner, passkey="secret", members=[UserFactory()], description="d")
    post_message(chat, owner)

    row = client_for(outsider).get(URL).json()["results"][0]

    assert row["name"] == chat.name
    assert row["is_private"] is True
    assert row["member_count"] == 2
    assert row["created_by"] is None
    assert row["is_member"] is False
    assert row["role"] is None
    assert row["last_message"] is None
    assert row["unread_count"] is None


def test_public_chat_seen_from_outside(client_for):
    owner, outsider = UserFactory(), UserFactory()
    chat = group_chat(owner)
    post_message(chat, owner)

    row = client_for(outsider).get(URL).json()["results"][0]

    assert row["created_by"] == {"id": owner.pk, "username": owner.username}
    assert row["is_private"] is False
    assert row["message_count"] == 1
    assert row["last_message"] is None
    assert row["unread_count"] is None
    assert row["is_member"] is False


def test_member_fields(client_for):
    me, other = UserFactory(), UserFactory()
    chat = group_chat(other, admins=[me], capacity=5, description="about")
    first = post_message(chat, other, "one")
    Membership.objects.filter(chat=chat, user=me).update(last_read_message_id=first.pk)
    post_message(chat, me, "mine")  # my own messages are never unread
    last = post_message(chat, other, "three")
    LikeFactory(message=last, user=me)

    row = client_for(me).get(URL).json()["results"][0]

    assert row == {
        "id": chat.pk,
        "name": chat.name,
        "description": "about",
        "kind": "group",
        "is_private": False,
        "capacity": 5,
        "member_count": 2,
        "message_count": 3,
        "created_by": {"id": other.pk, "username": other.username},
        "created_at": row["created_at"],
        "is_member": True,
        "role": "admin",
        "last_message": {
            "id": last.pk,
            "chat_id": chat.pk,
            "author": {"id": other.pk, "username": other.username},
            "body": "three",
            "created_at": row["last_message"]["created_at"],
            "edited_at": None,
            "like_count": 1,
            "liked_by_me": True,
            "client_id": None,
            "attachments": [],
            "reply_to": None,
            "reply_count": 0,
            "reactions": [],
            "pinned": False,
            "mentions": [],
        },
        "unread_count": 1,
        "mention_count": 0,
    }


def test_unread_count_counts_everything_when_marker_is_null(client_for):
    me, other = UserFactory(), UserFactory()
    chat = group_chat(other, members=[me])
    for _ in range(3):
        post_message(chat, other)

    row = client_for(me).get(URL).json()["results"][0]

    assert row["unread_count"] == 3


def test_direct_chat_is_named_after_the_other_member(client_for):
    me, other = UserFactory(username="alice"), UserFactory(username="bob")
    direct_chat(me, other)

    assert client_for(me).get(URL).json()["results"][0]["name"] == "bob"
    assert client_for(other).get(URL).json()["results"][0]["name"] == "alice"


def test_mine_lists_my_chats_by_latest_activity(client_for):
    me, other = UserFactory(), UserFactory()
    old = group_chat(me)
    newer = group_chat(other, members=[me])
    group_chat(other)  # not mine
    direct = direct_chat(me, other)
    now = timezone.now()
    Chat.objects.filter(pk=old.pk).update(last_activity_at=now)
    Chat.objects.filter(pk=newer.pk).update(last_activity_at=now - datetime.timedelta(hours=1))
    Chat.objects.filter(pk=direct.pk).update(last_activity_at=now - datetime.timedelta(hours=2))

    response = client_for(me).get(URL, {"mine": "true"})

    assert response.status_code == 200
    assert ids(response) == [old.pk, newer.pk, direct.pk]


def test_mine_paginates_by_activity(client_for):
    me = UserFactory()
    chats = [group_chat(me) for _ in range(5)]
    now = timezone.now()
    for minutes, chat in enumerate(chats):
        Chat.objects.filter(pk=chat.pk).update(
            last_activity_at=now - datetime.timedelta(minutes=minutes)
        )
    client = client_for(me)

    first = client.get(URL, {"mine": "true", "page_size": 2}).json()
    second = client.get(first["next"]).json()
    third = client.get(second["next"]).json()

    seen = [row["id"] for page in (first, second, third) for row in page["results"]]
    assert seen == [chat.pk for chat in chats]
    assert third["next"] is None


def test_mine_false_lists_everything(client_for):
    me, other = UserFactory(), UserFactory()
    chat = group_chat(other)

    assert ids(client_for(me).get(URL, {"mine": "false"})) == [chat.pk]


def test_mine_invalid_is_400(client_for):
    response = client_for(UserFactory()).get(URL, {"mine": "perhaps"})

    assert response.status_code == 400
    assert "mine" in response.json()


def test_search_matches_name_ignoring_case(client_for):
    me, other = UserFactory(), UserFactory(username="zed_person")
    hit = group_chat(other, name="Python Lovers")
    group_chat(other, name="Rustaceans")
    percent = group_chat(other, name="100% real")
    direct = direct_chat(me, other)
    client = client_for(me)

    assert ids(client.get(URL, {"search": "pYthon"})) == [hit.pk]
    assert ids(client.get(URL, {"search": "%"})) == [percent.pk]
    assert ids(client.get(URL, {"search": "ZED_"})) == [direct.pk]
    assert ids(client.get(URL, {"search": "nothing"})) == []


def test_kind_filter(client_for):
    me, other = UserFactory(), UserFactory()
    group = group_chat(other)
    direct = direct_chat(me, other)
    client = client_for(me)

    assert ids(client.get(URL, {"kind": "group"})) == [group.pk]
    assert ids(client.get(URL, {"kind": "direct"})) == [direct.pk]


def test_invalid_kind_is_400(client_for):
    response = client_for(UserFactory()).get(URL, {"kind": "channel"})

    assert response.status_code == 400
    assert "kind" in response.json()


def test_page_size(client_for):
    me = UserFactory()
    for _ in range(3):
        group_chat(me)
    client = client_for(me)

    first = client.get(URL, {"page_size": 2}).json()
    assert len(first["results"]) == 2
    assert first["next"] is not None
    assert len(client.get(first["next"]).json()["results"]) == 1


def _many_chats(me, count: int = 200) -> None:
    """`count` chats of every kind, a third of them with messages and likes."""
    others = UserFactory.create_batch(5)
    chats = []
    for i in range(count):
        if i % 4 == 0:
            chats.append(direct_chat(me, UserFactory()))
        elif i % 4 == 1:
            chats.append(group_chat(others[i % 5], passkey="pw", members=[me] if i % 8 else []))
        else:
            owner = others[i % 5]
            members = [me] if i % 3 else [o for o in others[:2] if o != owner]
            chats.append(group_chat(owner, members=members))
    for i, chat in enumerate(chats):
        if i % 3 == 0:
            author = chat.memberships.first().user
            message = post_message(chat, author)
            # Likes come from members (the service refuses others): me where I am one.
            mine = chat.memberships.filter(user=me).exists()
            LikeFactory(message=message, user=me if mine else author)


@pytest.mark.parametrize("params", [{}, {"mine": "true"}, {"kind": "group", "search": "chat"}])
def test_list_query_count_is_fixed(client_for, django_assert_num_queries, params):
    me = UserFactory()
    _many_chats(me)
    client = client_for(me)
    # A token's first request reads the user row once to cache its "active" mark
    # (accounts.authentication); the list itself is what is counted.
    assert client.get("/api/v1/users/me/").status_code == 200

    # The page, its timeline (the last messages have no attachments to look up).
    with django_assert_num_queries(2):
        response = client.get(URL, {"page_size": 200, **params})

    assert response.status_code == 200
    rows = response.json()["results"]
    assert len(rows) >= 100
    assert any(row["last_message"] for row in rows)
    assert any(row["kind"] == "direct" for row in rows) or params.get("kind") == "group"


def test_empty_kind_and_search_do_not_filter(client_for):
    me, other = UserFactory(), UserFactory()
    group = group_chat(other)
    direct = direct_chat(me, other)

    assert ids(client_for(me).get(URL, {"kind": "", "search": "  "})) == [direct.pk, group.pk]


def test_detail_query_count_is_fixed(client_for, django_assert_num_queries):
    me = UserFactory()
    _many_chats(me)
    chat = Chat.objects.filter(memberships__user=me, last_message_id__isnull=False).first()
    client = client_for(me)
    assert client.get("/api/v1/users/me/").status_code == 200  # the token's mark cached

    # The chat's row (role, read marker, counts, display name), then its timeline (the last
    # message with liked_by_me and the unread count); it has no attachments to look up.
    with django_assert_num_queries(2):
        response = client.get(f"{URL}{chat.pk}/")

    assert response.status_code == 200
    assert response.json()["last_message"]["id"] == chat.last_message_id


def _walk(client, params) -> tuple[list[int], dict]:
    """Every id of a list, page by page through `next`; the last page's body."""
    page = client.get(URL, params).json()
    seen = ids_of(page)
    while page["next"]:
        page = client.get(page["next"]).json()
        seen += ids_of(page)
    return seen, page


def ids_of(page: dict) -> list[int]:
    return [row["id"] for row in page["results"]]


@pytest.mark.parametrize("mine", ["true", "false"])
def test_pages_walk_back_through_previous(client_for, mine):
    """Ties on the activity time are kept apart by the id: every chat once, either way."""
    me = UserFactory()
    chats = [group_chat(me) for _ in range(7)]
    same = timezone.now()
    Chat.objects.filter(pk__in=[chat.pk for chat in chats[2:6]]).update(last_activity_at=same)
    client = client_for(me)

    forward, last = _walk(client, {"mine": mine, "page_size": 2})
    backward = ids_of(last)
    page = last
    while page["previous"]:
        page = client.get(page["previous"]).json()
        backward = ids_of(page) + backward

    assert len(forward) == 7 and sorted(forward) == sorted(chat.pk for chat in chats)
    assert backward == forward
    assert page["previous"] is None


def test_mine_orders_ties_by_id(client_for):
    me = UserFactory()
    chats = [group_chat(me) for _ in range(5)]
    Chat.objects.update(last_activity_at=timezone.now())

    seen, _ = _walk(client_for(me), {"mine": "true", "page_size": 2})

    assert seen == sorted((chat.pk for chat in chats), reverse=True)


@pytest.mark.parametrize(
    "position", ["1", "1.2.3", "x.1", "99999999999999999999.1", "9223372036854775807.1"]
)
def test_a_cursor_that_is_no_key_of_the_list_is_404(client_for, position):
    """`mine=true` keys on (time, id): one number, three, or a time no datetime holds."""
    encoded = base64.b64encode(f"p={position}".encode()).decode()

    response = client_for(UserFactory()).get(URL, {"mine": "true", "cursor": encoded})

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_page_size_is_capped_at_200(client_for):
    me = UserFactory()
    _many_chats(me, count=210)

    page = client_for(me).get(URL, {"page_size": 500}).json()

    assert len(page["results"]) == 200
    assert page["next"] is not None
