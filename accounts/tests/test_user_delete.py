"""DELETE /api/v1/users/me/: the user and everything theirs go; owned chats pass on."""

import pytest
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from chats.models import Chat, Membership
from chats.services import chat_create, chat_join
from messaging.models import Like, Message
from messaging.services import message_like, message_send

ME = "/api/v1/users/me/"


@pytest.mark.django_db
def test_delete_me_removes_user_memberships_messages_and_likes(api_client, client_for):
    leaver = UserFactory()
    admin, member = UserFactory(), UserFactory()
    owned = chat_create(creator=leaver, name="owned", member_ids=[member.pk, admin.pk])
    Membership.objects.filter(chat=owned, user=admin).update(role=Membership.Role.ADMIN)
    joined = chat_create(creator=member, name="joined")
    chat_join(chat=joined, user=leaver)
    mine, _ = message_send(chat=owned, author=leaver, body="mine")
    theirs, _ = message_send(chat=joined, author=member, body="theirs")
    message_like(message=theirs, user=leaver)
    message_like(message=mine, user=member)
    refresh = str(RefreshToken.for_user(leaver))
    client = client_for(leaver)

    response = client.delete(ME, {"password": DEFAULT_PASSWORD})

    assert response.status_code == 204
    assert not User.objects.filter(pk=leaver.pk).exists()
    assert not Membership.objects.filter(user_id=leaver.pk).exists()
    assert not Message.objects.filter(pk=mine.pk).exists()
    assert not Like.objects.filter(user_id=leaver.pk).exists()
    theirs.refresh_from_db()
    assert theirs.like_count == 0
    owned.refresh_from_db()
    assert owned.message_count == 0
    # Ownership passes on as when an owner leaves: to the oldest admin.
    assert Membership.objects.get(chat=owned, user=admin).role == Membership.Role.OWNER
    assert Chat.objects.filter(pk=joined.pk).exists()
    # The deleted user's tokens stop working at once.
    after = client.get(ME)
    assert after.status_code == 401
    assert after.json()["code"] == "user_not_found"
    assert api_client.post("/api/v1/auth/token/refresh/", {"refresh": refresh}).status_code == 401


@pytest.mark.django_db
def test_delete_me_wrong_password_400(user_client, user):
    response = user_client.delete(ME, {"password": "not-my-password"})
    assert response.status_code == 400
    assert response.json() == {"password": ["Wrong password."]}
    assert User.objects.filter(pk=user.pk).exists()


@pytest.mark.django_db
def test_delete_me_missing_password_400(user_client, user):
    response = user_client.delete(ME)
    assert response.status_code == 400
    assert response.json() == {"password": ["This field is required."]}
    assert User.objects.filter(pk=user.pk).exists()


@pytest.mark.django_db
def test_delete_me_last_member_leaves_the_chat_in_place(user_client, user):
    chat = chat_create(creator=user, name="solo")
    assert user_client.delete(ME, {"password": DEFAULT_PASSWORD}).status_code == 204
    assert Chat.objects.filter(pk=chat.pk).exists()
    assert not Membership.objects.filter(chat=chat).exists()
