"""Rate limits: anon, user and register scopes, and the per-username login lockout."""

import pytest
from rest_framework.throttling import SimpleRateThrottle

from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory

TOKEN = "/api/v1/auth/token/"
REGISTER = "/api/v1/auth/register/"


@pytest.fixture
def rates(monkeypatch):
    """Set THROTTLE_RATES for one test (DRF reads them into a class attribute at import)."""

    def set_rates(**scopes):
        monkeypatch.setattr(
            SimpleRateThrottle,
            "THROTTLE_RATES",
            {"anon": None, "user": None, "register": None, **scopes},
        )

    return set_rates


def assert_throttled(response):
    assert response.status_code == 429
    assert response.json()["code"] == "throttled"
    assert int(response.headers["Retry-After"]) > 0


@pytest.mark.django_db
def test_anon_scope(api_client, rates):
    rates(anon="2/min")
    for _ in range(2):
        assert api_client.post(TOKEN, {"username": "x", "password": "y"}).status_code == 401
    assert_throttled(api_client.post(TOKEN, {"username": "x", "password": "y"}))


@pytest.mark.django_db
def test_user_scope_per_user(client_for, rates):
    rates(user="2/min")
    alice, bob = UserFactory(), UserFactory()
    client = client_for(alice)
    assert client.get("/api/v1/users/me/").status_code == 200
    assert client.get("/api/v1/users/").status_code == 200
    assert_throttled(client.get("/api/v1/users/me/"))
    assert client_for(bob).get("/api/v1/users/me/").status_code == 200


@pytest.mark.django_db
def test_register_scope(api_client, rates):
    rates(register="2/hour")
    for i in range(2):
        response = api_client.post(
            REGISTER,
            {"username": f"u{i}", "email": f"u{i}@example.com", "password": "a-Strong-pass-1"},
        )
        assert response.status_code == 201
    response = api_client.post(
        REGISTER, {"username": "u9", "email": "u9@example.com", "password": "a-Strong-pass-1"}
    )
    assert_throttled(response)


@pytest.mark.django_db
def test_login_lockout_refuses_even_the_right_password(api_client, settings, rates):
    rates()
    settings.LOGIN_MAX_FAILURES = 3
    UserFactory(username="alice", email="alice@example.com")
    for _ in range(3):
        response = api_client.post(TOKEN, {"username": "alice", "password": "wrong"})
        assert response.status_code == 401

    response = api_client.post(TOKEN, {"username": "ALICE", "password": DEFAULT_PASSWORD})

    assert_throttled(response)
    assert int(response.headers["Retry-After"]) <= settings.LOGIN_FAILURE_WINDOW
    assert response.json()["detail"].startswith("Too many failed login attempts")
    # The lockout is per identifier: another account is unaffected.
    other = UserFactory(username="bob")
    ok = api_client.post(TOKEN, {"username": other.username, "password": DEFAULT_PASSWORD})
    assert ok.status_code == 200


@pytest.mark.django_db
def test_login_lockout_counts_unknown_usernames_too(api_client, settings, rates):
    rates()
    settings.LOGIN_MAX_FAILURES = 2
    for _ in range(2):
        api_client.post(TOKEN, {"email": "Ghost@example.com", "password": "wrong"})
    assert_throttled(api_client.post(TOKEN, {"email": "ghost@EXAMPLE.com", "password": "x"}))


@pytest.mark.django_db
def test_login_success_resets_the_failure_count(api_client, settings, rates):
    rates()
    settings.LOGIN_MAX_FAILURES = 2
    UserFactory(username="alice")
    api_client.post(TOKEN, {"username": "alice", "password": "wrong"})
    assert (
        api_client.post(TOKEN, {"username": "alice", "password": DEFAULT_PASSWORD}).status_code
        == 200
    )
    api_client.post(TOKEN, {"username": "alice", "password": "wrong"})
    assert (
        api_client.post(TOKEN, {"username": "alice", "password": DEFAULT_PASSWORD}).status_code
        == 200
    )


@pytest.mark.django_db
def test_login_lockout_retry_after_counts_down_the_window(api_client, settings, rates, monkeypatch):
    rates()
    settings.LOGIN_MAX_FAILURES = 1
    UserFactory(username="alice")
    clock = [1_000_000.0]
    monkeypatch.setattr("accounts.throttling.time.time", lambda: clock[0])
    api_client.post(TOKEN, {"username": "alice", "password": "wrong"})
    response = api_client.post(TOKEN, {"username": "alice", "password": DEFAULT_PASSWORD})
    assert_throttled(response)
    assert response.headers["Retry-After"] == str(settings.LOGIN_FAILURE_WINDOW)
    clock[0] += 600
    response = api_client.post(TOKEN, {"username": "alice", "password": DEFAULT_PASSWORD})
    assert response.headers["Retry-After"] == str(settings.LOGIN_FAILURE_WINDOW - 600)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_login_lockout_holds_against_a_parallel_burst(settings, monkeypatch):
    from rest_framework.test import APIClient

    from chitchat.testing import raised, run_concurrently

    monkeypatch.setattr(
        SimpleRateThrottle, "THROTTLE_RATES", {"anon": None, "user": None, "register": None}
    )
    settings.LOGIN_MAX_FAILURES = 3
    UserFactory(username="alice")

    responses = run_concurrently(
        [lambda: APIClient().post(TOKEN, {"username": "alice", "password": "guess"}, format="json")]
        * 8
    )

    assert raised(responses) == []
    statuses = [response.status_code for response in responses]
    assert sorted(statuses) == [401] * 3 + [429] * 5
