"""Account lifecycle across the apps (chitchat.lifecycle): deletion and deactivation, with
the live events they send, through every way in (API, admin, password change)."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from chats.models import Chat, Membership
from chats.services import chat_create, chat_join, direct_chat_get_or_create
from live.testing import chats_heard_by
from messaging.services import message_like, message_send

pytestmark = pytest.mark.django_db

ME = "/api/v1/users/me/"


@pytest.fixture
def leaver_world():
    """`leaver` owns one chat, is a member of another and has a direct chat; wrote in two."""
    leaver, friend, admin = UserFactory(), UserFactory(), UserFactory()
    owned = chat_create(creator=leaver, name="owned", member_ids=[friend.pk, admin.pk])
    Membership.objects.filter(chat=owned, user=admin).update(role=Membership.Role.ADMIN)
    joined = chat_create(creator=friend, name="joined")
    chat_join(chat=joined, user=leaver)
    direct, _ = direct_chat_get_or_create(user=leaver, other=friend)
    in_owned = [message_send(chat=owned, author=leaver, body=f"o{i}")[0] for i in range(3)]
    in_direct = message_send(chat=direct, author=leaver, body="d")[0]
    theirs = message_send(chat=joined, author=friend, body="theirs")[0]
    message_like(message=theirs, user=leaver)
    return {
        "leaver": leaver,
        "friend": friend,
        "admin": admin,
        "owned": owned,
        "joined": joined,
        "direct": direct,
        "purged": {owned.pk: [m.pk for m in in_owned], direct.pk: [in_direct.pk]},
        "theirs": theirs,
    }


def assert_left_everything(world, sent_events) -> None:
    leaver = world["leaver"]
    left = [(group, data) for group, type_, data in sent_events.frames() if type_ == "member.left"]
    assert sorted(left, key=lambda item: item[0]) == sorted(
        [
            (f"chat.{world['owned'].pk}", {"user": ref(leaver), "role": "owner"}),
            (f"chat.{world['joined'].pk}", {"user": ref(leaver), "role": "member"}),
            (f"chat.{world['direct'].pk}", {"user": ref(leaver), "role": "member"}),
        ],
        key=lambda item: item[0],
    )
    # The leaver's own sockets stop hearing each chat (after its member.left).
    assert chats_heard_by(leaver.pk) == set()
    deleted = {}
    for group, type_, data in sent_events.frames():
        if type_ == "message.deleted":
            deleted.setdefault(int(group.split(".")[1]), []).append(data["id"])
    assert deleted == world["purged"]
    (unliked,) = [data for _, t, data in sent_events.frames() if t == "message.liked"]
    assert unliked == {
        "id": world["theirs"].pk,
        "like_count": 0,
        "user": ref(leaver),
        "liked": False,
    }
    assert sent_events.closed_users() == [(leaver.pk, 4401)]


def ref(user) -> dict:
    return {"id": user.pk, "username": user.username}


def test_delete_me_leaves_every_chat_with_its_events(
    leaver_world, client_for, sent_events, django_capture_on_commit_callbacks
):
    leaver = leaver_world["leaver"]
    client = client_for(leaver)
    sent_events.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.delete(ME, {"password": DEFAULT_PASSWORD})
    assert response.status_code == 204
    assert_left_everything(leaver_world, sent_events)
    owned = leaver_world["owned"]
    assert Membership.objects.get(chat=owned, user=leaver_world["admin"]).role == "owner"
    # The direct chat stays for the other member, with their history.
    assert Membership.objects.filter(chat=leaver_world["direct"]).count() == 1


def test_admin_deletion_leaves_every_chat_with_its_events(
    leaver_world, sent_events, django_capture_on_commit_callbacks
):
    staff = Client()
    staff.force_login(UserFactory(is_staff=True, is_superuser=True))
    leaver = leaver_world["leaver"]
    sent_events.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(
            reverse("admin:accounts_user_delete", args=[leaver.pk]), {"post": "yes"}
        )
    assert response.status_code == 302
    assert not User.objects.filter(pk=leaver.pk).exists()
    assert_left_everything(leaver_world, sent_events)


def test_chat_of_a_deleted_sole_owner_is_adopted_by_the_next_joiner(client_for):
    owner, newcomer, later = UserFactory(), UserFactory(), UserFactory()
    chat = chat_create(creator=owner, name="lonely")
    assert client_for(owner).delete(ME, {"password": DEFAULT_PASSWORD}).status_code == 204
    assert not Membership.objects.filter(chat=chat).exists()

    joined = client_for(newcomer).post(f"/api/v1/chats/{chat.pk}/join/")
    assert joined.status_code == 200
    assert joined.json()["role"] == "owner"
    # Administrable again: the new owner sets a passkey; the next joiner is a plain member.
    client = client_for(newcomer)
    assert client.patch(f"/api/v1/chats/{chat.pk}/", {"passkey": "pw"}).status_code == 200
    body = client_for(later).post(f"/api/v1/chats/{chat.pk}/join/", {"passkey": "pw"}).json()
    assert body["role"] == "member"
    assert Chat.objects.get(pk=chat.pk).passkey == "pw"


def test_admin_deactivation_closes_sockets(sent_events, django_capture_on_commit_callbacks):
    staff = Client()
    staff.force_login(UserFactory(is_staff=True, is_superuser=True))
    targets = UserFactory.create_batch(2)
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(
            reverse("admin:accounts_user_changelist"),
            {"action": "deactivate_users", "_selected_action": [u.pk for u in targets]},
        )
    assert response.status_code == 302
    assert sorted(sent_events.closed_users()) == sorted((u.pk, 4401) for u in targets)
    assert not User.objects.filter(pk__in=[u.pk for u in targets], is_active=True).exists()


def test_deactivation_in_the_change_form_closes_sockets(
    sent_events, django_capture_on_commit_callbacks
):
    user = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        user.is_active = False
        user.save()
    assert sent_events.closed_users() == [(user.pk, 4401)]


def test_password_change_closes_sockets(
    client_for, sent_events, django_capture_on_commit_callbacks
):
    user = UserFactory()
    client = client_for(user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/auth/password/",
            {"old_password": DEFAULT_PASSWORD, "new_password": "another-long-pass-1"},
        )
    assert response.status_code in (200, 204), response.content
    assert sent_events.closed_users() == [(user.pk, 4401)]
