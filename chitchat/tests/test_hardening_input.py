"""Issue 11 (hardening), input side: deep JSON, tampered cursors, strict strings, passkey
guessing, invisible messages, Django's own 400s under /api/, the admin's chat filter."""

import base64

import pytest
from django.test import Client
from rest_framework.throttling import SimpleRateThrottle

from accounts.tests.factories import UserFactory
from chats.tests.factories import group_chat
from messaging.models import Message
from messaging.tests.factories import MessageFactory


@pytest.fixture(autouse=True)
def _no_rate_limits(monkeypatch):
    monkeypatch.setattr(
        SimpleRateThrottle,
        "THROTTLE_RATES",
        {"anon": None, "user": None, "register": None, "message": None},
    )


def post_raw(client, path: str, body: str):
    return client.generic("POST", path, body.encode(), content_type="application/json")


# 6. Deep JSON --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_deeply_nested_lists_are_400(api_client):
    body = '{"username": ' + "[" * 320 + "]" * 320 + ', "password": "x"}'
    response = post_raw(api_client, "/api/v1/auth/token/", body)
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


@pytest.mark.django_db
def test_deeply_nested_objects_are_400(api_client):
    body = '{"email": ' + '{"a": ' * 600 + "1" + "}" * 600 + "}"
    response = post_raw(api_client, "/api/v1/auth/password/reset/", body)
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


@pytest.mark.django_db
def test_nul_is_still_found_deep_down_and_moderate_nesting_is_fine(api_client):
    nested = '{"email": ' + "[" * 30 + '"a\\u0000"' + "]" * 30 + "}"
    response = post_raw(api_client, "/api/v1/auth/password/reset/", nested)
    assert response.status_code == 400
    assert response.json()["detail"] == "NUL characters are not allowed."
    key = '{"a\\u0000b": 1, "email": "x@example.com"}'
    assert post_raw(api_client, "/api/v1/auth/password/reset/", key).status_code == 400
    fine = '{"email": ' + "[" * 30 + "]" * 30 + "}"
    response = post_raw(api_client, "/api/v1/auth/password/reset/", fine)
    assert response.status_code == 400
    assert list(response.json()) == ["email"]  # reached the serializer


# 7. Tampered cursors -------------------------------------------------------------------------


def cursor(position: str) -> str:
    return base64.b64encode(f"p={position}".encode()).decode()


BAD_POSITIONS = ["abc", "2026-99-99", "1e400", "99999999999999999999999", "nan", "-"]


@pytest.mark.django_db
@pytest.mark.parametrize("position", BAD_POSITIONS)
def test_tampered_cursors_are_404(client_for, position):
    owner = UserFactory()
    chat = group_chat(owner)
    MessageFactory(chat=chat, author=owner, body="hi")
    client = client_for(owner)
    for path in (
        "/api/v1/users/",
        "/api/v1/chats/",
        "/api/v1/chats/?mine=true",
        f"/api/v1/chats/{chat.pk}/members/",
        f"/api/v1/chats/{chat.pk}/messages/",
    ):
        separator = "&" if "?" in path else "?"
        response = client.get(f"{path}{separator}cursor={cursor(position)}")
        assert response.status_code in (400, 404), (path, response.status_code)
        assert response.json()["code"] in ("not_found", "invalid")


@pytest.mark.django_db
def test_real_cursors_still_page(client_for):
    owner = UserFactory()
    for _ in range(3):
        group_chat(owner)
    client = client_for(owner)
    for path in ("/api/v1/chats/?page_size=2", "/api/v1/chats/?mine=true&page_size=2"):
        first = client.get(path).json()
        second = client.get(first["next"])
        assert second.status_code == 200
        assert len(first["results"]) + len(second.json()["results"]) == 3


# 8. Strings only where strings are expected (contract 1.1) -------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("value", [42, 4.5, True, ["x"], {"x": 1}])
def test_a_non_string_body_is_400(client_for, value):
    owner = UserFactory()
    chat = group_chat(owner)
    response = client_for(owner).post(f"/api/v1/chats/{chat.pk}/messages/", {"body": value})
    assert response.status_code == 400
    assert list(response.json()) == ["body"]
    assert not Message.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "method", "body", "field"),
    [
        ("/api/v1/users/me/", "patch", {"first_name": 42}, "first_name"),
        ("/api/v1/users/me/", "patch", {"bio": 42}, "bio"),
        ("/api/v1/chats/", "post", {"name": 42}, "name"),
        ("/api/v1/chats/", "post", {"name": "room", "passkey": 1234}, "passkey"),
        ("/api/v1/auth/password/", "post", {"old_password": 1, "new_password": "x"}, None),
    ],
)
def test_numbers_are_not_strings_anywhere(client_for, path, method, body, field):
    response = getattr(client_for(UserFactory()), method)(path, body)
    assert response.status_code == 400
    if field:
        assert response.json()[field] == ["Not a valid string."]


