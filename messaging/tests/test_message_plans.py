"""Query plans on PostgreSQL: message pages are served by their indexes on a skewed table.

The skew that matters: a quiet chat whose messages are all older than the newest rows of a
busy chat. `WHERE chat_id = X ORDER BY id DESC` may then be planned as a backward scan of
the primary key that filters out every newer row of other chats; the forms of
messaging.selectors can only be served by the (chat, id) index.
"""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chats.tests.factories import group_chat
from chitchat import bulkload
from messaging.models import Message
from messaging.services import message_like

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

BUSY_ROWS = 30_000


@pytest.fixture
def skewed(alice, bob, send):
    """(quiet chat, busy chat): the quiet chat's 60 messages are older than all busy ones."""
    quiet = group_chat(alice, members=[bob], name="quiet")
    busy = group_chat(bob, members=[alice], name="busy")
    for i in range(60):
        send(quiet, alice, f"quiet {i}")
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO messaging_message (chat_id, author_id, body, created_at, like_count) "
            "SELECT %s, %s, 'filler number ' || g, now(), 0 FROM generate_series(1, %s) g",
            [busy.pk, bob.pk, BUSY_ROWS],
        )
        cursor.execute(
            "INSERT INTO messaging_message (chat_id, author_id, body, created_at, like_count) "
            "VALUES (%s, %s, 'a rare zebra appears', now(), 0)",
            [busy.pk, bob.pk],
        )
        bulkload.recount()  # the busy chat's counters, from its rows
        cursor.execute("ANALYZE messaging_message")
    return quiet, busy


def page_query_plan(client, path, params, *, analyze: bool = False) -> str:
    """EXPLAIN (ANALYZE, if asked) of the message-page query the API ran for this request."""
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path, params)
    assert response.status_code == 200, response.content
    (sql,) = [
        q["sql"]
        for q in ctx.captured_queries
        # A chat's page (selectors.chat_page_source) or another list's query.
        if (
            "FROM messaging_message m" in q["sql"]
            or q["sql"].lstrip().startswith('SELECT "messaging_message"."id"')
        )
        and "LIMIT" in q["sql"]
    ]
    with connection.cursor() as cursor:
        cursor.execute(("EXPLAIN ANALYZE " if analyze else "EXPLAIN ") + sql)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_newest_first_page_uses_chat_id_index(client_for, skewed, alice):
    quiet, _ = skewed
    client = client_for(alice)
    plan = page_query_plan(client, f"/api/v1/chats/{quiet.pk}/messages/", {})
    assert "message_chat_id_idx" in plan, plan
    assert "messaging_message_pkey" not in plan, plan
    # A later page (cursor: id bound) too.
    first = client.get(f"/api/v1/chats/{quiet.pk}/messages/", {"page_size": 20}).json()
    plan = page_query_plan(client, first["next"], {})
    assert "message_chat_id_idx" in plan, plan
    assert "messaging_message_pkey" not in plan, plan


def test_after_page_uses_chat_id_index(client_for, skewed, alice):
    quiet, _ = skewed
    plan = page_query_plan(client_for(alice), f"/api/v1/chats/{quiet.pk}/messages/", {"after": 1})
    assert "message_chat_id_idx" in plan, plan
    assert "messaging_message_pkey" not in plan, plan


def test_mine_uses_author_id_index(client_for, skewed, alice):
    plan = page_query_plan(client_for(alice), "/api/v1/messages/mine/", {})
    assert "message_author_id_idx" in plan, plan
    assert "messaging_message_pkey" not in plan, plan


def test_search_uses_the_gin_index(client_for, skewed, alice):
    _, busy = skewed
    client = client_for(alice)
    plan = page_query_plan(client, f"/api/v1/chats/{busy.pk}/messages/", {"search": "zebra"})
    assert "message_body_search_idx" in plan, plan
    response = client.get(f"/api/v1/chats/{busy.pk}/messages/", {"search": "ZEBRA rare"})
    assert [m["body"] for m in response.json()["results"]] == ["a rare zebra appears"]


@pytest.mark.parametrize("path", ["chat", "mine"])
def test_liked_by_me_probes_the_likes_only_of_rows_with_likes(client_for, skewed, alice, path):
    """Per row, `liked_by_me` would probe the likes index 50 times a page; rows without a
    like (most of them) skip the probe: the likes are read at most once per liked row (or
    once in all, as a hashed sub-plan of the caller's likes)."""
    quiet, _ = skewed
    newest = Message.objects.filter(chat=quiet).order_by("-id")[:50]
    for message in list(newest)[::10]:  # 5 of the page's 50
        message_like(message=message, user=alice)
    url = f"/api/v1/chats/{quiet.pk}/messages/" if path == "chat" else "/api/v1/messages/mine/"
    plan = page_query_plan(client_for(alice), url, {"page_size": 50}, analyze=True)
    loops = [
        int(re.search(r"loops=(\d+)\)", line).group(1))
        for line in plan.splitlines()
        if "messaging_like" in line
    ]
    assert loops and max(loops) <= 5, plan
    page = client_for(alice).get(url, {"page_size": 50}).json()["results"]
    assert [m["liked_by_me"] for m in page] == [i % 10 == 0 for i in range(50)]
