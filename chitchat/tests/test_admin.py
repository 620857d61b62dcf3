"""The moderation admin: every page opens for staff at a fixed query cost, never for others."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from accounts.tests.factories import UserFactory
from chats.models import Chat, Membership
from messaging.models import Like, Message

ROWS = 2000  # of each kind: enough for an N+1 to blow the query budget


@pytest.fixture
def crowd(db):
    """Thousands of users, chats, memberships, messages and likes, bulk created."""
    users = User.objects.bulk_create(
        User(username=f"crowd{i}", email=f"crowd{i}@example.com", is_private=i % 3 == 0)
        for i in range(ROWS)
    )
    chats = Chat.objects.bulk_create(
        Chat(
            name=f"room {i}",
            passkey="secret" if i % 2 else "",
            created_by=users[i],
            message_count=1,
        )
        for i in range(ROWS)
    )
    Membership.objects.bulk_create(
        Membership(chat=chats[0], user=user, role="owner" if i == 0 else "member")
        for i, user in enumerate(users)
    )
    Membership.objects.bulk_create(
        Membership(chat=chat, user=users[0], role="member") for chat in chats[1:]
    )
    messages = Message.objects.bulk_create(
        Message(chat=chats[i], author=users[i], body=f"hello number {i}", like_count=1)
        for i in range(ROWS)
    )
    Like.objects.bulk_create(Like(message=messages[i], user=users[-1 - i]) for i in range(ROWS))
    return {"users": users, "chats": chats, "messages": messages}


@pytest.fixture
def staff_client(db) -> Client:
    admin = UserFactory(is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin)
    return client


CHANGELISTS = [
    "admin:accounts_user_changelist",
    "admin:chats_chat_changelist",
    "admin:chats_membership_changelist",
    "admin:messaging_message_changelist",
    "admin:messaging_like_changelist",
]


@pytest.mark.parametrize("name", CHANGELISTS)
def test_changelist_opens_at_a_fixed_cost(name, crowd, staff_client, django_assert_max_num_queries):
    # Plain, searched, sorted on another column, and a later page.
    for query in ("", "?q=1", "?o=2", "?p=3"):
        with django_assert_max_num_queries(8):
            response = staff_client.get(reverse(name) + query)
        assert response.status_code == 200, query
        assert b'id="result_list"' in response.content, query


def test_user_filters(crowd, staff_client, django_assert_max_num_queries):
    url = reverse("admin:accounts_user_changelist")
    with django_assert_max_num_queries(8):
        page = staff_client.get(url + "?is_private__exact=1&q=crowd199").content.decode()
    assert "crowd1996<" not in page  # 1996 % 3 != 0: public
    assert "crowd1998<" in page
    for query in ("?is_staff__exact=0", "?is_active__exact=1", "?is_superuser__exact=1"):
        assert staff_client.get(url + query).status_code == 200


def test_user_search_by_email(crowd, staff_client):
    response = staff_client.get(reverse("admin:accounts_user_changelist") + "?q=crowd17@example")
    assert response.status_code == 200
    assert "crowd17@example.com" in response.content.decode()
    assert "crowd18@example.com" not in response.content.decode()


@pytest.mark.parametrize(
    ("query", "expected", "unexpected"),
    [
        # Odd rooms have a passkey; the newest come first.
        ("?privacy=private", "room 1999<", "room 1998<"),
        ("?privacy=public", "room 1998<", "room 1999<"),
        ("?kind__exact=direct", None, "room 1999<"),
        ("?q=room 1777", "room 1777<", "room 1778<"),
    ],
)
def test_chat_filters(query, expected, unexpected, crowd, staff_client):
    response = staff_client.get(reverse("admin:chats_chat_changelist") + query)
    assert response.status_code == 200
    page = response.content.decode()
    if expected:
        assert expected in page
    assert unexpected not in page


def test_chat_list_shows_denormalised_message_count(crowd, staff_client):
    chat = crowd["chats"][1555]
    Chat.objects.filter(pk=chat.pk).update(message_count=4321)
    response = staff_client.get(reverse("admin:chats_chat_changelist") + "?q=room 1555")
    assert "4321" in response.content.decode()


def test_message_filter_by_chat_id(crowd, staff_client, django_assert_max_num_queries):
    chat = crowd["chats"][9]
    with django_assert_max_num_queries(8):
        response = staff_client.get(
            reverse("admin:messaging_message_changelist") + f"?chat={chat.pk}"
        )
    page = response.content.decode()
    assert response.status_code == 200
    assert "hello number 9<" in page
    assert "hello number 8<" not in page
    # The sidebar offers a few recent chats, never the whole table.
    assert page.count("?chat=") < 100


def test_message_search_and_date_filter(crowd, staff_client):
    url = reverse("admin:messaging_message_changelist")
    page = staff_client.get(url + "?q=number 1234").content.decode()
    assert "hello number 1234<" in page
    assert "hello number 1233<" not in page
    response = staff_client.get(url + "?created_at__gte=2000-01-01T00:00:00%2B00:00")
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("name", "pick"),
    [
        ("admin:accounts_user_change", lambda c: c["users"][0]),
        ("admin:chats_chat_change", lambda c: c["chats"][0]),
        ("admin:chats_membership_change", lambda c: Membership.objects.first()),
        ("admin:messaging_message_change", lambda c: c["messages"][0]),
        ("admin:messaging_like_change", lambda c: Like.objects.first()),
    ],
)
def test_change_page_opens_at_a_fixed_cost(
    name, pick, crowd, staff_client, django_assert_max_num_queries
):
    obj = pick(crowd)
    # crowd["chats"][0] has 2,000 members: the inline shows a bounded slice of them.
    with django_assert_max_num_queries(10):
        response = staff_client.get(reverse(name, args=[obj.pk]))
    assert response.status_code == 200


def test_chat_page_shows_owner_first_and_links_all_members(crowd, staff_client):
    chat = crowd["chats"][0]
    page = staff_client.get(reverse("admin:chats_chat_change", args=[chat.pk])).content.decode()
    assert page.count('name="memberships-') > 0
    assert f'value="{crowd["users"][0].pk}"' in page  # the owner
    assert f"?chat__id__exact={chat.pk}" in page
    assert 'name="memberships-INITIAL_FORMS" value="50"' in page


def test_chat_inline_role_change_saves(crowd, staff_client):
    chat = Chat.objects.create(name="small")
    owner, member = crowd["users"][1], crowd["users"][2]
    owner_ms = Membership.objects.create(chat=chat, user=owner, role="owner")
    member_ms = Membership.objects.create(chat=chat, user=member, role="member")
    data = {
        "name": "small",
        "description": "",
        "passkey": "",
        "capacity": "",
        "created_by": "",
        "invite_code": chat.invite_code,
        "memberships-TOTAL_FORMS": "2",
        "memberships-INITIAL_FORMS": "2",
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
        "memberships-0-id": str(owner_ms.pk),
        "memberships-0-chat": str(chat.pk),
        "memberships-0-user": str(owner.pk),
        "memberships-0-role": "owner",
        "memberships-0-last_read_message_id": "",
        "memberships-1-id": str(member_ms.pk),
        "memberships-1-chat": str(chat.pk),
        "memberships-1-user": str(member.pk),
        "memberships-1-role": "admin",
        "memberships-1-last_read_message_id": "",
    }
    response = staff_client.post(reverse("admin:chats_chat_change", args=[chat.pk]), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    member_ms.refresh_from_db()
    assert member_ms.role == "admin"


def test_deactivate_action(crowd, staff_client):
    targets = crowd["users"][:3]
    response = staff_client.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "deactivate_users", "_selected_action": [u.pk for u in targets]},
    )
    assert response.status_code == 302
    assert not User.objects.filter(pk__in=[u.pk for u in targets], is_active=True).exists()
    assert User.objects.get(pk=crowd["users"][3].pk).is_active


def test_deactivate_action_spares_the_moderator(db):
    admin = UserFactory(is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin)
    client.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "deactivate_users", "_selected_action": [admin.pk]},
    )
    admin.refresh_from_db()
    assert admin.is_active


@pytest.mark.parametrize("name", CHANGELISTS)
def test_non_staff_is_refused(name, db):
    client = Client()
    client.force_login(UserFactory())
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_anonymous_is_sent_to_login(db):
    response = Client().get(reverse("admin:index"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_staff_without_permissions_is_refused(db):
    client = Client()
    client.force_login(UserFactory(is_staff=True))
    response = client.get(reverse("admin:messaging_message_changelist"))
    assert response.status_code == 403


def test_no_add_page_for_chats_messages_likes(staff_client):
    for name in ("admin:chats_chat_add", "admin:messaging_message_add", "admin:messaging_like_add"):
        assert staff_client.get(reverse(name)).status_code == 403
