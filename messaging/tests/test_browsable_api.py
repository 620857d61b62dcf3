"""The browsable API renders every message endpoint in a browser (HTML), never a 500."""

import pytest

from chats.tests.factories import direct_chat

pytestmark = pytest.mark.django_db


def test_message_endpoints_render_as_html(client_for, group, alice, bob, send):
    message = send(group, alice, "hello")
    send(direct_chat(alice, bob), bob, "dm")
    client = client_for(alice)
    paths = [
        f"/api/v1/chats/{group.pk}/messages/",
        f"/api/v1/chats/{group.pk}/read/",
        f"/api/v1/users/{bob.pk}/messages/",
        f"/api/v1/messages/{message.pk}/",
        f"/api/v1/messages/{message.pk}/like/",
        f"/api/v1/messages/{message.pk}/likes/",
        "/api/v1/messages/mine/",
        "/api/v1/messages/latest/",
        "/api/v1/messages/inbox/",
    ]
    for path in paths:
        response = client.get(path, HTTP_ACCEPT="text/html")
        assert response.status_code in (200, 405), (path, response.status_code)
        assert response["Content-Type"].startswith("text/html"), path
