"""Issue 11 (hardening), accounts side: one login lockout for every way in, look-alike
names, the email change, forwarded addresses, password-reset timing, username/email
ambiguity and private names in search."""

import threading
from collections import Counter
from importlib import import_module

import pytest
from django.apps import apps
from django.core import mail
from django.db import connection
from django.test import Client
from rest_framework.throttling import SimpleRateThrottle
from rest_framework_simplejwt.tokens import AccessToken

from accounts import services
from accounts.models import User
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory

TOKEN = "/api/v1/auth/token/"
REGISTER = "/api/v1/auth/register/"
ME = "/api/v1/users/me/"
RESET = "/api/v1/auth/password/reset/"
API_LOGIN = "/api-auth/login/"
ADMIN_LOGIN = "/admin/login/"
STRONG = "a-Strong-pass-1"


@pytest.fixture(autouse=True)
def _no_rate_limits(monkeypatch, settings):
    monkeypatch.setattr(
        SimpleRateThrottle, "THROTTLE_RATES", {"anon": None, "user": None, "register": None}
    )
    settings.LOGIN_MAX_FAILURES = 3


def token_login(api_client, username, password=DEFAULT_PASSWORD):
    return api_client.post(TOKEN, {"username": username, "password": password})


def session_login(path, username, password=DEFAULT_PASSWORD) -> tuple[Client, int]:
    """A form login as a browser does it; (client, status). Success redirects (302)."""
    client = Client()
    response = client.post(path, {"username": username, "password": password, "next": "/"})
    return client, response.status_code


def assert_locked(response):
    assert response.status_code == 429, response.content
    assert response.json()["code"] == "throttled"
    assert int(response.headers["Retry-After"]) > 0


# 1. Every way to log in shares one lockout -------------------------------------------------


@pytest.mark.django_db
def test_browsable_api_login_is_locked_out_and_counts_for_the_token_endpoint(api_client):
    UserFactory(username="alice")
    for _ in range(3):
        assert session_login(API_LOGIN, "alice", "wrong-password")[1] == 200  # form again
    client, status = session_login(API_LOGIN, "alice")
    assert status == 200  # refused, even with the right password
    assert "_auth_user_id" not in client.session
    assert_locked(token_login(api_client, "alice"))


@pytest.mark.django_db
def test_admin_login_is_locked_out_after_token_failures(api_client):
    UserFactory(username="boss", is_staff=True, is_superuser=True)
    for _ in range(3):
        assert token_login(api_client, "boss", "wrong-password").status_code == 401
    assert_locked(token_login(api_client, "boss"))
    client, status = session_login(ADMIN_LOGIN, "boss")
    assert status == 200
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_admin_login_failures_count_for_the_token_endpoint(api_client):
    UserFactory(username="boss", is_staff=True)
    for _ in range(3):
        assert session_login(ADMIN_LOGIN, "boss", "wrong-password")[1] == 200
    assert_locked(token_login(api_client, "boss"))


@pytest.mark.django_db
def test_session_login_works_and_a_success_clears_the_count(api_client):
    UserFactory(username="alice")
    for _ in range(2):
        session_login(API_LOGIN, "alice", "wrong-password")
    client, status = session_login(API_LOGIN, "alice")
    assert status == 302
    assert "_auth_user_id" in client.session
    for _ in range(2):
        assert token_login(api_client, "alice", "wrong-password").status_code == 401
    assert token_login(api_client, "alice").status_code == 200


# 2. Look-alikes: one normalisation for uniqueness, lookup and lockout ----------------------


@pytest.mark.django_db
def test_lookalike_spellings_share_the_account_lockout(api_client):
    UserFactory(username="sasha", email="sasha@example.com")
    for name in ("\u017fasha", "SASHA", "sasha@example.com"):  # long s, upper case, email
        assert token_login(api_client, name, "wrong-password").status_code == 401
    for name in ("sasha", "\u017fasha", "SASHA@EXAMPLE.COM", "sa\u017fha"):
        assert_locked(token_login(api_client, name))


@pytest.mark.django_db
def test_unknown_names_are_counted_under_their_normalised_form(api_client):
    for name in ("ghost", "GHO\u017fT", "gho\u017ft"):
        assert token_login(api_client, name, "wrong-password").status_code == 401
    assert_locked(token_login(api_client, "Ghost", "wrong-password"))


@pytest.mark.django_db
def test_lookalike_spellings_log_in_to_the_one_account(api_client):
    user = UserFactory(username="lila", email="lila@example.com")
    for name in ("l\u0131la", "LILA", "\uff4c\uff49\uff4c\uff41"):  # dotless i, full width
        response = token_login(api_client, name)
        assert response.status_code == 200, name
        assert AccessToken(response.json()["access"])["user_id"] == str(user.pk)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "taken", "variant"),
    [
        ("username", "lila", "l\u0131la"),
        ("username", "sasha", "\u017fasha"),
        ("username", "kelvin", "\u212aelvin"),  # KELVIN SIGN
        ("email", "lila@example.com", "L\u0131LA@example.com"),
        ("email", "sasha@example.com", "\u017fasha@EXAMPLE.com"),
    ],
)
def test_lookalike_registrations_are_refused_as_taken(api_client, field, taken, variant):
    UserFactory(**{field: taken})
    body = {"username": "fresh", "email": "fresh@example.com", "password": STRONG}
    response = api_client.post(REGISTER, {**body, field: variant})
    assert response.status_code == 400, response.json()
    assert list(response.json()) == [field]
    assert response.json()[field][0].endswith("already exists.")