@pytest.mark.django_db
def test_register_refuses_a_numeric_username(api_client):
    response = api_client.post(
        "/api/v1/auth/register/",
        {"username": 12345, "email": "n@example.com", "password": "a-Strong-pass-1"},
    )
    assert response.status_code == 400
    assert response.json()["username"] == ["Not a valid string."]


# 11. Passkeys cannot be guessed without limit ------------------------------------------------


@pytest.mark.django_db
def test_wrong_passkeys_are_throttled_per_user_and_chat(client_for, settings):
    settings.PASSKEY_MAX_FAILURES = 3
    chat = group_chat(UserFactory(), passkey="open sesame")
    other = group_chat(UserFactory(), passkey="other key")
    guesser = client_for(UserFactory())
    for guess in ("a", "b", "c"):
        response = guesser.post(f"/api/v1/chats/{chat.pk}/join/", {"passkey": guess})
        assert response.status_code == 403
    response = guesser.post(f"/api/v1/chats/{chat.pk}/join/", {"passkey": "open sesame"})
    assert response.status_code == 429
    assert response.json()["code"] == "throttled"
    assert int(response.headers["Retry-After"]) > 0
    # Another chat, and another user on this chat, are not affected.
    response = guesser.post(f"/api/v1/chats/{other.pk}/join/", {"passkey": "other key"})
    assert response.status_code == 200
    response = client_for(UserFactory()).post(
        f"/api/v1/chats/{chat.pk}/join/", {"passkey": "open sesame"}
    )
    assert response.status_code == 200


@pytest.mark.django_db
def test_a_right_passkey_clears_the_count(client_for, settings):
    settings.PASSKEY_MAX_FAILURES = 2
    chat = group_chat(UserFactory(), passkey="open sesame")
    client = client_for(UserFactory())
    assert client.post(f"/api/v1/chats/{chat.pk}/join/", {"passkey": "x"}).status_code == 403
    response = client.post(f"/api/v1/chats/{chat.pk}/join/", {"passkey": "open sesame"})
    assert response.status_code == 200
    assert client.post(f"/api/v1/chats/{chat.pk}/leave/").status_code == 204
    assert client.post(f"/api/v1/chats/{chat.pk}/join/", {"passkey": "x"}).status_code == 403
    response = client.post(f"/api/v1/chats/{chat.pk}/join/", {"passkey": "open sesame"})
    assert response.status_code == 200


# 13. Invisible messages are blank ------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body", ["\u200b", "\u200b\u200c\u200d\ufeff", " \u2060 \u3164 ", "\u202e"]
)
def test_invisible_bodies_are_blank(client_for, body):
    owner = UserFactory()
    chat = group_chat(owner)
    client = client_for(owner)
    response = client.post(f"/api/v1/chats/{chat.pk}/messages/", {"body": body})
    assert response.status_code == 400
    assert list(response.json()) == ["body"]
    message = MessageFactory(chat=chat, author=owner, body="visible")
    response = client.patch(f"/api/v1/messages/{message.pk}/", {"body": body})
    assert response.status_code == 400
    assert client.post(f"/api/v1/chats/{chat.pk}/messages/", {"body": "a\u200b"}).status_code == 201


# 14. Django's own 400s are JSON under /api/ --------------------------------------------------


@pytest.mark.django_db
def test_too_many_query_parameters_is_a_json_400(user_client):
    query = "&".join(f"p{i}=1" for i in range(1100))
    response = user_client.get(f"/api/v1/users/?{query}")
    assert response.status_code == 400
    assert response.json() == {"detail": "Bad request.", "code": "bad_request"}


@pytest.mark.django_db
@pytest.mark.parametrize("debug", [False, True])
def test_a_bad_host_is_a_json_400(settings, debug):
    settings.DEBUG = debug
    response = Client().get("/api/v1/users/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert response.json() == {"detail": "Bad request.", "code": "bad_request"}
    # Outside /api/ Django's own page stays.
    assert Client().get("/admin/", HTTP_HOST="evil.example").status_code == 400


# 15. The admin's chat filter -----------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["\u00b2", "\u0661", "99999999999999999999999"])
def test_admin_message_filter_with_odd_digits(value):
    admin = UserFactory(is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin)
    response = client.get("/admin/messaging/message/", {"chat": value})
    assert response.status_code == 200


@pytest.mark.django_db
def test_admin_refuses_a_lookalike_username_and_email():
    UserFactory(username="lila", email="lila@example.com")
    admin = UserFactory(is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin)
    response = client.post(
        "/admin/accounts/user/add/",
        {
            "username": "l\u0131la",
            "email": "LILA@example.com",
            "usable_password": "true",
            "password1": "a-long-pass-phrase-1",
            "password2": "a-long-pass-phrase-1",
        },
    )
    assert response.status_code == 200  # the form again, with errors
    assert response.context["adminform"].form.errors.keys() == {"username", "email"}
