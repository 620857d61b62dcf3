"""Unknown API paths: a JSON 404 with code not_found, also with DEBUG on."""

import pytest


@pytest.mark.parametrize(
    "path", ["/api/v1/nope/", "/api/v1/chats", "/api/v1/chats/abc/", "/api/v2/chats/"]
)
@pytest.mark.parametrize("debug", [True, False])
def test_unknown_api_path_is_json_404(user_client, settings, path, debug):
    settings.DEBUG = debug
    response = user_client.get(path)
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found"}


@pytest.mark.django_db
def test_post_without_trailing_slash_is_404_not_a_redirect(user_client):
    response = user_client.post("/api/v1/chats", {"name": "x"}, format="json")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
