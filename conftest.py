"""Shared fixtures: API clients signed in the way a real client is (a Bearer access token),
and the invariant check that runs after every test that used the database."""

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.authentication import user_access_remember
from accounts.tests.factories import UserFactory
from chitchat.invariants import assert_invariants
from live.testing import SentEvents, capture_send_event_calls

# Fixtures through which a test gets the database (besides the django_db marker).
_DB_FIXTURES = ("db", "transactional_db", "django_db_reset_sequences", "live_server")


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "no_invariants(reason): skip the invariant check after this test (it corrupts data "
        "on purpose, e.g. to prove that the checker or a repair notices)",
    )


@pytest.fixture(autouse=True)
def _fast_test_settings(settings):
    """MD5 hashing, an in-memory channel layer, and fresh throttle/lockout counters per test."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _invariants_hold(request):
    """After a test that used the database, every counter agrees with its rows.

    The database helper is requested first, so this check runs before its rollback or flush.
    """
    uses_db = request.node.get_closest_marker("django_db") is not None or any(
        name in request.fixturenames for name in _DB_FIXTURES
    )
    if not uses_db or request.node.get_closest_marker("no_invariants") is not None:
        yield
        return
    request.getfixturevalue("_django_db_helper")
    yield
    assert_invariants()


@pytest.fixture
def sent_events() -> SentEvents:
    """Every live event sent while the test runs, as (group, message) pairs (not sent).
    Combine with django_capture_on_commit_callbacks(execute=True): events go on commit."""
    with capture_send_event_calls() as calls:
        yield calls


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def client_for(db):
    """client_for(user) -> an APIClient that sends that user's access token.

    The user's "active" mark is in the cache, as after the token's first request, so query
    counts measure the steady state (a cold mark costs one read of the user row).
    """

    def make(user) -> APIClient:
        user_access_remember(user_id=user.pk)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
        return client

    return make


@pytest.fixture
def user_client(user, client_for) -> APIClient:
    return client_for(user)


def pytest_collection_modifyitems(config, items):
    """Tests marked `postgres` need PostgreSQL; on SQLite they are skipped, saying why."""
    from django.db import connection

    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL); .ci/run does")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)
