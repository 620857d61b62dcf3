"""The one bulk loader: rows straight into the tables, then every counter recomputed from them.

Used by `seed_chitchat` for its size options and by the benchmark's seed (bench/seed.py).
Rows go in with COPY on PostgreSQL and batched INSERTs elsewhere, ids reserved up front so
the caller knows them without reading back. Nothing here keeps a counter while loading:
recount() then sets Chat.message_count, member_count, last_message, last_activity_at and
Message.like_count from the rows in a few set-based statements, and mark_read() sets read
markers, so a load always passes chitchat.invariants. Loads too big for per-row index upkeep
run inside indexes_dropped(), which rebuilds the indexes and foreign keys once at the end.
"""

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from itertools import islice

from django.db import connection
from django.db.models import Model

from chats.models import Chat, Membership
from live.models import Event, MembershipSpan
from messaging.models import Like, Message

BATCH = 20_000
# Rows from which dropping and rebuilding indexes beats updating them row by row.
BIG_LOAD = 100_000


def _table(model: type[Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _col(model: type[Model], field: str) -> str:
    return connection.ops.quote_name(model._meta.get_field(field).column)


def _batches(rows: Iterable[tuple], size: int = BATCH) -> Iterator[list[tuple]]:
    rows = iter(rows)
    while batch := list(islice(rows, size)):
        yield batch


def reserve_ids(model: type[Model], count: int) -> int:
    """First of `count` consecutive ids of `model` that nobody else takes (hold the
    transaction open until the rows are in: on PostgreSQL the table is locked meanwhile)."""
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"LOCK TABLE {_table(model)} IN EXCLUSIVE MODE")
            cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
            sequence = cursor.fetchone()[0]
            cursor.execute("SELECT nextval(%s)", [sequence])
            first = cursor.fetchone()[0]
            if count > 1:
                cursor.execute("SELECT setval(%s, %s)", [sequence, first + count - 1])
            return first
        # SQLite: AUTOINCREMENT never reuses an id, so start above the highest ever issued.
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {_table(model)}")  # noqa: S608
        top = cursor.fetchone()[0]
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        row = cursor.fetchone()
        return max(top, row[0] if row else 0) + 1


def write_rows(model: type[Model], fields: Sequence[str], rows: Iterable[tuple]) -> int:
    """Insert `rows` (values in the order of `fields`, datetimes aware); return how many."""
    columns = ", ".join(_col(model, field) for field in fields)
    adapters = [
        connection.ops.adapt_datetimefield_value
        if model._meta.get_field(field).get_internal_type() == "DateTimeField"
        else None
        for field in fields
    ]
    if any(adapters):
        rows = (
            tuple(a(v) if a and v is not None else v for a, v in zip(adapters, row, strict=True))
            for row in rows
        )
    written = 0
    with connection.cursor() as cursor:
        for batch in _batches(rows):
            if connection.vendor == "postgresql":
                copy_sql = f"COPY {_table(model)} ({columns}) FROM STDIN"
                with cursor.cursor.copy(copy_sql) as copy:
                    for row in batch:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * len(fields))
                cursor.executemany(
                    f"INSERT INTO {_table(model)} ({columns}) VALUES ({marks})",  # noqa: S608
                    batch,
                )
            written += len(batch)
    return written


