"""Real bodies of lists and details, validated against their OpenAPI components.

The bodies are built by the read models (chats.rows, messaging.rows), the components by the
serializers: a field added to one and not the other fails here.
"""

import pytest
from openapi_schema_validator import OAS30Validator

from accounts.tests.factories import UserFactory
from chats.tests.factories import group_chat
from chitchat.tests.test_schema import inline_refs, schema  # noqa: F401  (the fixture)
from messaging.services import message_like, message_send

pytestmark = pytest.mark.django_db


def assert_matches(schema, name: str, body: dict) -> None:  # noqa: F811
    component = inline_refs(schema, schema["components"]["schemas"][name])
    for field, value in body.items():
        declared = component["properties"].get(field, {})
        if value is None:
            # OAS 3.0 `nullable` beside `allOf` (how a nullable nested object is written) is
            # not applied to the subschemas by the validator: check the flag, then skip.
            assert declared.get("nullable"), (name, field)
            component["properties"][field] = {"nullable": True}
    validator = OAS30Validator(component)
    assert [e.message for e in validator.iter_errors(body)] == [], (name, body)
    # Exactly the documented fields: no undocumented one, none missing.
    assert set(body) == set(component["properties"]), name


@pytest.fixture
def world(client_for):
    alice, bob = UserFactory(), UserFactory()
    chat = group_chat(alice, members=[bob], name="general")
    private = group_chat(bob, name="secret", passkey="pw")
    first = message_send(chat=chat, author=alice, body="hello", client_id="c1")[0]
    message_like(message=first, user=bob)
    message_send(chat=chat, author=bob, body="hi alice")
    return {"alice": client_for(alice), "chat": chat, "private": private, "message": first}


def test_chat_bodies(schema, world):  # noqa: F811
    client, chat = world["alice"], world["chat"]
    for params in ({}, {"mine": "true"}, {"search": "gen"}, {"kind": "group"}):
        page = client.get("/api/v1/chats/", params).json()["results"]
        assert page, params
        for body in page:
            assert_matches(schema, "Chat", body)
    detail = client.get(f"/api/v1/chats/{chat.pk}/").json()
    assert detail["last_message"] is not None and detail["unread_count"] == 1
    assert_matches(schema, "Chat", detail)
    assert_matches(schema, "Message", detail["last_message"])
    outside = client.get(f"/api/v1/chats/{world['private'].pk}/").json()
    assert_matches(schema, "Chat", outside)


def test_message_bodies(schema, world):  # noqa: F811
    client, chat, message = world["alice"], world["chat"], world["message"]
    for params in ({}, {"after": 0}, {"search": "hello"}):
        page = client.get(f"/api/v1/chats/{chat.pk}/messages/", params).json()["results"]
        assert page, params
        for body in page:
            assert_matches(schema, "Message", body)
    assert_matches(schema, "Message", client.get(f"/api/v1/messages/{message.pk}/").json())
    sent = client.post(f"/api/v1/chats/{chat.pk}/messages/", {"body": "x"}, format="json")
    assert sent.status_code == 201
    assert_matches(schema, "Message", sent.json())
    for path in ("mine", "inbox"):
        for body in client.get(f"/api/v1/messages/{path}/").json()["results"]:
            assert_matches(schema, "Message", body)
    latest = client.get("/api/v1/messages/latest/").json()["results"]
    assert latest
    for body in latest:
        assert_matches(schema, "LatestMessage", body)


def test_member_bodies(schema, world):  # noqa: F811
    page = world["alice"].get(f"/api/v1/chats/{world['chat'].pk}/members/").json()["results"]
    assert len(page) == 2
    for body in page:
        assert_matches(schema, "Membership", body)
