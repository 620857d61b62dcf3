"""The moderation admin: every page opens for staff at a fixed query cost, never for others."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from accounts.tests.factories import UserFactory
from chats.models import Chat, Membership
from chats.tests.factories import MembershipFactory, group_chat
from chitchat import bulkload
from messaging.models import Like, Message

ROWS = 2000  # of each kind: enough for an N+1 to blow the query budget


@pytest.fixture
def crowd(db):
    """Thousands of users, chats, memberships, messages and likes, bulk created (counters
    recomputed by the bulk loader)."""
    users = User.objects.bulk_create(
        User(username=f"crowd{i}", email=f"crowd{i}@example.com", is_private=i % 3 == 0)
        for i in range(ROWS)
    )
    chats = Chat.objects.bulk_create(
        Chat(
            name=f"room {i}",
            passkey="secret" if i % 2 else "",
            created_by=users[i],
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
        Message(chat=chats[i], author=users[i], body=f"hello number {i}") for i in range(ROWS)
    )
    Like.objects.bulk_create(Like(message=messages[i], user=users[-1 - i]) for i in range(ROWS))
    bulkload.recount()  # message_count, last_message, like_count from the rows
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


@pytest.mark.no_invariants  # a count no COUNT(*) would give: the page shows the column
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
    assert 'name="memberships-INITIAL_FORMS" value="50"' in page
    owner = crowd["users"][0]
    first_row = page.index('id="memberships-0"')
    assert owner.username in page[first_row : first_row + 3000]
    assert f"?chat__id__exact={chat.pk}" in page


@pytest.mark.parametrize(
    ("name", "pick"),
    [
        ("admin:chats_chat_delete", lambda c: c["chats"][0]),
        ("admin:accounts_user_delete", lambda c: c["users"][0]),
        ("admin:messaging_message_delete", lambda c: c["messages"][0]),
    ],
)
def test_delete_confirmation_is_a_summary(
    name, pick, crowd, staff_client, django_assert_max_num_queries
):
    obj = pick(crowd)
    with django_assert_max_num_queries(10):
        response = staff_client.get(reverse(name, args=[obj.pk]))
    assert response.status_code == 200
    assert "Are you sure" in response.content.decode()


# ---------------------------------------------------------------------------
# Writes go through the services: counters stay right and live events are sent.
# ---------------------------------------------------------------------------
@pytest.fixture
def talk(db):
    """alice owns a chat with bob; three messages through the service, the last one liked."""
    from messaging.services import message_like, message_send

    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    chat = group_chat(alice, members=[bob], name="talk")
    messages = [message_send(chat=chat, author=alice, body=f"line {i}")[0] for i in range(3)]
    message_like(message=messages[-1], user=bob)
    return {"alice": alice, "bob": bob, "chat": chat, "messages": messages}


def test_message_delete_page_goes_through_the_service(
    talk, staff_client, sent_events, django_capture_on_commit_callbacks
):
    chat, last = talk["chat"], talk["messages"][-1]
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("admin:messaging_message_delete", args=[last.pk]), {"post": "yes"}
        )
    assert response.status_code == 302
    chat.refresh_from_db()
    assert not Message.objects.filter(pk=last.pk).exists()
    assert chat.message_count == 2
    assert chat.last_message_id == talk["messages"][1].pk
    assert [f["data"] for f in sent_events.of_type("message.deleted")] == [{"id": last.pk}]


def test_message_bulk_delete_goes_through_the_service(
    talk, staff_client, sent_events, django_capture_on_commit_callbacks
):
    chat, messages = talk["chat"], talk["messages"]
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("admin:messaging_message_changelist"),
            {
                "action": "delete_selected",
                "_selected_action": [m.pk for m in messages[1:]],
                "post": "yes",
            },
        )
    assert response.status_code == 302
    chat.refresh_from_db()
    assert chat.message_count == 1
    assert chat.last_message_id == messages[0].pk
    deleted = sorted(f["data"]["id"] for f in sent_events.of_type("message.deleted"))
    assert deleted == [m.pk for m in messages[1:]]


def test_chat_delete_goes_through_the_service(
    talk, staff_client, sent_events, django_capture_on_commit_callbacks
):
    chat = talk["chat"]
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("admin:chats_chat_delete", args=[chat.pk]), {"post": "yes"}
        )
    assert response.status_code == 302
    assert not Chat.objects.filter(pk=chat.pk).exists()
    assert not Message.objects.filter(chat_id=chat.pk).exists()
    assert sent_events.of_type("chat.deleted")


def test_chat_bulk_delete_goes_through_the_service(
    talk, staff_client, sent_events, django_capture_on_commit_callbacks
):
    other = group_chat(talk["bob"], name="other")
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("admin:chats_chat_changelist"),
            {
                "action": "delete_selected",
                "_selected_action": [talk["chat"].pk, other.pk],
                "post": "yes",
            },
        )
    assert response.status_code == 302
    assert not Chat.objects.filter(pk__in=[talk["chat"].pk, other.pk]).exists()
    assert len(sent_events.of_type("chat.deleted")) >= 2


def chat_form(chat, memberships, **changes):
    data = {
        "name": chat.name,
        "description": chat.description,
        "passkey": chat.passkey,
        "capacity": "" if chat.capacity is None else str(chat.capacity),
        "memberships-TOTAL_FORMS": str(len(memberships)),
        "memberships-INITIAL_FORMS": str(len(memberships)),
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
    }
    for i, membership in enumerate(memberships):
        data[f"memberships-{i}-id"] = str(membership.pk)
        data[f"memberships-{i}-chat"] = str(chat.pk)
        data[f"memberships-{i}-role"] = membership.role
    data.update(changes)
    return data


def ordered_memberships(chat):
    return sorted(chat.memberships.all(), key=lambda m: (m.role != "owner", m.role, m.pk))


def test_chat_edit_goes_through_the_service(
    talk, staff_client, sent_events, django_capture_on_commit_callbacks
):
    chat = talk["chat"]
    data = chat_form(chat, ordered_memberships(chat), name="renamed", passkey="sesame")
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(reverse("admin:chats_chat_change", args=[chat.pk]), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    chat.refresh_from_db()
    assert (chat.name, chat.passkey) == ("renamed", "sesame")
    (frame,) = sent_events.of_type("chat.updated")
    assert frame["data"]["name"] == "renamed"
    assert "passkey" not in frame["data"]


def test_chat_capacity_below_members_is_a_form_error(talk, staff_client):
    chat = talk["chat"]
    data = chat_form(chat, ordered_memberships(chat), capacity="2")
    data["capacity"] = "2"
    MembershipFactory(chat=chat, user=UserFactory())
    response = staff_client.post(reverse("admin:chats_chat_change", args=[chat.pk]), data)
    assert response.status_code == 200
    assert "capacity cannot be lower" in response.content.decode()
    chat.refresh_from_db()
    assert chat.capacity is None


def test_inline_role_change_and_removal_go_through_the_services(
    talk, staff_client, sent_events, django_capture_on_commit_callbacks
):
    chat, bob = talk["chat"], talk["bob"]
    carol = UserFactory()
    MembershipFactory(chat=chat, user=carol)
    memberships = ordered_memberships(chat)
    data = chat_form(chat, memberships)
    index = {m.user_id: i for i, m in enumerate(memberships)}
    data[f"memberships-{index[bob.pk]}-role"] = "admin"
    data[f"memberships-{index[carol.pk]}-DELETE"] = "on"
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(reverse("admin:chats_chat_change", args=[chat.pk]), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert Membership.objects.get(chat=chat, user=bob).role == "admin"
    assert not Membership.objects.filter(chat=chat, user=carol).exists()
    (left,) = sent_events.of_type("member.left")
    assert left["data"]["user"]["id"] == carol.pk


@pytest.mark.parametrize("change", ["remove_owner", "demote_owner", "promote_to_owner"])
def test_inline_cannot_touch_ownership(change, talk, staff_client):
    chat = talk["chat"]
    memberships = ordered_memberships(chat)
    data = chat_form(chat, memberships)
    if change == "remove_owner":
        data["memberships-0-DELETE"] = "on"
    elif change == "demote_owner":
        data["memberships-0-role"] = "member"
    else:
        data["memberships-1-role"] = "owner"
    response = staff_client.post(reverse("admin:chats_chat_change", args=[chat.pk]), data)
    assert response.status_code == 200  # the form again, with the error
    assert Membership.objects.get(chat=chat, role="owner").user == talk["alice"]
    assert chat.memberships.count() == 2


def test_membership_admin_removal_spares_owners(
    talk, staff_client, sent_events, django_capture_on_commit_callbacks
):
    chat = talk["chat"]
    owner = Membership.objects.get(chat=chat, role="owner")
    member = Membership.objects.get(chat=chat, role="member")
    page = staff_client.get(reverse("admin:chats_membership_delete", args=[owner.pk]))
    assert page.status_code == 403
    url = reverse("admin:chats_membership_changelist")
    refused = staff_client.post(
        url,
        {"action": "delete_selected", "_selected_action": [owner.pk, member.pk], "post": "yes"},
    )
    assert refused.status_code == 403
    assert chat.memberships.count() == 2
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            url, {"action": "delete_selected", "_selected_action": [member.pk], "post": "yes"}
        )
    assert response.status_code == 302
    assert list(chat.memberships.values_list("role", flat=True)) == ["owner"]
    (left,) = sent_events.of_type("member.left")
    assert left["data"]["user"]["id"] == talk["bob"].pk


def test_like_delete_goes_through_the_service(
    talk, staff_client, sent_events, django_capture_on_commit_callbacks
):
    like = Like.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("admin:messaging_like_delete", args=[like.pk]), {"post": "yes"}
        )
    assert response.status_code == 302
    message = talk["messages"][-1]
    message.refresh_from_db()
    assert message.like_count == 0
    (frame,) = sent_events.of_type("message.liked")
    assert frame["data"]["liked"] is False


def test_user_delete_goes_through_the_service(talk, staff_client):
    alice, bob, chat = talk["alice"], talk["bob"], talk["chat"]
    response = staff_client.post(
        reverse("admin:accounts_user_delete", args=[alice.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert not User.objects.filter(pk=alice.pk).exists()
    # As when an owner leaves: the chat passes on to bob.
    assert Membership.objects.get(chat=chat, user=bob).role == "owner"


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


@pytest.mark.postgres
def test_unfiltered_message_count_comes_from_the_statistics(
    crowd, staff_client, monkeypatch, django_assert_max_num_queries
):
    """Above EXACT_COUNT_LIMIT rows the changelist reads pg_class.reltuples, not COUNT(*)."""
    from django.db import connection

    from messaging import admin as messaging_admin

    monkeypatch.setattr(messaging_admin, "EXACT_COUNT_LIMIT", 10)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE messaging_message")
    with django_assert_max_num_queries(8) as captured:
        response = staff_client.get(reverse("admin:messaging_message_changelist"))
    assert response.status_code == 200
    sql = [q["sql"] for q in captured.captured_queries]
    assert any("reltuples" in s for s in sql)
    assert not any("COUNT(*)" in s and "messaging_message" in s for s in sql)
    assert f"{ROWS} messages" in response.content.decode().replace(",", "")


def test_staff_can_add_a_user(staff_client):
    url = reverse("admin:accounts_user_add")
    assert staff_client.get(url).status_code == 200
    response = staff_client.post(
        url,
        {
            "username": "newbie",
            "email": "newbie@example.com",
            "usable_password": "true",
            "password1": "a-long-pass-phrase-1",
            "password2": "a-long-pass-phrase-1",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert User.objects.get(username="newbie").check_password("a-long-pass-phrase-1")
