"""1.1 rich message bodies (replies, deleted parents, reactions, mentions, pins, reports,
history) validated against their OpenAPI components, as test_bodies_match_schema does."""

import pytest

from accounts.tests.factories import UserFactory
from chats.tests.factories import group_chat
from chitchat.tests.test_bodies_match_schema import assert_matches
from chitchat.tests.test_schema import inline_refs, schema  # noqa: F401  (the fixture)
from messaging.services import (
    message_delete,
    message_edit,
    message_pin,
    message_react,
    message_report,
    message_send,
)

pytestmark = pytest.mark.django_db


def assert_nested_matches(schema, name: str, body: dict) -> None:  # noqa: F811
    assert_matches(schema, name, body)
    # Nested nullable objects: check each present one against its own inline schema.
    component = inline_refs(schema, schema["components"]["schemas"][name])
    if body.get("reply_to") is not None:
        from openapi_schema_validator import OAS30Validator

        validator = OAS30Validator(component["properties"]["reply_to"])
        assert [e.message for e in validator.iter_errors(body["reply_to"])] == []


def test_rich_message_bodies(schema, client_for):  # noqa: F811
    alice, bob = UserFactory(username="ada"), UserFactory()
    chat = group_chat(alice, members=[bob], name="rich")
    parent = message_send(chat=chat, author=alice, body="parent")[0]
    gone = message_send(chat=chat, author=alice, body="to delete")[0]
    reply = message_send(chat=chat, author=bob, body="@ada yes", reply_to=parent.pk)[0]
    orphan = message_send(chat=chat, author=bob, body="orphan", reply_to=gone.pk)[0]
    message_delete(message=gone)
    message_react(message=reply, user=alice, emoji="👍🏽")
    message_pin(message=reply, user=alice)
    message_edit(message=parent, body="parent, edited")
    client = client_for(alice)
    page = client.get(f"/api/v1/chats/{chat.pk}/messages/").json()["results"]
    bodies = {body["id"]: body for body in page}
    assert bodies[orphan.pk]["reply_to"]["deleted"] is True
    assert bodies[reply.pk]["reactions"] and bodies[reply.pk]["mentions"]
    for body in page:
        assert_nested_matches(schema, "Message", body)
    for path in (
        f"/api/v1/messages/{parent.pk}/replies/",
        f"/api/v1/chats/{chat.pk}/pins/",
        "/api/v1/messages/mentions/",
    ):
        results = client.get(path).json()["results"]
        assert results, path
        for body in results:
            assert_nested_matches(schema, "Message", body)
    for body in client.get(f"/api/v1/messages/{reply.pk}/reactions/").json()["results"]:
        assert_matches(schema, "ReactionGroup", body)
    for body in client.get(f"/api/v1/messages/{parent.pk}/history/").json()["results"]:
        assert_matches(schema, "MessageVersion", body)
    report = client_for(bob).post(
        f"/api/v1/messages/{parent.pk}/report/", {"reason": "other"}, format="json"
    )
    assert report.status_code == 201
    assert_matches(schema, "Report", report.json())
    message_report(message=reply, user=alice, reason="spam")
    reports = client.get(f"/api/v1/chats/{chat.pk}/reports/").json()["results"]
    assert len(reports) == 2
    for body in reports:
        assert_matches(schema, "ChatReport", body)
    chat_body = client.get(f"/api/v1/chats/{chat.pk}/").json()
    assert chat_body["mention_count"] == 1
    assert_matches(schema, "Chat", chat_body)