def estimated_rows(table: str) -> int:
    """The planner's row estimate of a PostgreSQL table (no count: instant on any size)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [table])
        return cursor.fetchone()[0]


@contextmanager
def indexes_dropped(models: Sequence[type[Model]], *, rows: int):
    """On PostgreSQL, a load of `rows` or more runs without the tables' foreign keys and
    secondary indexes, rebuilt at the end in the same transaction: one index build and one
    validating join cost far less than a million index inserts and FK triggers. Small loads,
    and loads into a table twice their size, keep them (and SQLite always does)."""
    if connection.vendor != "postgresql" or rows < BIG_LOAD:
        yield
        return
    tables = [model._meta.db_table for model in models]
    if rows < estimated_rows(tables[0]) // 2:
        yield
        return
    with connection.cursor() as cursor:
        # Pending deferred FK checks (rows inserted just before) block ALTER TABLE: run them.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        saved = []
        for table in tables:
            cursor.execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = %s::regclass AND contype = 'f'",
                [table],
            )
            foreign_keys = cursor.fetchall()
            # Indexes that back no constraint (the primary key and unique constraints stay).
            cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s "
                "AND indexname NOT IN "
                "(SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass)",
                [table, table],
            )
            indexes = cursor.fetchall()
            for name, _ in foreign_keys:
                cursor.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
            for name, _ in indexes:
                cursor.execute(f'DROP INDEX "{name}"')
            saved.append((table, foreign_keys, indexes))
    yield
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        cursor.execute("SET LOCAL max_parallel_maintenance_workers = 2")
        for table, foreign_keys, indexes in saved:
            for _, definition in indexes:
                cursor.execute(definition)
            for name, definition in foreign_keys:
                cursor.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def recount() -> None:
    """Every denormalised counter from its rows, in six set-based statements.

    UPDATE ... FROM runs on PostgreSQL and on SQLite (3.33+); a chat gets last_activity_at
    from its newest message, as a send sets it.
    """
    chat, message, like = _table(Chat), _table(Message), _table(Like)
    chat_id, like_message = _col(Message, "chat"), _col(Like, "message")
    membership, member_chat = _table(Membership), _col(Membership, "chat")
    member_count = _col(Chat, "member_count")
    statements = [
        f"""UPDATE {chat} SET message_count = s.n, last_message_id = s.newest,
                   last_activity_at = s.newest_at
            FROM (SELECT {chat_id} AS chat_id, COUNT(*) AS n, MAX(id) AS newest,
                         MAX(created_at) AS newest_at
                  FROM {message} GROUP BY {chat_id}) s
            WHERE {chat}.id = s.chat_id
              AND ({chat}.message_count <> s.n OR {chat}.last_message_id IS NULL
                   OR {chat}.last_message_id <> s.newest
                   OR {chat}.last_activity_at < s.newest_at)""",  # noqa: S608
        f"""UPDATE {chat} SET message_count = 0, last_message_id = NULL
            WHERE (message_count <> 0 OR last_message_id IS NOT NULL)
              AND NOT EXISTS (SELECT 1 FROM {message} m WHERE m.{chat_id} = {chat}.id)""",  # noqa: S608
        f"""UPDATE {chat} SET {member_count} = s.n
            FROM (SELECT {member_chat} AS chat_id, COUNT(*) AS n
                  FROM {membership} GROUP BY {member_chat}) s
            WHERE {chat}.id = s.chat_id AND {chat}.{member_count} <> s.n""",  # noqa: S608
        f"""UPDATE {chat} SET {member_count} = 0
            WHERE {member_count} <> 0
              AND NOT EXISTS (SELECT 1 FROM {membership} x WHERE x.{member_chat} = {chat}.id)""",  # noqa: S608
        f"""UPDATE {message} SET like_count = s.n
            FROM (SELECT {like_message} AS message_id, COUNT(*) AS n
                  FROM {like} GROUP BY {like_message}) s
            WHERE {message}.id = s.message_id AND {message}.like_count <> s.n""",  # noqa: S608
        f"""UPDATE {message} SET like_count = 0
            WHERE like_count <> 0
              AND NOT EXISTS (SELECT 1 FROM {like} l WHERE l.{like_message} = {message}.id)""",  # noqa: S608
    ]
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def open_spans() -> int:
    """An open event-log span for every membership without one, as a join opens it (the
    member's sockets and GET /events/ hear the chat from the next event on). One statement."""
    span, event, membership = _table(MembershipSpan), _table(Event), _table(Membership)
    user, chat = _col(Membership, "user"), _col(Membership, "chat")
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {span} (user_id, chat_id, start_id) "  # noqa: S608
            f"SELECT m.{user}, m.{chat}, (SELECT COALESCE(MAX(id), 0) + 1 FROM {event}) "
            f"FROM {membership} m WHERE NOT EXISTS (SELECT 1 FROM {span} s "
            f"WHERE s.user_id = m.{user} AND s.chat_id = m.{chat} AND s.end_id IS NULL)"
        )
        return cursor.rowcount


def mark_read(
    *, unread: int = 0, user_ids: Sequence[int] | None = None, first_chat_id: int = 0
) -> None:
    """Set read markers so each member (or each of `user_ids`) of the chats from
    `first_chat_id` on has `unread` messages left unread: 0 marks the newest read; a chat
    with fewer messages than that has none read."""
    membership, message = _table(Membership), _table(Message)
    chat_id, member_chat = _col(Message, "chat"), _col(Membership, "chat")
    where, params = f"WHERE {member_chat} >= %s", [unread, first_chat_id]
    if user_ids is not None:
        where += f" AND {_col(Membership, 'user')} IN ({', '.join(['%s'] * len(user_ids))})"
        params += list(user_ids)
    # The (chat, id) index serves the subquery; ORDER BY id DESC OFFSET n is the n-th newest.
    with connection.cursor() as cursor:
        cursor.execute(
            f"""UPDATE {membership} SET last_read_message_id = (
                    SELECT m.id FROM {message} m WHERE m.{chat_id} = {membership}.{member_chat}
                    ORDER BY m.id DESC LIMIT 1 OFFSET %s)
                {where}""",  # noqa: S608 - names from the models, values as parameters
            params,
        )


def analyze() -> None:
    """Fresh planner statistics after a big load (PostgreSQL), so the first queries plan well."""
    if connection.vendor != "postgresql":
        return
    tables = ", ".join(_table(model) for model in (Chat, Membership, Message, Like))
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE accounts_user, {tables}")
