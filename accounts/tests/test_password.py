"""Password change, reset and reset confirmation."""

import re

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from rest_framework_simplejwt.tokens import RefreshToken

from accounts import services
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory

CHANGE = "/api/v1/auth/password/"
RESET = "/api/v1/auth/password/reset/"
CONFIRM = "/api/v1/auth/password/reset/confirm/"
REFRESH = "/api/v1/auth/token/refresh/"
NEW_PASSWORD = "another-Strong-pass-9"


@pytest.fixture(autouse=True)
def _locmem_email(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.mark.django_db
def test_password_change_revokes_every_refresh_token(api_client, client_for, user):
    refresh_tokens = [str(RefreshToken.for_user(user)) for _ in range(3)]

    response = client_for(user).post(
        CHANGE, {"old_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD}
    )

    assert response.status_code == 204
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    for token in refresh_tokens:
        assert api_client.post(REFRESH, {"refresh": token}).status_code == 401
    login = api_client.post(
        "/api/v1/auth/token/", {"username": user.username, "password": NEW_PASSWORD}
    )
    assert login.status_code == 200


@pytest.mark.django_db
def test_password_change_keeps_other_users_tokens(api_client, client_for, user):
    other_refresh = str(RefreshToken.for_user(UserFactory()))
    client_for(user).post(CHANGE, {"old_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD})
    assert api_client.post(REFRESH, {"refresh": other_refresh}).status_code == 200


@pytest.mark.django_db
def test_password_change_wrong_old_password_400(user_client, user):
    response = user_client.post(CHANGE, {"old_password": "nope-nope", "new_password": NEW_PASSWORD})
    assert response.status_code == 400
    assert response.json() == {"old_password": ["Wrong password."]}
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


@pytest.mark.django_db
def test_password_change_weak_new_password_400(user_client):
    response = user_client.post(CHANGE, {"old_password": DEFAULT_PASSWORD, "new_password": "123"})
    assert response.status_code == 400
    assert list(response.json()) == ["new_password"]


@pytest.mark.django_db
def test_password_change_needs_authentication(api_client):
    response = api_client.post(CHANGE, {"old_password": "x", "new_password": NEW_PASSWORD})
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def _link_parts(message) -> tuple[str, str]:
    match = re.search(r"uid=([\w-]+)&token=([\w-]+)", message.body)
    assert match, message.body
    return match.group(1), match.group(2)


@pytest.mark.django_db
def test_password_reset_sends_email_with_working_single_use_link(api_client, user):
    refresh = str(RefreshToken.for_user(user))

    response = api_client.post(RESET, {"email": user.email.upper()})

    assert response.status_code == 204
    services.mail_wait()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [user.email]
    uid, token = _link_parts(mail.outbox[0])

    confirm = api_client.post(CONFIRM, {"uid": uid, "token": token, "new_password": NEW_PASSWORD})

    assert confirm.status_code == 204
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert api_client.post(REFRESH, {"refresh": refresh}).status_code == 401
    reused = api_client.post(
        CONFIRM, {"uid": uid, "token": token, "new_password": "third-Pass-77x"}
    )
    assert reused.status_code == 400
    assert reused.json() == {"token": ["The reset link is invalid or has already been used."]}


@pytest.mark.django_db
def test_password_reset_unknown_email_same_answer_no_mail(api_client):
    response = api_client.post(RESET, {"email": "nobody@example.com"})
    assert response.status_code == 204
    services.mail_wait()
    assert mail.outbox == []


@pytest.mark.django_db
def test_password_reset_inactive_user_gets_no_mail(api_client):
    user = UserFactory(is_active=False)
    assert api_client.post(RESET, {"email": user.email}).status_code == 204
    services.mail_wait()
    assert mail.outbox == []


@pytest.mark.django_db
def test_password_reset_invalid_email_400(api_client):
    response = api_client.post(RESET, {"email": "not-an-email"})
    assert response.status_code == 400
    assert "email" in response.json()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "uid,token,field",
    [
        ("!!!", "x", "uid"),
        (urlsafe_base64_encode(b"abc"), "x", "uid"),
        (urlsafe_base64_encode(b"99999999999999999999999"), "x", "token"),
        (None, "bad-token", "token"),
    ],
    ids=["not-base64", "not-a-number", "huge-id", "bad-token"],
)
def test_password_reset_confirm_bad_link_400(api_client, user, uid, token, field):
    uid = uid or urlsafe_base64_encode(force_bytes(user.pk))
    response = api_client.post(CONFIRM, {"uid": uid, "token": token, "new_password": NEW_PASSWORD})
    assert response.status_code == 400
    assert list(response.json()) == [field]
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


@pytest.mark.django_db
def test_password_reset_confirm_weak_password_400_keeps_token(api_client, user):
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    response = api_client.post(CONFIRM, {"uid": uid, "token": token, "new_password": "short"})
    assert response.status_code == 400
    assert list(response.json()) == ["new_password"]
    ok = api_client.post(CONFIRM, {"uid": uid, "token": token, "new_password": NEW_PASSWORD})
    assert ok.status_code == 204


@pytest.mark.django_db
def test_password_reset_token_expires(api_client, user, settings):
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    settings.PASSWORD_RESET_TIMEOUT = -1  # every token is already past its lifetime
    response = api_client.post(CONFIRM, {"uid": uid, "token": token, "new_password": NEW_PASSWORD})
    assert response.status_code == 400
    assert list(response.json()) == ["token"]


@pytest.mark.django_db
def test_password_reset_confirm_missing_fields_400(api_client):
    response = api_client.post(CONFIRM, {})
    assert response.status_code == 400
    assert set(response.json()) == {"uid", "token", "new_password"}


@pytest.mark.django_db
def test_password_reset_mail_failure_still_204(api_client, user, monkeypatch):
    def broken(*args, **kwargs):
        raise ConnectionRefusedError("smtp down")

    monkeypatch.setattr("accounts.services.send_mail", broken)
    response = api_client.post(RESET, {"email": user.email})
    assert response.status_code == 204
    services.mail_wait()
