"""Malformed requests get a 4xx with {detail, code}, never a 500 (against accounts endpoints)."""

import pytest
from rest_framework.test import APIClient

REGISTER = "/api/v1/auth/register/"
TOKEN = "/api/v1/auth/token/"
ME = "/api/v1/users/me/"


@pytest.fixture
def client() -> APIClient:
    # Errors come back as responses, whatever the view raised.
    return APIClient(raise_request_exception=False)


def assert_error(response, status: int, code: str):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"detail", "code"}
    assert body["code"] == code


@pytest.mark.django_db
@pytest.mark.parametrize(
    "raw",
    [b"{", b'{"username": }', b"not json", b'{"a": 1e400}', b"\xff\xfe", b'{"a": "\\ud800"}'],
    ids=["truncated", "bad-value", "not-json", "infinite-number", "bad-utf8", "lone-surrogate"],
)
def test_malformed_json_400(client, raw):
    response = client.generic("POST", TOKEN, raw, content_type="application/json")
    assert_error(response, 400, "parse_error")


@pytest.mark.django_db
def test_lone_surrogate_in_patch_400(client, client_for, user):
    response = client_for(user).generic(
        "PATCH", ME, b'{"bio": "x\\udc00y"}', content_type="application/json"
    )
    assert_error(response, 400, "parse_error")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [
        b'{"username": "a\\u0000b", "password": "x"}',
        b'{"username\\u0000": "a", "password": "x"}',
        b'{"username": "a", "password": ["\\u0000"]}',
    ],
    ids=["value", "key", "nested"],
)
def test_nul_in_json_400(client, body):
    response = client.generic("POST", TOKEN, body, content_type="application/json")
    assert_error(response, 400, "parse_error")
    assert response.json()["detail"] == "NUL characters are not allowed."


@pytest.mark.django_db
def test_nul_in_bio_is_refused_before_the_database(client_for, user):
    response = client_for(user).patch(ME, {"bio": "a\x00b"}, format="json")
    assert_error(response, 400, "parse_error")
    user.refresh_from_db()
    assert user.bio == ""


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/api/v1/users/?search=a%00b", "/api/v1/users/%00/"], ids=["query", "path"]
)
def test_nul_in_url_400(client_for, user, path):
    response = client_for(user).get(path)
    assert_error(response, 400, "parse_error")


@pytest.mark.django_db
def test_lone_surrogate_in_query_string_is_harmless(client_for, user):
    response = client_for(user).get("/api/v1/users/?search=%ED%A0%80")
    assert response.status_code == 200
    assert response.json()["results"] == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    "content_type,body",
    [
        ("application/x-www-form-urlencoded", "username=a&password=b"),
        ("multipart/form-data; boundary=xx", "--xx--"),
        ("text/plain", "hello"),
        ("application/xml", "<a/>"),
    ],
)
def test_non_json_content_type_415(client, content_type, body):
    response = client.generic("POST", TOKEN, body, content_type=content_type)
    assert_error(response, 415, "unsupported_media_type")


@pytest.mark.django_db
def test_body_too_large_413(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    body = b'{"username": "' + b"a" * 2048 + b'", "password": "x"}'
    response = client.generic("POST", TOKEN, body, content_type="application/json")
    assert_error(response, 413, "request_too_large")


@pytest.mark.django_db
def test_body_at_the_limit_is_parsed(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    body = b'{"username": "alice", "password": "wrong"}'
    body += b" " * (1024 - len(body))
    response = client.generic("POST", TOKEN, body, content_type="application/json")
    assert response.status_code == 401


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    ["/api/v1/users/99999999999999999999/", "/api/v1/users/9223372036854775808/"],
)
def test_id_too_large_for_the_column_404(client_for, user, path):
    response = client_for(user).get(path)
    assert_error(response, 404, "not_found")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "value",
    [99999999999999999999999, 18446744073709551615, -9223372036854775809, 1e308],
    ids=["beyond-u64", "u64-max", "below-i64", "huge-float"],
)
def test_huge_numbers_in_bodies_400(client_for, user, value):
    client = client_for(user)
    for field in ("username", "is_private", "birth_date", "email"):
        response = client.patch(ME, {field: value}, format="json")
        assert response.status_code in (200, 400), response.content
        if response.status_code == 400:
            assert field in response.json()
    # A number as a username is taken as its text; nothing reaches the database as a number.
    response = client.patch(ME, {"is_private": value}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["is_private"]


@pytest.mark.django_db
def test_huge_number_in_password_reset_uid_400(client):
    response = client.post(
        "/api/v1/auth/password/reset/confirm/",
        {"uid": 10**30, "token": "x", "new_password": "whatever-Pass-1"},
        format="json",
    )
    assert response.status_code == 400
    assert list(response.json()) == ["uid"]


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "GET"])
def test_unknown_method_405(client, method):
    response = client.generic(method, REGISTER)
    assert_error(response, 405, "method_not_allowed")


@pytest.mark.django_db
def test_unheard_of_method_405(client_for, user):
    response = client_for(user).generic("BREW", ME)
    assert_error(response, 405, "method_not_allowed")


@pytest.mark.django_db
@pytest.mark.parametrize("body", [b"[]", b'"text"', b"42", b"null", b"true"])
def test_json_that_is_not_an_object_400(client, body):
    response = client.generic("POST", TOKEN, body, content_type="application/json")
    assert response.status_code == 400
    assert "non_field_errors" in response.json()


@pytest.mark.django_db
@pytest.mark.parametrize("value", [{"a": 1}, ["x"], True, None])
def test_wrong_json_types_400(client, value):
    response = client.post(TOKEN, {"username": value, "password": "x"}, format="json")
    assert response.status_code == 400
    assert "username" in response.json()


@pytest.mark.django_db
def test_empty_body_is_a_validation_error(client):
    response = client.generic("POST", TOKEN, b"", content_type="application/json")
    assert response.status_code == 400
    assert "password" in response.json()


@pytest.mark.django_db
def test_bad_page_size_and_cursor_are_harmless(client_for, user):
    client = client_for(user)
    for query in ("page_size=99999999999999999999", "page_size=-5", "page_size=abc"):
        assert client.get(f"/api/v1/users/?{query}").status_code == 200
    response = client.get("/api/v1/users/?cursor=%%%garbage")
    assert_error(response, 404, "not_found")
