"""Access tokens of deactivated and deleted users stay refused when the cache is lost or down.

The per-request check reads a mark in the shared cache (accounts.authentication); these tests
flush the cache (a Redis flush, eviction or restart, or a restarted embedded server) and point
it at a Redis that is not there, and check that a revoked user never gets back in, that a
missing user is always a 401, and that REST keeps working (throttles open) without Redis.
"""

import pytest
from django.core.cache import cache
from django.test import Client, override_settings
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import User
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from chitchat import shared_state

ME = "/api/v1/users/me/"
# Nothing listens on port 1: every Redis call fails at once (connection refused).
REDIS_AWAY = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
    }
}


def bearer(token) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def assert_401(response, code: str) -> None:
    assert response.status_code == 401
    assert response.json()["code"] == code


@pytest.mark.django_db
def test_deactivated_users_token_stays_refused_after_a_cache_flush(client_for, user):
    client = client_for(user)
    assert client.get(ME).status_code == 200  # the user's "active" mark is now cached
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert_401(client.get(ME), "user_inactive")
    cache.clear()
    assert_401(client.get(ME), "user_inactive")
    assert_401(client.get(ME), "user_inactive")


@pytest.mark.django_db
def test_deleted_users_token_is_401_after_a_cache_flush(client_for, user):
    client = client_for(user)
    assert client.get(ME).status_code == 200
    response = client.delete(ME, {"password": DEFAULT_PASSWORD})
    assert response.status_code == 204
    assert_401(client.get(ME), "user_not_found")
    cache.clear()
    for _ in range(2):
        assert_401(client.get(ME), "user_not_found")
        assert_401(client.get("/api/v1/chats/?mine=true"), "user_not_found")


@pytest.mark.django_db
def test_token_of_a_user_that_never_existed_is_401_not_500(user):
    token = AccessToken.for_user(User(pk=user.pk + 1000, is_active=True))
    for _ in range(2):  # nothing cached, then whatever the first request left behind
        assert_401(bearer(token).get(ME), "user_not_found")


@pytest.mark.django_db
def test_reactivated_user_gets_back_in(client_for, user):
    client = client_for(user)
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert_401(client.get(ME), "user_inactive")
    user.is_active = True
    user.save(update_fields=["is_active"])
    assert client.get(ME).status_code == 200


@pytest.mark.django_db
def test_admin_deactivation_refuses_tokens_also_after_a_flush(client_for, user):
    admin_user = UserFactory(is_staff=True, is_superuser=True)
    client = client_for(user)
    assert client.get(ME).status_code == 200
    browser = Client()
    browser.force_login(admin_user)
    response = browser.post(
        "/admin/accounts/user/",
        {"action": "deactivate_users", "_selected_action": [user.pk]},
    )
    assert response.status_code == 302
    assert_401(client.get(ME), "user_inactive")
    cache.clear()
    assert_401(client.get(ME), "user_inactive")


@pytest.mark.django_db
def test_without_redis_tokens_are_checked_against_the_row(client_for, user):
    other = UserFactory()
    client, other_client = client_for(user), client_for(other)
    assert client.get(ME).status_code == 200
    assert other_client.get(ME).status_code == 200
    with override_settings(CACHES=REDIS_AWAY):
        assert client.get(ME).status_code == 200  # REST keeps working
        user.is_active = False
        user.save(update_fields=["is_active"])  # the lock mark cannot be written
        assert_401(client.get(ME), "user_inactive")
        response = other_client.delete(ME, {"password": DEFAULT_PASSWORD})
        assert response.status_code == 204
        assert_401(other_client.get(ME), "user_not_found")


@pytest.mark.django_db
def test_without_redis_throttles_let_requests_through(user_client, monkeypatch):
    monkeypatch.setattr(
        SimpleRateThrottle, "THROTTLE_RATES", {"anon": "1/min", "user": "1/min", "register": None}
    )
    with override_settings(CACHES=REDIS_AWAY):
        for _ in range(3):
            assert user_client.get(ME).status_code == 200
        for _ in range(3):  # anonymous requests too
            response = APIClient().post("/api/v1/auth/token/refresh/", {"refresh": "x"})
            assert response.status_code == 401
    # With the cache back the limit holds again.
    assert user_client.get(ME).status_code == 200
    assert user_client.get(ME).status_code == 429


@pytest.mark.django_db
def test_token_check_and_throttle_windows_share_one_store_call(user_client, monkeypatch):
    """One authenticated request: the user's mark and every throttle window in one call (one
    Redis pipeline), and no other cache access once the mark is there."""
    monkeypatch.setattr(
        SimpleRateThrottle,
        "THROTTLE_RATES",
        {"anon": None, "user": "1000/min", "register": None, "message": "1000/s"},
    )
    assert user_client.get(ME).status_code == 200  # fills the mark
    calls = []
    real = shared_state.read_and_count

    def spy(key, windows):
        calls.append((key, [window_key for window_key, _ in windows]))
        return real(key, windows)

    monkeypatch.setattr("accounts.authentication.read_and_count", spy)
    monkeypatch.setattr("chitchat.throttling.read_and_count", spy)
    assert user_client.get(ME).status_code == 200
    assert len(calls) == 1
    key, windows = calls[0]
    assert key.startswith("auth:user:")
    assert len(windows) == 1 and windows[0].startswith("throttle_user_")

    # A send counts the `user` and the `message` windows in the same call.
    calls.clear()
    chat = user_client.post("/api/v1/chats/", {"name": "room"}).json()
    calls.clear()
    response = user_client.post(f"/api/v1/chats/{chat['id']}/messages/", {"body": "hi"})
    assert response.status_code == 201
    assert len(calls) == 1
    assert sorted(w.split("_")[1] for w in calls[0][1]) == ["message", "user"]


@pytest.mark.django_db
def test_throttle_counted_with_the_token_check_still_limits(user_client, monkeypatch):
    monkeypatch.setattr(
        SimpleRateThrottle, "THROTTLE_RATES", {"anon": None, "user": "2/min", "register": None}
    )
    assert user_client.get(ME).status_code == 200
    assert user_client.get(ME).status_code == 200
    response = user_client.get(ME)
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    "claim",
    [2**63, 2**64 + 5, 10**30, "9223372036854775808", -1, 0, "abc", "1e3", 1.5, True, None, [1]],
)
def test_signed_token_with_an_impossible_user_id_is_401(user, claim):
    token = AccessToken.for_user(user)
    token["user_id"] = claim
    assert_401(bearer(token).get(ME), "token_not_valid")


@pytest.mark.django_db
def test_signed_token_with_the_user_id_as_a_string_still_works(user):
    token = AccessToken.for_user(user)
    token["user_id"] = str(user.pk)
    assert bearer(token).get(ME).status_code == 200
