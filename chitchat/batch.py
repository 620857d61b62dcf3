"""Writes sent to the database together: one round trip for several statements.

A service that knows its last statements need no answer before the next (messaging's send:
the message, the event-log row, the COMMIT) collects them in a `StatementBatch` and sends
them at once. While the batch is open (`collecting()`), lower layers that write through
`execute()` (live.log) add their statement to it instead of running it.

PostgreSQL: the statements are joined into one query string and sent through a cursor that
binds parameters on the client (psycopg's ClientCursor, its quoting; the connection's own
cursors bind on the server and take one statement each); PostgreSQL runs them in order,
each with its own snapshot, and stops at the first error, so a failed statement leaves the
transaction aborted and the COMMIT unsent. SQLite (in-process, no round trips): one by one,
and the COMMIT is left to Django.
"""

from collections.abc import Callable
from contextlib import contextmanager

import psycopg
from asgiref.local import Local
from django.db import connection

_open = Local()  # the batch collecting in this thread, if any

OnRows = Callable[[list[tuple]], None]


class StatementBatch:
    """Statements (SQL with %s placeholders, parameters, and a callback that receives the
    statement's rows) sent together by `send()`. `commit`: end with COMMIT (only when the
    batch's transaction is Django's outermost atomic block, about to commit anyway)."""

    def __init__(self, *, commit: bool = False) -> None:
        self.statements: list[tuple[str, list, OnRows | None]] = []
        self.commit = commit

    def add(self, sql: str, params: list, on_rows: OnRows | None = None) -> None:
        self.statements.append((sql, params, on_rows))

    @contextmanager
    def collecting(self):
        """Within: execute() adds to this batch."""
        previous = getattr(_open, "batch", None)
        _open.batch = self
        try:
            yield self
        finally:
            _open.batch = previous

    def send(self) -> None:
        """Run the statements (and the COMMIT) now; each callback gets its statement's rows.
        A failing statement raises (Django's wrapped error) and runs nothing after it."""
        statements, self.statements = self.statements, []
        if connection.vendor != "postgresql":
            for sql, params, on_rows in statements:
                _run(sql, params, on_rows)
            return
        query = "; ".join(sql for sql, _, _ in statements)
        if self.commit:
            query += "; COMMIT"
        params = [param for _, statement_params, _ in statements for param in statement_params]
        connection.ensure_connection()
        with connection._prepare_cursor(psycopg.ClientCursor(connection.connection)) as cursor:
            cursor.execute(query, params)
            for index, (_, _, on_rows) in enumerate(statements):
                if index:
                    cursor.cursor.nextset()
                if on_rows is not None:
                    on_rows(cursor.fetchall() if cursor.description else [])


def execute(sql: str, params: list, on_rows: OnRows) -> None:
    """Run a write now, or add it to the batch collecting in this thread."""
    batch = getattr(_open, "batch", None)
    if batch is not None:
        batch.add(sql, params, on_rows)
    else:
        _run(sql, params, on_rows)


def _run(sql: str, params: list, on_rows: OnRows | None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall() if cursor.description else []
    if on_rows is not None:
        on_rows(rows)


def commits_itself() -> bool:
    """Whether a transaction opened now would be Django's outermost atomic block on an
    autocommit connection: the only one whose batch may end with the COMMIT."""
    return connection.get_autocommit() and not connection.in_atomic_block
