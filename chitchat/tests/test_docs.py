"""Docs pages (Swagger UI, Redoc) served offline, and the browsable API with a session login."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from messaging.tests.attachment_files import image_bytes

URL_IN_PAGE = re.compile(r"""\b(?:src|href|spec-url|url)\s*[=:]\s*["']([^"']+)["']""", re.I)
ABSOLUTE_URL = re.compile(r"""(?:https?:)?//[A-Za-z0-9.\-\[\]:]+""")


@pytest.mark.parametrize("name", ["swagger-ui", "redoc"])
def test_docs_page_is_html_that_loads_nothing_from_another_host(name, db):
    response = Client().get(reverse(name))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "<script" in page
    # No absolute URL at all: every script, style, font and image is served by this server.
    assert ABSOLUTE_URL.findall(page) == []
    local = [url for url in URL_IN_PAGE.findall(page) if url.startswith("/")]
    assert "/api/schema/" in page
    assets = [url for url in local if url.startswith("/static/")]
    assert assets, page
    for url in assets:
        asset = Client().get(url)
        assert asset.status_code == 200, url
        body = b"".join(asset.streaming_content) if asset.streaming else asset.content
        assert len(body) > 100, url


def test_swagger_ui_has_no_online_validator(db):
    page = Client().get(reverse("swagger-ui")).content.decode()
    assert '"validatorUrl": null' in page


def test_schema_is_served_as_json_and_yaml(db):
    client = Client()
    as_json = client.get(reverse("schema") + "?format=json")
    assert as_json.status_code == 200
    assert as_json.json()["openapi"].startswith("3.")
    as_yaml = client.get(reverse("schema"))
    assert as_yaml.status_code == 200
    assert as_yaml.content.startswith(b"openapi: 3.")


# ---------------------------------------------------------------------------
# The browsable API: a browser signed in through the session sees HTML on every endpoint.
# ---------------------------------------------------------------------------
@pytest.fixture
def browser(db):
    user = UserFactory()
    client = Client()
    assert client.login(username=user.username, password=DEFAULT_PASSWORD)
    client.user = user
    return client


def test_session_login_page_works(db):
    user = UserFactory()
    client = Client()
    page = client.get("/api-auth/login/")
    assert page.status_code == 200
    response = client.post(
        "/api-auth/login/",
        {"username": user.username, "password": DEFAULT_PASSWORD, "next": "/api/v1/users/me/"},
    )
    assert response.status_code == 302
    me = client.get("/api/v1/users/me/", HTTP_ACCEPT="text/html")
    assert me.status_code == 200
    assert user.username in me.content.decode()


@pytest.mark.parametrize("path", ["/api/v1/users/me/", "/api/v1/users/", "/api/v1/chats/"])
def test_browsable_api_get_returns_html(path, browser):
    response = browser.get(path, HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "<html" in page
    assert browser.user.username in page  # signed in: the page names the user


def test_browsable_api_without_session_is_401_html(db):
    response = Client().get("/api/v1/users/me/", HTTP_ACCEPT="text/html")
    assert response.status_code in (401, 403)
    assert response["Content-Type"].startswith("text/html")


def test_browsable_api_post_form_works_with_csrf(browser):
    client = Client(enforce_csrf_checks=True)
    client.cookies = browser.cookies
    page = client.get("/api/v1/chats/", HTTP_ACCEPT="text/html")
    token = client.cookies["csrftoken"].value
    assert page.status_code == 200
    response = client.post(
        "/api/v1/chats/",
        data='{"name": "from the browser"}',
        content_type="application/json",
        HTTP_ACCEPT="text/html",
        HTTP_X_CSRFTOKEN=token,
    )
    assert response.status_code == 201, response.content.decode()[:2000]
    assert "from the browser" in response.content.decode()


@pytest.fixture
def world(browser, client_for, settings, tmp_path):
    """Through the API: a chat the browser user owns with a liked message, another member,
    and a direct chat. Returns the values for every path parameter of the schema."""
    other = UserFactory()
    api = client_for(browser.user)
    chat = api.post("/api/v1/chats/", {"name": "browsing", "member_ids": [other.pk]}).json()
    message = api.post(f"/api/v1/chats/{chat['id']}/messages/", {"body": "hi"}).json()
    api.post(f"/api/v1/messages/{message['id']}/like/")
    api.post("/api/v1/chats/direct/", {"user_id": other.pk})
    invite = api.get(f"/api/v1/chats/{chat['id']}/invite/").json()
    settings.MEDIA_ROOT = tmp_path
    attachment = api.post(
        f"/api/v1/chats/{chat['id']}/attachments/",
        {"file": SimpleUploadedFile("a.png", image_bytes("PNG"))},
        format="multipart",
    ).json()
    return {
        "chats": chat["id"],
        "messages": message["id"],
        "users": other.pk,
        "members": other.pk,
        "invites": invite["code"],
        "attachments": attachment["id"],
        "reactions": "%F0%9F%91%8D",  # 👍, percent-encoded as in a real path
    }


def fill_path(path: str, values: dict) -> str:
    """/api/v1/chats/{id}/members/{user_id}/ -> ids of the world, chosen by the segment
    before each parameter (and the chat for {chat_id})."""
    parts = path.strip("/").split("/")
    for i, part in enumerate(parts):
        if part.startswith("{"):
            if part == "{chat_id}":
                parts[i] = str(values["chats"])
            else:
                parts[i] = str(values[parts[i - 1]])
    return "/" + "/".join(parts) + "/"


def test_browsable_api_renders_every_endpoint(browser, world):
    """Every path of the schema opened in a browser: HTML, never a server error. Paths with
    a GET answer 200; the others (POST-only) show their form with a 405."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    paths = schema["paths"]
    assert len(paths) > 20
    failures = []
    for path, operations in sorted(paths.items()):
        url = fill_path(path, world)
        response = browser.get(url, HTTP_ACCEPT="text/html")
        if path.startswith("/api/v1/attachments/"):
            # The file itself, whatever the browser accepts: never an HTML page.
            if (response.status_code, response["Content-Type"]) != (200, "image/png"):
                failures.append((url, response.status_code, response["Content-Type"]))
            continue
        expected = 200 if "get" in operations else 405
        if response.status_code != expected or not response["Content-Type"].startswith("text/html"):
            failures.append((url, response.status_code, response.content[:300]))
    assert failures == []
