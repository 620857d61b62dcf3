"""Fixtures of the event-log tests: people, and helpers that act through the API."""

import pytest

from accounts.tests.factories import UserFactory


@pytest.fixture
def people(db, client_for):
    """alice, bob, carol, each with a signed-in client: people.alice, people.alice_api."""

    class People:
        pass

    found = People()
    for name in ("alice", "bob", "carol"):
        user = UserFactory(username=name)
        setattr(found, name, user)
        setattr(found, f"{name}_api", client_for(user))
    return found


def create_chat(api, name="general", **extra) -> int:
    response = api.post("/api/v1/chats/", {"name": name, **extra}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def say(api, chat_id: int, body: str) -> int:
    response = api.post(f"/api/v1/chats/{chat_id}/messages/", {"body": body}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def join(api, chat_id: int, **extra) -> None:
    response = api.post(f"/api/v1/chats/{chat_id}/join/", extra, format="json")
    assert response.status_code == 200, response.json()


def leave(api, chat_id: int) -> None:
    response = api.post(f"/api/v1/chats/{chat_id}/leave/")
    assert response.status_code in (200, 204), response.content


def events(api, since=None, limit=None) -> dict:
    """GET /events/ (200 asserted): the page."""
    params = {} if since is None else {"since": since}
    if limit is not None:
        params["limit"] = limit
    response = api.get("/api/v1/events/", params)
    assert response.status_code == 200, response.json()
    return response.json()


def all_events(api, since: str, limit: int = 1000) -> tuple[list[dict], str]:
    """Every event after `since`, page by page: (frames, the last pos)."""
    found = []
    while True:
        page = events(api, since, limit)
        found.extend(page["events"])
        since = page["pos"]
        if not page["has_more"]:
            return found, since


def summary(frames) -> list[tuple]:
    """(type, chat_id, what it is about) of each frame, to compare sequences."""
    out = []
    for frame in frames:
        data = frame["data"]
        about = data.get("body") or data.get("user", {}).get("username") or data.get("id")
        if frame["type"] == "chat.read":
            about = data["message_id"]
        out.append((frame["type"], frame["chat_id"], about))
    return out
