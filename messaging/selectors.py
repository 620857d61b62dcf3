"""Message reads scoped to the caller, annotated so a page costs a fixed number of queries.

A chat's page (and catch-up, and search) is one raw statement on every database
(`chat_page_source`), the hottest read; the other lists are querysets of message rows.

Index-friendly forms: a chat's messages are filtered with `X <= chat_id <= X` and ordered
by `("-chat_id", "-id")` (or ascending for `?after=`). Only the (chat, id) index can produce
that order, so PostgreSQL cannot pick a backward scan of the primary key that filters out the
newer rows of busier chats (seconds per page on a skewed table; see
tests/test_message_plans.py). `mine` does the same with the (author, id) index.
"""

import functools

from django.db import connection
from django.db.models import (
    Count,
    Exists,
    F,
    Min,
    OuterRef,
    QuerySet,
    Window,
)
from django.db.models.functions import RowNumber

from accounts.models import User
from chats.models import Chat, Membership
from chats.rows import chat_sql_display_name, read_cursor
from chats.selectors import chats_with_role
from messaging.models import Like, Mention, Message, MessageEdit, Pin, Reaction, Report
from messaging.rows import (
    MESSAGE_COLUMNS,
    aware,
    message_rows,
    message_sql_columns,
    message_sql_liked_by_me,
)


def messages_visible_to(user: User) -> QuerySet[Message]:
    """Message instances of chats the caller may know of (group chats, their own direct
    chats), author and chat joined, for the detail endpoints' permission checks and writes.

    Membership is checked by the view's permissions, so that a non-member of a group chat
    gets a 403 and someone else's direct message a 404.
    """
    liked = Like.objects.filter(message=OuterRef("pk"), user=user)
    return (
        Message.objects.select_related("author", "chat")
        .annotate(liked_by_me=Exists(liked))
        .filter(chat__in=chats_with_role(user).values("pk"))
    )


@functools.cache
def _page_sql(*, walk_down: bool, search: bool, above: bool, below: bool) -> str:
    """A page of one chat's message rows for a member, in one statement, on any database.

    Raw SQL rather than the ORM because this is the hottest read: building and compiling the
    equivalent queryset was about 40 % of a page's CPU. Table and column names come from the
    models. Same rows as messaging.rows.message_rows; `(chat_id, id)` order so that only the
    (chat, id) index can serve it (see the module docstring); the membership is an
    uncorrelated EXISTS, evaluated once; `liked_by_me` probes the unique (message, user)
    index only for the rows that have likes (`like_count > 0`; a CASE, so the probe is
    skipped, not merely filtered after).
    """
    message = Message._meta
    member, user = Membership._meta, User._meta
    m = {f.name: f.column for f in message.concrete_fields}
    direction = "DESC" if walk_down else "ASC"
    # Bounds as row comparisons on (chat, id): only the (chat, id) index can serve those,
    # whereas a bare `id < N` lets the planner pick the primary key (then sort and filter).
    pair = f"(m.{m['chat']}, m.{m['id']})"
    bounds = f"AND {pair} > (%(chat_id)s, %(above)s) " if above else ""
    bounds += f"AND {pair} < (%(chat_id)s, %(below)s)" if below else ""
    if not search:
        matching = ""
    elif connection.vendor == "postgresql":
        # The expression of the GIN index of migration 0002 (what SearchVector compiles to).
        matching = (
            f"AND to_tsvector('simple'::regconfig, COALESCE(m.{m['body']}, '')) "
            "@@ plainto_tsquery('simple'::regconfig, %(search)s)"
        )
    else:
        matching = f"AND m.{m['body']} LIKE %(search)s ESCAPE '\\'"
    # Only names from the models are formatted in; every value is a bound parameter.
    return f"""
SELECT {message_sql_columns()}, {message_sql_liked_by_me()}
FROM {message.db_table} m JOIN {user.db_table} u ON u.{user.pk.column} = m.{m["author"]}
WHERE m.{m["chat"]} >= %(chat_id)s AND m.{m["chat"]} <= %(chat_id)s
  {bounds} {matching}
  AND EXISTS (SELECT 1 FROM {member.db_table} x WHERE x.{member.get_field("chat").column} =
              %(chat_id)s AND x.{member.get_field("user").column} = %(user_id)s)
ORDER BY m.{m["chat"]} {direction}, m.{m["id"]} {direction}
LIMIT %(limit)s
"""  # noqa: S608


