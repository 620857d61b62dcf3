"""The browsable API renders every chats endpoint in a browser (session login, HTML)."""

import pytest

from accounts.tests.factories import UserFactory
from chats.tests.factories import group_chat

pytestmark = pytest.mark.django_db


def test_chat_pages_render_as_html(client):
    owner, member = UserFactory(), UserFactory()
    chat = group_chat(owner, members=[member])
    client.force_login(owner)
    base = f"/api/v1/chats/{chat.pk}/"

    for path in ("/api/v1/chats/", base, f"{base}members/", f"{base}passkey/", f"{base}invite/"):
        response = client.get(path, HTTP_ACCEPT="text/html")
        assert response.status_code == 200, path
        assert response["Content-Type"].startswith("text/html")
    response = client.post(f"{base}join/", "{}", "application/json", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
