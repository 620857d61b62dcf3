"""Chat reads scoped to the caller: instances for permission checks and writes, rows (see
chats.rows) for bodies. Every list costs a fixed number of queries.

The chat lists and a chat's detail are one raw statement per shape (_chats_sql), written once
from the models and run as such on every database: the ORM's version (a Case over a
correlated subquery for the name, the caller's membership, the filters, DRF's cursor
pagination over it) cost more CPU to build and compile than the database took to run it.
"""

import functools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from django.db import connection
from django.db.models import CharField as CharFieldType
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery

from accounts.models import User
from chats.models import Chat, Membership
from chats.rows import (
    chat_row_of,
    chat_sql_columns,
    chat_sql_display_name,
    member_rows,
    read_cursor,
)
from chitchat.pagination import PageSource

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def chats_with_role(user) -> QuerySet[Chat]:
    """Group chats and the caller's own direct chats, annotated with `my_role` only.

    Someone else's direct chat is not in it, so it is a 404. For endpoints that need to know
    whether the caller may see a chat and in what role (permissions), not its body.
    """
    mine = Membership.objects.filter(chat=OuterRef("pk"), user=user)
    return Chat.objects.filter(Q(kind=Chat.Kind.GROUP) | Q(Exists(mine))).annotate(
        my_role=Subquery(mine.values("role")[:1], output_field=CharFieldType())
    )


@functools.cache
def _chats_sql(
    *,
    members_only: bool,
    kind: bool = False,
    search: bool = False,
    by_activity: bool = False,
    walk_down: bool = True,
    bounded: bool = False,
    one: bool = False,
) -> str:
    """Chat rows (chats.rows.CHAT_ROW_FIELDS) as `%(user_id)s` sees them, in one statement.

    `members_only`: the caller's chats, read from their memberships (the (user, chat) index,
    then each chat by primary key); otherwise every chat, newest first down the primary key,
    the caller's membership outer-joined through the memberships' chat index, and only
    group chats and the caller's own (direct) chats kept. `kind`: only `%(kind)s` chats.
    `search`: the name the caller sees contains `%(search)s`, as the ORM's `icontains` (the
    database's own operator and cast, the pattern escaped by the caller). `one`: the chat
    `%(chat_id)s` only, no order. Otherwise ordered by (last_activity_at, id) with
    `by_activity`, by id without, downwards with `walk_down`, from the key `%(at)s`,
    `%(id)s` when `bounded`, `%(limit)s` rows. Only names from the models are formatted in;
    every value is a bound parameter.
    """
    quote = connection.ops.quote_name
    c = {f.attname: f"c.{quote(f.column)}" for f in Chat._meta.concrete_fields}
    member = {f.attname: quote(f.column) for f in Membership._meta.concrete_fields}
    member_table, chat_table = quote(Membership._meta.db_table), quote(Chat._meta.db_table)
    user_table, user_pk = quote(User._meta.db_table), quote(User._meta.pk.column)
    name = chat_sql_display_name()
    callers = f"x.{member['user_id']} = %(user_id)s"
    if members_only:
        source = f"{member_table} x JOIN {chat_table} c ON {c['id']} = x.{member['chat_id']}"
        where = [callers]
    else:
        source = (
            f"{chat_table} c LEFT JOIN {member_table} x "
            f"ON x.{member['chat_id']} = {c['id']} AND {callers}"
        )
        where = [f"({c['kind']} = '{Chat.Kind.GROUP.value}' OR x.{member['id']} IS NOT NULL)"]
    if kind:
        where.append(f"{c['kind']} = %(kind)s")
    if search:
        matched = connection.ops.lookup_cast("icontains", "CharField") % name
        where.append(f"{matched} {connection.operators['icontains'] % '%(search)s'}")
    if one:
        where.append(f"{c['id']} = %(chat_id)s")
    key = [c["last_activity_at"], c["id"]] if by_activity else [c["id"]]
    if bounded:
        bound = "(%(at)s, %(id)s)" if by_activity else "%(id)s"
        where.append(f"({', '.join(key)}) {'<' if walk_down else '>'} {bound}")
    direction = "DESC" if walk_down else "ASC"
    order = ", ".join(f"{column} {direction}" for column in key)
    order = "" if one else f"ORDER BY {order} LIMIT %(limit)s"
    return f"""
SELECT {chat_sql_columns(display_name=name)}
FROM {source} LEFT JOIN {user_table} cu ON cu.{user_pk} = {c["created_by_id"]}
WHERE {" AND ".join(where)}
{order}
"""  # noqa: S608


def _chat_rows(sql: str, params: dict) -> list[dict]:
    with read_cursor() as cursor:
        cursor.execute(sql, params)
        return [chat_row_of(values) for values in cursor.fetchall()]


def _microseconds(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(microseconds=1)


def chat_page_source(
    *, user, mine: bool = False, kind: str | None = None, search: str | None = None
) -> PageSource:
    """The list endpoint's page source (chitchat.pagination.KeysetCursorPagination) of chat
    rows, narrowed by the query parameters.

    `mine`: only the caller's chats, latest activity first (keyed on the time in
    microseconds and the id). Otherwise group chats and the caller's direct chats, newest
    first (keyed on the id); only direct ones are the caller's own, read like `mine`.
    """
    members_only = mine or kind == Chat.Kind.DIRECT
    params = {"user_id": user.pk, "kind": kind}
    if search:
        params["search"] = f"%{connection.ops.prep_for_like_query(search)}%"

    def fetch(*, walk_down: bool, position: tuple[int, ...] | None, limit: int) -> list[dict]:
        sql = _chats_sql(
            members_only=members_only,
            kind=bool(kind),
            search=bool(search),
            by_activity=mine,
            walk_down=walk_down,
            bounded=position is not None,
        )
        bounds = {}
        if position is not None:
            bounds["id"] = position[-1]
            if mine:
                moment = EPOCH + timedelta(microseconds=position[0])  # OverflowError: a 404
                bounds["at"] = connection.ops.adapt_datetimefield_value(moment)
        return _chat_rows(sql, {**params, **bounds, "limit": limit})

    key: Callable[[dict], tuple[int, ...]] = (
        (lambda row: (_microseconds(row["last_activity_at"]), row["id"]))
        if mine
        else (lambda row: (row["id"],))
    )
    return PageSource(fetch=fetch, key=key, key_length=2 if mine else 1)


def chat_row(*, user, chat_id: int) -> dict | None:
    """One chat's row as the caller sees it, or None when they may not see it."""
    rows = _chat_rows(
        _chats_sql(members_only=False, one=True), {"user_id": user.pk, "chat_id": chat_id}
    )
    return rows[0] if rows else None


def chat_members(chat: Chat) -> QuerySet:
    """The chat's member rows (chats.rows.member_rows), users joined: one query per page."""
    return member_rows(Membership.objects.filter(chat=chat))
