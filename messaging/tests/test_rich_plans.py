"""1.1 list plans on PostgreSQL: replies and mentions pages are served by their indexes on a
skewed table (many rows of other messages and other users, all newer)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chats.tests.factories import group_chat

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

ROWS = 30_000


def page_query_plan(client, path) -> str:
    """EXPLAIN of the page query (LIMIT page size + 1) the API ran for this request."""
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path, {"page_size": 30})
    assert response.status_code == 200, response.content
    (sql,) = [q["sql"] for q in ctx.captured_queries if q["sql"].rstrip().endswith("LIMIT 31")]
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.fixture
def skewed(alice, bob, send):
    """A quiet chat with a parent message, two replies and two mentions of alice, all older
    than a busy chat's rows: replies to another message and mentions of bob."""
    quiet = group_chat(alice, members=[bob], name="quiet")
    busy = group_chat(bob, members=[alice], name="busy")
    parent = send(quiet, bob, "parent")
    for i in range(2):
        send(quiet, bob, f"reply {i} to @alice", reply_to=parent.pk)
    other = send(busy, bob, "other parent")
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO messaging_message (chat_id, author_id, body, created_at, like_count, "
            "reply_to_id, mention_count) "
            "SELECT %s, %s, 'filler ' || g, now(), 0, %s, 1 FROM generate_series(1, %s) g",
            [busy.pk, bob.pk, other.pk, ROWS],
        )
        cursor.execute(
            "INSERT INTO messaging_mention (message_id, user_id, position) "
            "SELECT id, %s, 0 FROM messaging_message WHERE chat_id = %s AND id > %s",
            [bob.pk, busy.pk, other.pk],
        )
        # The counters the services would have kept (the invariant checker runs after).
        cursor.execute(
            "UPDATE messaging_message SET reply_count = reply_count + %s WHERE id = %s",
            [ROWS, other.pk],
        )
        cursor.execute(
            "UPDATE chats_chat SET message_count = message_count + %s, "
            "last_message_id = (SELECT MAX(id) FROM messaging_message WHERE chat_id = %s), "
            "last_activity_at = (SELECT MAX(created_at) FROM messaging_message WHERE chat_id = %s) "
            "WHERE id = %s",
            [ROWS, busy.pk, busy.pk, busy.pk],
        )
        cursor.execute("ANALYZE messaging_message")
        cursor.execute("ANALYZE messaging_mention")
    return parent


def test_replies_use_the_reply_to_index(client_for, skewed, alice):
    plan = page_query_plan(client_for(alice), f"/api/v1/messages/{skewed.pk}/replies/")
    assert "message_reply_to_id_idx" in plan, plan
    assert "messaging_message_pkey" not in plan, plan


def test_mentions_use_the_user_message_index(client_for, skewed, alice):
    client = client_for(alice)
    response = client.get("/api/v1/messages/mentions/")
    assert [m["body"] for m in response.json()["results"]] == [
        "reply 1 to @alice",
        "reply 0 to @alice",
    ]
    plan = page_query_plan(client, "/api/v1/messages/mentions/")
    assert "mention_user_message_idx" in plan, plan
    assert "Seq Scan on messaging_message" not in plan, plan