@pytest.mark.django_db
def test_the_database_refuses_lookalikes_whatever_the_serializer_says(api_client, monkeypatch):
    UserFactory(username="lila", email="lila@example.com")
    monkeypatch.setattr("accounts.serializers._check_unique", lambda field, value, *a, **k: value)
    response = api_client.post(
        REGISTER, {"username": "l\u0131la", "email": "other@example.com", "password": STRONG}
    )
    assert response.status_code == 400
    assert response.json() == {"username": ["A user with that username already exists."]}
    response = api_client.post(
        REGISTER, {"username": "other", "email": "LILA@example.com", "password": STRONG}
    )
    assert response.status_code == 400
    assert response.json() == {"email": ["A user with that email already exists."]}
    assert User.objects.count() == 1


@pytest.mark.django_db
def test_renaming_to_a_lookalike_is_refused(client_for):
    UserFactory(username="lila")
    client = client_for(UserFactory())
    response = client.patch(ME, {"username": "L\u0130LA".lower().replace("i\u0307", "\u0131")})
    assert response.status_code == 400
    assert list(response.json()) == ["username"]


# 3. Registration race with look-alikes (PostgreSQL, real threads) --------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_lookalike_registrations_make_one_account():
    barrier = threading.Barrier(2)
    results = [None, None]

    def register(index, username):
        try:
            barrier.wait(timeout=30)
            response = Client().post(
                REGISTER,
                {"username": username, "email": f"u{index}@example.com", "password": STRONG},
                content_type="application/json",
            )
            results[index] = (response.status_code, response.json())
        except Exception as exc:  # surfaced by the assertions below
            results[index] = exc
        finally:
            connection.close()

    threads = [
        threading.Thread(target=register, args=(i, name))
        for i, name in enumerate(["mira", "m\u0131ra"])
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert Counter(status for status, _ in results) == {201: 1, 400: 1}, results
    refused = next(body for status, body in results if status == 400)
    assert refused == {"username": ["A user with that username already exists."]}
    assert User.objects.count() == 1
    client = Client()
    for name in ("mira", "m\u0131ra", "MIRA"):
        response = client.post(
            TOKEN, {"username": name, "password": STRONG}, content_type="application/json"
        )
        assert response.status_code == 200


# 4. Changing the email needs the password; the old address is told ------------------------


@pytest.mark.django_db
def test_email_change_without_password_is_400(user_client, user):
    response = user_client.patch(ME, {"email": "thief@example.com"})
    assert response.status_code == 400
    assert list(response.json()) == ["password"]
    response = user_client.patch(ME, {"email": "thief@example.com", "password": "wrong-one"})
    assert response.status_code == 400
    assert response.json() == {"password": ["Wrong password."]}
    user.refresh_from_db()
    assert user.email != "thief@example.com"


@pytest.mark.django_db
def test_email_change_with_password_tells_the_old_address(
    user_client, user, django_capture_on_commit_callbacks
):
    old = user.email
    with django_capture_on_commit_callbacks(execute=True):
        response = user_client.patch(ME, {"email": "new@example.com", "password": DEFAULT_PASSWORD})
    assert response.status_code == 200
    assert response.json()["email"] == "new@example.com"
    services.mail_wait()
    assert [message.to for message in mail.outbox] == [[old]]
    assert "new@example.com" in mail.outbox[0].body


@pytest.mark.django_db
def test_other_fields_and_the_unchanged_email_need_no_password(user_client, user):
    response = user_client.patch(ME, {"bio": "hi", "email": user.email})
    assert response.status_code == 200
    assert response.json()["bio"] == "hi"


# 5. X-Forwarded-For is trusted only from configured proxies ---------------------------------


@pytest.mark.django_db
def test_forwarded_for_is_ignored_by_default(api_client, monkeypatch):
    monkeypatch.setattr(
        SimpleRateThrottle, "THROTTLE_RATES", {"anon": "2/min", "user": None, "register": None}
    )
    for i in range(2):
        response = api_client.post(
            TOKEN, {"username": "x", "password": "y"}, HTTP_X_FORWARDED_FOR=f"10.0.0.{i}"
        )
        assert response.status_code == 401
    response = api_client.post(
        TOKEN, {"username": "x", "password": "y"}, HTTP_X_FORWARDED_FOR="10.0.0.99"
    )
    assert response.status_code == 429


@pytest.mark.django_db
def test_forwarded_for_from_a_configured_proxy_names_the_client(api_client, monkeypatch, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    monkeypatch.setattr(
        SimpleRateThrottle, "THROTTLE_RATES", {"anon": None, "user": None, "register": "1/hour"}
    )

    def register(name, forwarded):
        return api_client.post(
            REGISTER,
            {"username": name, "email": f"{name}@example.com", "password": STRONG},
            HTTP_X_FORWARDED_FOR=forwarded,
        )

    assert register("one", "203.0.113.1").status_code == 201
    assert register("two", "203.0.113.2").status_code == 201
    # A client cannot pick its address: the proxy appends the one it saw, which is used.
    assert register("three", "198.51.100.7, 203.0.113.1").status_code == 429


# 9. Password reset: the mail leaves off the request path -----------------------------------


@pytest.mark.django_db
def test_password_reset_answers_before_the_mail_server(api_client, user, monkeypatch):
    release, delivered = threading.Event(), threading.Event()

    def slow_smtp(**kwargs):
        release.wait(timeout=10)
        delivered.set()

    monkeypatch.setattr("accounts.services.send_mail", slow_smtp)
    response = api_client.post(RESET, {"email": user.email})
    assert response.status_code == 204
    assert not delivered.is_set()  # the answer did not wait for the mail server
    release.set()
    services.mail_wait()
    assert delivered.is_set()


# 10. A username is never another account's email -------------------------------------------


@pytest.mark.django_db
def test_username_equal_to_an_email_is_refused(api_client, client_for):
    UserFactory(username="carol", email="carol@example.com")
    response = api_client.post(
        REGISTER, {"username": "CAROL@example.com", "email": "x@example.com", "password": STRONG}
    )
    assert response.status_code == 400
    assert list(response.json()) == ["username"]
    response = client_for(UserFactory()).patch(ME, {"username": "carol@EXAMPLE.com"})
    assert response.status_code == 400
    assert list(response.json()) == ["username"]


@pytest.mark.django_db
def test_an_identifier_that_is_an_email_logs_in_that_account(api_client):
    UserFactory(username="dave@example.com", email="squatter@example.com")  # an old row
    owner = UserFactory(username="dave", email="dave@example.com")
    response = token_login(api_client, "DAVE@example.com")
    assert response.status_code == 200
    assert AccessToken(response.json()["access"])["user_id"] == str(owner.pk)


# 12. Search does not reveal private users' names -------------------------------------------


@pytest.mark.django_db
def test_search_matches_names_of_public_users_only(user_client):
    hidden = UserFactory(first_name="Zebulon", last_name="Quux", is_private=True)
    shown = UserFactory(first_name="Zebulon", last_name="Quux", is_private=False)
    for term in ("zebul", "QUUX"):
        response = user_client.get("/api/v1/users/", {"search": term})
        assert response.status_code == 200
        assert [row["id"] for row in response.json()["results"]] == [shown.pk]
    response = user_client.get("/api/v1/users/", {"search": hidden.username})
    assert [row["id"] for row in response.json()["results"]] == [hidden.pk]


# Beyond the list: password confirmations count in the account's lockout ---------------------


@pytest.mark.django_db
def test_password_guesses_with_a_stolen_token_are_locked_out(api_client, user, user_client):
    attempts = [
        ("post", "/api/v1/auth/password/", {"old_password": "guess-1", "new_password": STRONG}),
        ("patch", ME, {"email": "thief@example.com", "password": "guess-2"}),
        ("delete", ME, {"password": "guess-3"}),
    ]
    for method, path, body in attempts:
        assert getattr(user_client, method)(path, body).status_code == 400
    response = user_client.delete(ME, {"password": DEFAULT_PASSWORD})
    assert_locked(response)
    assert_locked(token_login(api_client, user.username))
    assert User.objects.filter(pk=user.pk).exists()


@pytest.mark.django_db
def test_migration_keys_match_the_model():
    migration = import_module("accounts.migrations.0002_identity_keys")
    first = UserFactory(username="lila", email="Lila@example.com")
    second = UserFactory(username="other", email="other@example.com")
    # Rows from before the keys, one a look-alike of the other (update() skips save()).
    User.objects.filter(pk=first.pk).update(username_key="old1", email_key="old1")
    User.objects.filter(pk=second.pk).update(
        username="l\u0131la", username_key="old2", email="LILA@example.com", email_key="old2"
    )
    migration.fill_keys(apps, None)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.username_key, first.email_key) == ("lila", "lila@example.com")
    # The later look-alike stays unique; the earlier account owns the shared spelling.
    assert second.username_key == f"lila#{second.pk}"
    assert second.email_key == f"lila@example.com#{second.pk}"


@pytest.mark.django_db
def test_password_reset_mails_one_account_at_most_once_per_interval(api_client, user):
    for _ in range(3):
        assert api_client.post(RESET, {"email": user.email}).status_code == 204
    services.mail_wait()
    assert len(mail.outbox) == 1
