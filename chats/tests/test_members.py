"""GET/POST /chats/{id}/members/, PATCH/DELETE /chats/{id}/members/{user_id}/."""

import pytest

from accounts.tests.factories import UserFactory
from chats.models import Membership
from chats.tests.factories import direct_chat, group_chat, members_bulk_add
from live.testing import chats_heard_by
from messaging.tests.factories import MessageFactory

pytestmark = pytest.mark.django_db


def url(chat, user=None) -> str:
    suffix = f"{user.pk}/" if user is not None else ""
    return f"/api/v1/chats/{chat.pk}/members/{suffix}"


def role_of(chat, user) -> str | None:
    return Membership.objects.filter(chat=chat, user=user).values_list("role", flat=True).first()


# --- list --------------------------------------------------------------------------------


def test_member_lists_members_in_join_order(client_for):
    owner, admin, member = UserFactory(), UserFactory(), UserFactory()
    chat = group_chat(owner, admins=[admin], members=[member], passkey="pw")

    response = client_for(member).get(url(chat))

    assert response.status_code == 200
    rows = response.json()["results"]
    assert [(r["user"], r["role"]) for r in rows] == [
        ({"id": owner.pk, "username": owner.username}, "owner"),
        ({"id": admin.pk, "username": admin.username}, "admin"),
        ({"id": member.pk, "username": member.username}, "member"),
    ]
    assert all(set(r) == {"user", "role", "joined_at"} for r in rows)
    assert rows[0]["joined_at"].endswith("Z")


def test_anyone_lists_members_of_public_chat(client_for):
    owner = UserFactory()
    chat = group_chat(owner)

    response = client_for(UserFactory()).get(url(chat))

    assert response.status_code == 200
    assert [r["user"]["id"] for r in response.json()["results"]] == [owner.pk]


def test_non_member_may_not_list_private_chat_members(client_for):
    chat = group_chat(UserFactory(), passkey="pw")

    response = client_for(UserFactory()).get(url(chat))

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_direct_chat_members(client_for):
    me, other = UserFactory(), UserFactory()
    chat = direct_chat(me, other)

    assert client_for(me).get(url(chat)).status_code == 200
    assert client_for(UserFactory()).get(url(chat)).status_code == 404


def test_member_list_query_count_is_fixed(client_for, django_assert_num_queries):
    owner = UserFactory()
    chat = group_chat(owner)
    users = UserFactory.create_batch(499)
    members_bulk_add(chat, users)
    client = client_for(owner)

    with django_assert_num_queries(2):
        first = client.get(url(chat), {"page_size": 200})
    assert first.status_code == 200
    seen = [r["user"]["id"] for r in first.json()["results"]]
    next_url = first.json()["next"]
    while next_url:
        with django_assert_num_queries(2):
            page = client.get(next_url).json()
        seen += [r["user"]["id"] for r in page["results"]]
        next_url = page["next"]
    assert seen == [owner.pk] + [u.pk for u in users]


# --- add ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_owner_or_admin_adds_member(
    client_for, sent_events, django_capture_on_commit_callbacks, role
):
    owner, admin, new = UserFactory(), UserFactory(), UserFactory()
    chat = group_chat(owner, admins=[admin])
    message = MessageFactory(chat=chat, author=owner, body="x")

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(owner if role == "owner" else admin).post(
            url(chat), {"user_id": new.pk}
        )

    assert response.status_code == 201
    body = response.json()
    assert body["user"] == {"id": new.pk, "username": new.username}
    assert body["role"] == "member"
    assert "joined_at" in body
    membership = Membership.objects.get(chat=chat, user=new)
    assert membership.last_read_message_id == message.pk
    assert sent_events.types() == [(f"chat.{chat.pk}", "member.joined")]


def test_adding_existing_member_is_200(client_for, sent_events, django_capture_on_commit_callbacks):
    owner, admin = UserFactory(), UserFactory()
    chat = group_chat(owner, admins=[admin])

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(owner).post(url(chat), {"user_id": admin.pk})

    assert response.status_code == 200
    assert response.json()["role"] == "admin"
    assert sent_events == []


def test_add_to_full_chat_is_409(client_for):
    owner = UserFactory()
    chat = group_chat(owner, members=[UserFactory()], capacity=2)

    response = client_for(owner).post(url(chat), {"user_id": UserFactory().pk})

    assert response.status_code == 409
    assert response.json()["code"] == "chat_full"
    assert chat.memberships.count() == 2


@pytest.mark.parametrize("payload", [{}, {"user_id": "x"}, {"user_id": 0}, {"user_id": 999999}])
def test_add_invalid_or_unknown_user_is_400(client_for, payload):
    owner = UserFactory()
    chat = group_chat(owner)

    response = client_for(owner).post(url(chat), payload)

    assert response.status_code == 400
    assert "user_id" in response.json()


def test_plain_member_may_not_add(client_for):
    member = UserFactory()
    chat = group_chat(UserFactory(), members=[member])

    response = client_for(member).post(url(chat), {"user_id": UserFactory().pk})

    assert response.status_code == 403