def chat_page_source(
    *, chat_id: int, user: User, after_id: int | None = None, search: str | None = None
):
    """The page source (for MessageCursorPagination.paginate_source) of the chat's message
    rows if `user` is a member (none otherwise): newest first, or with `after_id` only newer
    ones, oldest first (catch-up), optionally only those matching `search`."""
    if search and connection.vendor != "postgresql":
        search = f"%{connection.ops.prep_for_like_query(search)}%"

    def fetch(*, walk_down: bool, position: int | None, limit: int) -> list[dict]:
        above, below = after_id, None
        if position is not None:
            if walk_down:
                below = position
            else:
                above = max(above or 0, position)
        params = {"chat_id": chat_id, "user_id": user.pk, "above": above, "below": below}
        params.update(limit=limit, search=search)
        sql = _page_sql(
            walk_down=walk_down,
            search=bool(search),
            above=above is not None,
            below=below is not None,
        )
        return _message_rows_of(sql, params)

    return fetch


def _message_rows_of(sql: str, params: dict, *, extra: tuple[str, ...] = ()) -> list[dict]:
    """The message rows (messaging.rows) of a raw statement that selects
    message_sql_columns, then message_sql_liked_by_me, then the `extra` columns."""
    with read_cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    columns = (*MESSAGE_COLUMNS, "liked_by_me", *extra)
    page = [dict(zip(columns, row, strict=True)) for row in rows]
    for row in page:
        row["created_at"], row["edited_at"] = aware(row["created_at"]), aware(row["edited_at"])
    return page


def messages_mine(user: User) -> QuerySet:
    """Every message the user wrote, newest first, also in chats they left."""
    return message_rows(
        Message.objects.filter(author_id__gte=user.pk, author_id__lte=user.pk).order_by(
            "-author_id", "-id"
        ),
        user_id=user.pk,
    )


@functools.cache
def _latest_sql(*, walk_down: bool, bounded: bool) -> str:
    """The newest message of each of `%(user_id)s`'s chats, with `chat_name`, in one
    statement on any database: their memberships (the (user, chat) index), each chat and its
    last message by primary key. Ordered by message id, downwards with `walk_down`, from
    `%(position)s` when `bounded`, `%(limit)s` rows. Names from the models; values bound."""
    quote = connection.ops.quote_name
    message, member, chat, user = Message._meta, Membership._meta, Chat._meta, User._meta
    m = {f.name: f"m.{quote(f.column)}" for f in message.concrete_fields}
    member_chat, member_user = (quote(member.get_field(name).column) for name in ("chat", "user"))
    bound = f"AND {m['id']} {'<' if walk_down else '>'} %(position)s" if bounded else ""
    direction = "DESC" if walk_down else "ASC"
    return f"""
SELECT {message_sql_columns()}, {message_sql_liked_by_me()}, {chat_sql_display_name()}
FROM {quote(member.db_table)} x
JOIN {quote(chat.db_table)} c ON c.{quote(chat.pk.column)} = x.{member_chat}
JOIN {quote(message.db_table)} m ON {m["id"]} = c.{quote(chat.get_field("last_message_id").column)}
JOIN {quote(user.db_table)} u ON u.{quote(user.pk.column)} = {m["author"]}
WHERE x.{member_user} = %(user_id)s {bound}
ORDER BY {m["id"]} {direction}
LIMIT %(limit)s
"""  # noqa: S608


def messages_latest_source(user: User):
    """The page source (for MessageCursorPagination.paginate_source) of the newest message
    of each chat the user is in, newest first, each row with `chat_name` (the name the user
    sees: the other member's username for a direct chat)."""

    def fetch(*, walk_down: bool, position: int | None, limit: int) -> list[dict]:
        sql = _latest_sql(walk_down=walk_down, bounded=position is not None)
        params = {"user_id": user.pk, "position": position, "limit": limit}
        return _message_rows_of(sql, params, extra=("chat_name",))

    return fetch


def messages_inbox(user: User) -> QuerySet:
    """Messages others sent to the user in the user's direct chats, newest first."""
    direct_chats = Membership.objects.filter(user=user, chat__kind=Chat.Kind.DIRECT).values(
        "chat_id"
    )
    return message_rows(
        Message.objects.filter(chat_id__in=direct_chats).exclude(author=user).order_by("-id"),
        user_id=user.pk,
    )


