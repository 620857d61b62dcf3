"""Query plans of the chat list on PostgreSQL: the caller's chats come from their memberships."""

import re

import pytest
from django.db import connection

from accounts.tests.factories import UserFactory
from chats.models import Chat, Membership
from chats.selectors import chat_list
from chitchat import bulkload

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def test_mine_starts_from_the_callers_memberships():
    """Among thousands of other chats, `mine=true` reads the caller's few via the index."""
    me, other = UserFactory(), UserFactory()
    chats = Chat.objects.bulk_create(Chat(name=f"c{i}") for i in range(3000))
    Membership.objects.bulk_create(
        [Membership(chat=chat, user=other) for chat in chats]
        + [Membership(chat=chat, user=me) for chat in chats[::1000]]
    )
    bulkload.recount()  # member_count from the rows
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE chats_chat; ANALYZE chats_membership")
    queryset = chat_list(user=me, mine=True).order_by("-last_activity_at", "-id")[:51]

    plan = queryset.explain()

    # The caller's memberships are found by user id, then their chats by primary key; no
    # table is read in full.
    # (A literal; with server-side binding, a typed constant such as '7'::smallint.)
    assert re.search(rf"Index Cond: \(user_id = '?{me.pk}'?(::\w+)?\)", plan), plan
    assert "Seq Scan" not in plan
    assert [row["id"] for row in queryset] == sorted((c.pk for c in chats[::1000]), reverse=True)