def test_non_member_may_not_add(client_for):
    chat = group_chat(UserFactory())
    me = UserFactory()

    assert client_for(me).post(url(chat), {"user_id": me.pk}).status_code == 403


def test_no_one_is_added_to_a_direct_chat(client_for):
    me = UserFactory()
    chat = direct_chat(me, UserFactory())

    assert client_for(me).post(url(chat), {"user_id": UserFactory().pk}).status_code == 403
    assert chat.memberships.count() == 2


# --- role change -------------------------------------------------------------------------


def test_owner_promotes_and_demotes(client_for):
    owner, member = UserFactory(), UserFactory()
    chat = group_chat(owner, members=[member])
    client = client_for(owner)

    response = client.patch(url(chat, member), {"role": "admin"})
    assert response.status_code == 200
    assert response.json()["user"] == {"id": member.pk, "username": member.username}
    assert response.json()["role"] == "admin"
    assert role_of(chat, member) == "admin"

    response = client.patch(url(chat, member), {"role": "member"})
    assert response.status_code == 200
    assert response.json()["role"] == "member"
    assert role_of(chat, member) == "member"


def test_admin_may_not_change_roles(client_for):
    owner, admin, member = UserFactory(), UserFactory(), UserFactory()
    chat = group_chat(owner, admins=[admin], members=[member])

    response = client_for(admin).patch(url(chat, member), {"role": "admin"})

    assert response.status_code == 403
    assert role_of(chat, member) == "member"


@pytest.mark.parametrize("role", ["owner", "boss", "", None])
def test_invalid_role_is_400(client_for, role):
    owner, member = UserFactory(), UserFactory()
    chat = group_chat(owner, members=[member])

    response = client_for(owner).patch(url(chat, member), {"role": role})

    assert response.status_code == 400
    assert "role" in response.json()
    assert role_of(chat, member) == "member"


def test_owners_own_role_cannot_change(client_for):
    owner = UserFactory()
    chat = group_chat(owner)

    response = client_for(owner).patch(url(chat, owner), {"role": "member"})

    assert response.status_code == 403
    assert role_of(chat, owner) == "owner"


def test_role_of_non_member_is_404(client_for):
    owner = UserFactory()
    chat = group_chat(owner)

    assert client_for(owner).patch(url(chat, UserFactory()), {"role": "admin"}).status_code == 404
    assert client_for(owner).patch(f"{url(chat)}999999/", {"role": "admin"}).status_code == 404


# --- remove ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_owner_or_admin_removes_member(
    client_for, sent_events, django_capture_on_commit_callbacks, role
):
    owner, admin, member = UserFactory(), UserFactory(), UserFactory()
    chat = group_chat(owner, admins=[admin], members=[member])

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(owner if role == "owner" else admin).delete(url(chat, member))

    assert response.status_code == 204
    assert role_of(chat, member) is None
    data = {"user": {"id": member.pk, "username": member.username}, "role": "member"}
    assert sent_events.frames() == [(f"chat.{chat.pk}", "member.left", data)]
    # The removed user's own sockets hear it too (the last of the chat they hear).
    assert chat.pk not in chats_heard_by(member.pk)


def test_admin_removes_another_admin(client_for):
    owner, admin, other_admin = UserFactory(), UserFactory(), UserFactory()
    chat = group_chat(owner, admins=[admin, other_admin])

    assert client_for(admin).delete(url(chat, other_admin)).status_code == 204
    assert role_of(chat, other_admin) is None


@pytest.mark.parametrize("actor_role", ["owner", "admin"])
def test_owner_is_never_removed(client_for, actor_role):
    owner, admin = UserFactory(), UserFactory()
    chat = group_chat(owner, admins=[admin])

    response = client_for(owner if actor_role == "owner" else admin).delete(url(chat, owner))

    assert response.status_code == 403
    assert role_of(chat, owner) == "owner"


def test_plain_member_may_not_remove(client_for):
    owner, member, other = UserFactory(), UserFactory(), UserFactory()
    chat = group_chat(owner, members=[member, other])

    assert client_for(member).delete(url(chat, other)).status_code == 403
    assert role_of(chat, other) == "member"


def test_remove_non_member_is_404(client_for):
    owner = UserFactory()
    chat = group_chat(owner)

    assert client_for(owner).delete(url(chat, UserFactory())).status_code == 404


def test_no_one_is_removed_from_a_direct_chat(client_for):
    me, other = UserFactory(), UserFactory()
    chat = direct_chat(me, other)

    assert client_for(me).delete(url(chat, other)).status_code == 403
    assert chat.memberships.count() == 2


def test_member_endpoints_of_someone_elses_direct_chat_are_404(client_for):
    a, b = UserFactory(), UserFactory()
    chat = direct_chat(a, b)
    client = client_for(UserFactory())

    assert client.patch(url(chat, a), {"role": "admin"}).status_code == 404
    assert client.delete(url(chat, a)).status_code == 404
    assert client.post(url(chat), {"user_id": a.pk}).status_code == 404