def message_likers(message: Message) -> QuerySet[Like]:
    """The likes of a message with their users joined, newest first."""
    return Like.objects.filter(message=message).select_related("user").order_by("-id")


# ---------------------------------------------------------------------------------------
# 1.1 reactions and replies
# ---------------------------------------------------------------------------------------
REACTION_USERS_SHOWN = 100


def message_reaction_groups_source(message: Message):
    """The page source (MessageCursorPagination.paginate_source) of a message's reactions
    grouped by emoji, in first-use order (the position is each emoji's first reaction id),
    each with its count and first 100 users: two statements per page."""

    def fetch(*, walk_down: bool, position: int | None, limit: int) -> list[dict]:
        groups = (
            Reaction.objects.filter(message_id=message.pk)
            .values("emoji")
            .annotate(count=Count("id"), first=Min("id"))
            .order_by("-first" if walk_down else "first")
        )
        if position is not None:
            groups = (
                groups.filter(first__lt=position)
                if walk_down
                else groups.filter(first__gt=position)
            )
        rows = [
            {"id": group["first"], "emoji": group["emoji"], "count": group["count"]}
            for group in groups[:limit]
        ]
        if not rows:
            return rows
        ranked = (
            Reaction.objects.filter(message_id=message.pk, emoji__in=[r["emoji"] for r in rows])
            .annotate(rank=Window(RowNumber(), partition_by=[F("emoji")], order_by=F("id").asc()))
            .filter(rank__lte=REACTION_USERS_SHOWN)
            .order_by("id")
            .values("emoji", "user_id", "user__username")
        )
        users: dict[str, list[dict]] = {row["emoji"]: [] for row in rows}
        for reaction in ranked:
            users[reaction["emoji"]].append(
                {"id": reaction["user_id"], "username": reaction["user__username"]}
            )
        for row in rows:
            row["users"] = users[row["emoji"]]
        return rows

    return fetch


def message_replies(message: Message, user: User) -> QuerySet:
    """The replies to a message as rows, oldest first (the partial (reply_to, id) index)."""
    return message_rows(
        Message.objects.filter(reply_to_id=message.pk).order_by("reply_to_id", "id"),
        user_id=user.pk,
    )


def chat_pins_source(*, chat_id: int, user: User):
    """The page source of a chat's pinned messages as message rows, most recently pinned
    first (the position is the pin's id): the page of pins, then their messages."""

    def fetch(*, walk_down: bool, position: int | None, limit: int) -> list[dict]:
        pins = Pin.objects.filter(chat_id=chat_id).order_by("-id" if walk_down else "id")
        if position is not None:
            pins = pins.filter(id__lt=position) if walk_down else pins.filter(id__gt=position)
        order = list(pins.values_list("id", "message_id")[:limit])
        if not order:
            return []
        found = {
            row["id"]: row
            for row in message_rows(
                Message.objects.filter(pk__in=[m for _, m in order]), user_id=user.pk
            )
        }
        # The pin's id is the cursor's position (see messaging.pagination).
        return [{**found[m], "position": p} for p, m in order if m in found]

    return fetch


def message_history(message: Message) -> QuerySet:
    """The earlier bodies of a message, newest first (rows keyed on the edit's id)."""
    return (
        MessageEdit.objects.filter(message_id=message.pk)
        .order_by("-message_id", "-id")
        .values("id", "body", "replaced_at")
    )


def messages_mentioning(user: User) -> QuerySet:
    """Messages that mention the user, newest first, in chats the user is still in."""
    return message_rows(
        Message.objects.filter(
            pk__in=Mention.objects.filter(user=user).values("message_id"),
            chat_id__in=Membership.objects.filter(user=user).values("chat_id"),
        ).order_by("-id"),
        user_id=user.pk,
    )


REPORT_COLUMNS = ("id", "message_id", "reason", "note", "status", "created_at")


def chat_open_reports(chat_id: int) -> QuerySet:
    """A chat's open reports as rows, oldest first (the (chat, status, id) index)."""
    return (
        Report.objects.filter(chat_id=chat_id, status=Report.Status.OPEN)
        .order_by("chat_id", "status", "id")
        .values(*REPORT_COLUMNS)
    )
