"""Query plans of the chat lists on PostgreSQL, on the benchmark's shape (a user in 200 of
3,000 chats): the caller's chats come from their memberships, the other lists walk the
chats' primary key down and stop at the page, and no table is read in full."""

import re

import pytest
from django.db import connection

from accounts.models import User
from accounts.tests.factories import UserFactory
from chats.models import Chat, Membership
from chats.selectors import _chats_sql
from chitchat import bulkload

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


@pytest.fixture
def me():
    """A user in 200 of 3,000 chats, each with three other members of a crowd of 1,000, the
    statistics fresh."""
    crowd = User.objects.bulk_create(
        User(username=f"crowd{i}", email=f"crowd{i}@example.com") for i in range(1000)
    )
    me = UserFactory()
    chats = Chat.objects.bulk_create(
        Chat(name=f"c{i}", created_by=crowd[i % 1000]) for i in range(3000)
    )
    Membership.objects.bulk_create(
        [
            Membership(chat=chat, user=crowd[(i + k * 7) % 1000])
            for i, chat in enumerate(chats)
            for k in range(3)
        ]
        + [Membership(chat=chat, user=me) for chat in chats[::15]]
    )
    bulkload.recount()  # member_count from the rows
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE accounts_user; ANALYZE chats_chat; ANALYZE chats_membership")
    return me


def plan(me, *, search: str | None = None, **shape) -> str:
    params = {"user_id": me.pk, "kind": "group", "limit": 51, "chat_id": 1, "id": 10**9}
    params.update(search=f"%{search}%", at=Chat.objects.get(pk=Chat.objects.last().pk).created_at)
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + _chats_sql(search=search is not None, **shape), params)
        return "\n".join(row[0] for row in cursor.fetchall())


# (A literal; with server-side binding, a typed constant such as '7'::smallint.)
def by_user(me) -> str:
    return rf"Index Cond: \(user_id = '?{me.pk}'?(::\w+)?\)"


@pytest.mark.parametrize("bounded", [False, True])
@pytest.mark.parametrize("search", [None, "c1"])
def test_mine_starts_from_the_callers_memberships(me, bounded, search):
    """`mine=true`: the caller's memberships by user id, never the memberships table in full.

    Their chats come by primary key, or (the planner's call at this size)
    from a hash of the whole chats table (3,000 short rows; timed alike with 200 probes);
    either way the statement never grows with the memberships of others."""
    found = plan(me, members_only=True, by_activity=True, bounded=bounded, search=search)

    assert re.search(by_user(me), found), found
    assert "Seq Scan on chats_membership" not in found, found


@pytest.mark.parametrize("bounded", [False, True])
@pytest.mark.parametrize("walk_down", [True, False])
def test_all_chats_walk_the_primary_key(me, bounded, walk_down):
    """The visible chats: down (or up) the chats' primary key, the caller's membership of
    each through the unique (chat, user) index; LIMIT stops the walk at the page."""
    found = plan(me, members_only=False, bounded=bounded, walk_down=walk_down)

    assert re.search(r"Index Scan( Backward)? using chats_chat_pkey", found), found
    assert re.search(r"Index Scan using \w+ on chats_membership x", found), found
    assert "Seq Scan" not in found and "Sort Key: c." not in found, found


def test_direct_chats_start_from_the_callers_memberships(me):
    found = plan(me, members_only=True, kind=True)

    assert re.search(by_user(me), found), found
    assert "Seq Scan on chats_membership" not in found, found


def test_one_chat_by_primary_key(me):
    found = plan(me, members_only=False, one=True)

    assert "chats_chat_pkey" in found, found
    assert "Seq Scan on chats_" not in found, found
