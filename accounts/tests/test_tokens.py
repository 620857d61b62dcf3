"""Token obtain (username or email), refresh with rotation, logout, and the JWT itself."""

from datetime import timedelta

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory

TOKEN = "/api/v1/auth/token/"
REFRESH = "/api/v1/auth/token/refresh/"
LOGOUT = "/api/v1/auth/logout/"
ME = "/api/v1/users/me/"


def bearer(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


@pytest.mark.django_db
@pytest.mark.parametrize(
    "credentials",
    [
        {"username": "Alice"},
        {"username": "aLiCe"},
        {"username": "ALICE@example.org"},
        {"email": "alice@EXAMPLE.org"},
    ],
    ids=["username", "username-any-case", "email-in-username", "email"],
)
def test_token_by_username_or_email_ignoring_case(api_client, credentials, settings):
    user = UserFactory(username="Alice", email="Alice@example.org")

    response = api_client.post(TOKEN, {**credentials, "password": DEFAULT_PASSWORD})

    assert response.status_code == 200, response.json()
    body = response.json()
    assert set(body) == {"access", "refresh", "token_type", "expires_in"}
    assert body["token_type"] == "Bearer"
    lifetime = settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"]
    assert body["expires_in"] == int(lifetime.total_seconds())
    me = bearer(body["access"]).get(ME)
    assert me.status_code == 200
    assert me.json()["id"] == user.id


@pytest.mark.django_db
@pytest.mark.parametrize(
    "credentials",
    [
        {"username": "alice", "password": "wrong-password"},
        {"username": "nobody", "password": DEFAULT_PASSWORD},
        {"email": "nobody@example.org", "password": DEFAULT_PASSWORD},
    ],
    ids=["wrong-password", "unknown-username", "unknown-email"],
)
def test_token_bad_credentials_401(api_client, credentials):
    UserFactory(username="alice")
    response = api_client.post(TOKEN, credentials)
    assert response.status_code == 401
    assert response.json() == {
        "detail": "No active account found with the given credentials.",
        "code": "bad_credentials",
    }
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.django_db
def test_token_inactive_user_401(api_client):
    UserFactory(username="alice", is_active=False)
    response = api_client.post(TOKEN, {"username": "alice", "password": DEFAULT_PASSWORD})
    assert response.status_code == 401


@pytest.mark.django_db
def test_token_missing_fields_400(api_client):
    response = api_client.post(TOKEN, {"password": "x"})
    assert response.status_code == 400
    assert response.json() == {"username": ["Give a username or an email."]}
    response = api_client.post(TOKEN, {"username": "alice"})
    assert response.status_code == 400
    assert response.json() == {"password": ["This field is required."]}


@pytest.mark.django_db
def test_refresh_rotates_and_blacklists_the_old_token(api_client, user):
    old = str(RefreshToken.for_user(user))

    response = api_client.post(REFRESH, {"refresh": old})

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access", "refresh"}
    assert body["refresh"] != old
    assert bearer(body["access"]).get(ME).status_code == 200
    again = api_client.post(REFRESH, {"refresh": old})
    assert again.status_code == 401
    assert again.json()["code"] == "token_not_valid"
    assert "blacklisted" in again.json()["detail"]
    assert api_client.post(REFRESH, {"refresh": body["refresh"]}).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("token", ["garbage", "a.b.c"])
def test_refresh_invalid_token_401(api_client, token):
    response = api_client.post(REFRESH, {"refresh": token})
    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


@pytest.mark.django_db
def test_refresh_expired_token_401(api_client, user):
    token = RefreshToken.for_user(user)
    token.set_exp(lifetime=-token.lifetime)  # already expired
    response = api_client.post(REFRESH, {"refresh": str(token)})
    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


@pytest.mark.django_db
def test_refresh_access_token_is_not_a_refresh_token(api_client, user):
    access = str(RefreshToken.for_user(user).access_token)
    response = api_client.post(REFRESH, {"refresh": access})
    assert response.status_code == 401


@pytest.mark.django_db
def test_refresh_missing_field_400(api_client):
    response = api_client.post(REFRESH, {})
    assert response.status_code == 400
    assert response.json() == {"refresh": ["This field is required."]}


@pytest.mark.django_db
def test_refresh_of_inactive_user_401(api_client, user):
    refresh = str(RefreshToken.for_user(user))
    user.is_active = False
    user.save(update_fields=["is_active"])
    response = api_client.post(REFRESH, {"refresh": refresh})
    assert response.status_code == 401
    assert response.json()["code"] == "no_active_account"


@pytest.mark.django_db
def test_refresh_of_deleted_user_401_not_500(api_client, user):
    refresh = str(RefreshToken.for_user(user))
    user.delete()  # bypassing the service, which would also blacklist the token
    response = api_client.post(REFRESH, {"refresh": refresh})
    assert response.status_code == 401
    assert response.json()["code"] == "no_active_account"


@pytest.mark.django_db
def test_logout_blacklists_refresh_token_without_authentication(api_client, user):
    refresh = str(RefreshToken.for_user(user))

    response = api_client.post(LOGOUT, {"refresh": refresh})

    assert response.status_code == 204
    assert response.content == b""
    assert api_client.post(REFRESH, {"refresh": refresh}).status_code == 401


@pytest.mark.django_db
def test_logout_ignores_a_stale_access_token(user):
    """The refresh token in the body is the credential; a bad Authorization header is moot."""
    client = bearer("not-a-token")
    response = client.post(LOGOUT, {"refresh": str(RefreshToken.for_user(user))})
    assert response.status_code == 204


@pytest.mark.django_db
def test_logout_invalid_token_401_and_missing_400(api_client):
    response = api_client.post(LOGOUT, {"refresh": "garbage"})
    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"
    response = api_client.post(LOGOUT, {})
    assert response.status_code == 400
    assert response.json() == {"refresh": ["This field is required."]}


@pytest.mark.django_db
def test_requests_without_or_with_bad_token_401(api_client, user):
    response = api_client.get(ME)
    assert response.status_code == 401
    assert response.json() == {
        "detail": "Authentication credentials were not provided.",
        "code": "not_authenticated",
    }
    response = bearer("garbage").get(ME)
    assert response.status_code == 401
    assert response.json() == {"detail": "Token is invalid", "code": "token_not_valid"}
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    refresh_as_access = str(RefreshToken.for_user(user))
    response = bearer(refresh_as_access).get(ME)
    assert response.status_code == 401
    assert response.json() == {"detail": "Token has wrong type", "code": "token_not_valid"}


@pytest.mark.django_db
def test_expired_access_token_401(user):
    access = RefreshToken.for_user(user).access_token
    access.set_exp(lifetime=-access.lifetime)
    response = bearer(str(access)).get(ME)
    assert response.status_code == 401
    assert response.json() == {"detail": "Token is expired", "code": "token_not_valid"}


@pytest.mark.django_db
def test_a_token_verified_before_is_refused_once_it_expires(user, monkeypatch):
    access = RefreshToken.for_user(user).access_token
    client = bearer(str(access))
    assert client.get(ME).status_code == 200  # verified, and remembered by this process
    assert client.get(ME).status_code == 200
    later = access.current_time + access.lifetime + timedelta(seconds=1)
    monkeypatch.setattr("accounts.authentication.aware_utcnow", lambda: later)
    monkeypatch.setattr("rest_framework_simplejwt.tokens.aware_utcnow", lambda: later)
    response = client.get(ME)
    assert response.status_code == 401
    # simplejwt's words: PyJWT's own clock (not moved here) would say "Token is expired".
    assert response.json() == {"detail": "Token 'exp' claim has expired", "code": "token_not_valid"}


@pytest.mark.django_db
def test_a_tampered_copy_of_a_verified_token_is_refused(user):
    access = str(RefreshToken.for_user(user).access_token)
    assert bearer(access).get(ME).status_code == 200
    header, payload, signature = access.split(".")
    other = RefreshToken.for_user(UserFactory()).access_token
    forged = ".".join([header, str(other).split(".")[1], signature])  # claims swapped
    response = bearer(forged).get(ME)
    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    assert bearer(".".join([header, payload, flipped])).get(ME).status_code == 401


@pytest.mark.django_db
def test_deactivated_users_token_401(client_for, user):
    client = client_for(user)
    assert client.get(ME).status_code == 200
    user.is_active = False
    user.save(update_fields=["is_active"])
    response = client.get(ME)
    assert response.status_code == 401
    assert response.json()["code"] == "user_inactive"


@pytest.mark.django_db
def test_deleted_users_token_401(client_for, user):
    client = client_for(user)
    user.delete()
    response = client.get(ME)
    assert response.status_code == 401
    assert response.json()["code"] == "user_not_found"


@pytest.mark.django_db
def test_session_authentication_works_for_the_browsable_api(user):
    client = APIClient()
    client.force_login(user)  # a Django session, as the admin and /api-auth/login/ create
    response = client.get(ME)
    assert response.status_code == 200
    assert response.json()["username"] == user.username


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_refreshes_of_one_token_rotate_it_once():
    from chitchat.testing import raised, run_concurrently

    user = UserFactory()
    refresh = str(RefreshToken.for_user(user))

    responses = run_concurrently(
        [lambda: APIClient().post(REFRESH, {"refresh": refresh}, format="json")] * 4
    )

    assert raised(responses) == []
    statuses = [response.status_code for response in responses]
    assert sorted(statuses) == [200, 401, 401, 401]
