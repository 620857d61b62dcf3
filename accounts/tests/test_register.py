"""POST /api/v1/auth/register/."""

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tests.factories import UserFactory
from chitchat.testing import raised, run_concurrently

URL = "/api/v1/auth/register/"
PASSWORD = "a-Strong-pass-123"
FULL_KEYS = {
    "id",
    "username",
    "email",
    "first_name",
    "last_name",
    "bio",
    "location",
    "birth_date",
    "is_private",
    "date_joined",
}


def payload(**overrides):
    data = {"username": "alice", "email": "alice@example.com", "password": PASSWORD}
    data.update(overrides)
    return data


@pytest.mark.django_db
def test_register_returns_full_user_and_working_tokens(api_client):
    response = api_client.post(
        URL, payload(password2=PASSWORD, first_name="Alice", last_name="Liddell")
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == {"user", "access", "refresh"}
    assert set(body["user"]) == FULL_KEYS
    assert body["user"]["username"] == "alice"
    assert body["user"]["email"] == "alice@example.com"
    assert body["user"]["first_name"] == "Alice"
    assert body["user"]["is_private"] is False
    assert body["user"]["date_joined"].endswith("Z")
    user = User.objects.get(username="alice")
    assert user.check_password(PASSWORD)

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {body['access']}")
    me = client.get("/api/v1/users/me/")
    assert me.status_code == 200
    assert me.json()["id"] == user.id
    refreshed = api_client.post("/api/v1/auth/token/refresh/", {"refresh": body["refresh"]})
    assert refreshed.status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    "field,value",
    [
        ("username", ""),
        ("username", "a" * 151),
        ("username", "bad name"),
        ("username", "no/slash"),
        ("email", "not-an-email"),
        ("email", ""),
    ],
)
def test_register_rejects_invalid_fields(api_client, field, value):
    response = api_client.post(URL, payload(**{field: value}))

    assert response.status_code == 400
    assert field in response.json()
    assert not User.objects.exists()


@pytest.mark.django_db
def test_register_accepts_username_of_150_allowed_characters(api_client):
    name = ("a.b+c-d_e@" * 15)[:150]
    response = api_client.post(URL, payload(username=name))
    assert response.status_code == 201
    assert response.json()["user"]["username"] == name


@pytest.mark.django_db
@pytest.mark.parametrize("missing", ["username", "email", "password"])
def test_register_requires_fields(api_client, missing):
    data = payload()
    del data[missing]
    response = api_client.post(URL, data)
    assert response.status_code == 400
    assert response.json()[missing] == ["This field is required."]


@pytest.mark.django_db
def test_register_username_unique_ignoring_case(api_client):
    UserFactory(username="Alice", email="someone@example.com")
    response = api_client.post(URL, payload(username="aLICE"))
    assert response.status_code == 400
    assert response.json() == {"username": ["A user with that username already exists."]}


@pytest.mark.django_db
def test_register_email_unique_ignoring_case(api_client):
    UserFactory(email="Alice@Example.com")
    response = api_client.post(URL, payload(email="ALICE@example.COM"))
    assert response.status_code == 400
    assert response.json() == {"email": ["A user with that email already exists."]}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "password",
    ["short1!", "12345678901", "password123", "alice-example"],
    ids=["too-short", "numeric", "common", "similar-to-username"],
)
def test_register_runs_django_password_validators(api_client, password):
    response = api_client.post(URL, payload(username="alice-example", password=password))
    assert response.status_code == 400
    assert list(response.json()) == ["password"]
    assert not User.objects.exists()


@pytest.mark.django_db
def test_register_password2_must_match(api_client):
    response = api_client.post(URL, payload(password2=PASSWORD + "x"))
    assert response.status_code == 400
    assert response.json() == {"password2": ["Passwords do not match."]}


@pytest.mark.django_db
def test_register_rejects_non_object_body(api_client):
    response = api_client.post(URL, ["alice"])
    assert response.status_code == 400
    assert "non_field_errors" in response.json()


@pytest.mark.django_db
def test_register_lost_race_on_email_constraint_is_400(api_client, monkeypatch):
    """The serializer's check passes but the database constraint decides: still a 400."""
    UserFactory(email="alice@example.com")
    monkeypatch.setattr("accounts.serializers._check_unique", lambda field, value, *a, **k: value)
    response = api_client.post(URL, payload(email="ALICE@example.com"))
    assert response.status_code == 400
    assert response.json() == {"email": ["A user with that email already exists."]}


@pytest.mark.django_db
def test_register_lost_race_on_username_constraint_is_400(api_client, monkeypatch):
    UserFactory(username="alice", email="someone@example.com")
    monkeypatch.setattr("accounts.serializers._check_unique", lambda field, value, *a, **k: value)
    response = api_client.post(URL, payload(username="ALICE", email="other@example.com"))
    assert response.status_code == 400
    assert response.json() == {"username": ["A user with that username already exists."]}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_six_simultaneous_registrations_with_one_email():
    responses = run_concurrently(
        [
            lambda i=i: APIClient().post(
                URL, payload(username=f"racer{i}", email="same@example.com"), format="json"
            )
            for i in range(6)
        ]
    )

    assert raised(responses) == []
    statuses = [response.status_code for response in responses]
    bodies = [response.json() for response in responses]
    assert sorted(statuses) == [201, 400, 400, 400, 400, 400]
    for status, body in zip(statuses, bodies, strict=True):
        if status == 400:
            assert body == {"email": ["A user with that email already exists."]}
    assert User.objects.filter(email__iexact="same@example.com").count() == 1
