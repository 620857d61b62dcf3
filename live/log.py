"""The durable event log: frames stored in the transaction that caused them, read back by
position (`GET /api/v1/events/?since=`, a socket's `?since=`, and each process's live hub,
live/hub.py, which delivers them to the sockets in this order).

Design: a position that is gap-free across concurrent transactions.

Each row has an `id` (a bigserial, drawn at INSERT, so ids COMMIT OUT OF ORDER: a transaction
that drew id 9 may commit after one that drew id 10) and a key `tx`. A position is (tx, id),
compared as a pair; `pos` is that pair as an opaque string. Readers only return rows whose
`tx` is below the *watermark* W of their statement's snapshot: on PostgreSQL the oldest
transaction id still running (`pg_snapshot_xmin(pg_current_snapshot())`, narrowed to the
transactions of this database: see PG_WATERMARK).

- `tx` >= the writing transaction's own id (`pg_current_xact_id()`), always. So a row with
  tx < W belongs to a transaction that has finished: if it committed, the reader sees it.
  And every row still to come (a running transaction's, or a future one's) has tx >= W,
  so it sorts after everything returned so far. A reader therefore never skips a row: the
  rows it returned are a closed prefix of the order, and nothing will later be inserted
  into it. This is the failure case of a plain bigserial (see
  live/tests/test_event_log_postgres.py): transaction A draws id 9, B draws id 10, B
  commits, a reader returns 10 and moves its cursor past 9; A commits 9, never delivered.
- A chat's events must also come in that chat's commit order. Its writers hold the chat
  row lock (the services take it), so they commit one after another, but transaction ids
  are drawn at a transaction's first write, which may be before it waited for the lock: a
  later committer may have a smaller transaction id. So a chat row's key is
  GREATEST(own transaction id, the key of the chat's newest row), read in the INSERT
  itself, after the lock is held: non-decreasing along the chat's commit order, ties
  broken by id (drawn after the previous holder committed). Still >= the own transaction
  id, so the watermark argument holds.
- Cost: one INSERT per event (one per chat event, not per member), with the key's
  sub-select served by the (chat_id, id) index. Readers: one statement per page.
- Latency: a row becomes readable once every transaction that started writing before it
  ended (milliseconds here; a writer left idle in a transaction holds every reader back).
- SQLite has one writer at a time: ids commit in order, `tx` is 0 and W is 1.

Visibility: a chat event is a member's if it lies in one of their membership spans
(live.models.MembershipSpan), opened by user_subscribe and closed at their member.left (or
chat.deleted) inclusive, so their own member.left is the last of that chat they get, and
nothing from before a join. A per-user event (chat.read) is its user's.
"""

import re

import orjson
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from chitchat import batch
from live.models import Event, MembershipSpan, PurgeHorizon

POS_RE = re.compile(r"^([0-9]{1,18})_([0-9]{1,18})$")
START = (0, 0)
MAX_LIMIT = 1000
DEFAULT_LIMIT = 500


class InvalidPosition(ValueError):
    """A `since` that is not a position this server gave out."""


class PositionTooOld(Exception):
    """Events after this position may have been purged: the client must resync."""


def format_pos(key: tuple[int, int]) -> str:
    return f"{key[0]}_{key[1]}"


def parse_pos(value: str) -> tuple[int, int]:
    match = POS_RE.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise InvalidPosition(value)
    return int(match.group(1)), int(match.group(2))


# The oldest transaction still running in the statement's snapshot, leaving out those of
# other databases of the cluster (transaction ids are cluster-wide: another application's
# long transaction must not hold our readers back). A running id is left out only when
# pg_stat_activity shows it in another database; one that ended meanwhile counts (it may
# have been ours). None running: the snapshot's xmax (every smaller id has ended).
PG_WATERMARK = (
    "(SELECT COALESCE(MIN(x::text::bigint), pg_snapshot_xmax(pg_current_snapshot())::text::bigint)"
    " FROM pg_snapshot_xip(pg_current_snapshot()) AS x"
    " WHERE mod(x::text::bigint, 4294967296) NOT IN ("
    "SELECT a.backend_xid::text::bigint FROM pg_stat_activity a"
    " WHERE a.backend_xid IS NOT NULL AND a.datname IS DISTINCT FROM current_database()))"
)


def _sql() -> dict[str, str]:
    """The two vendor fragments: the writer's transaction id and the reader's watermark."""
    if connection.vendor == "postgresql":
        return {
            "xid": "pg_current_xact_id()::text::bigint",
            "watermark": PG_WATERMARK,
            "greatest": "GREATEST",
        }
    return {"xid": "0", "watermark": "1", "greatest": "MAX"}


def _with_pos(frame_json: str, key: tuple[int, int]) -> str:
    """The stored frame's JSON with `"pos"` added as its last member (no decode)."""
    return f'{frame_json[:-1]},"pos":"{format_pos(key)}"}}'


def _now():
    return connection.ops.adapt_datetimefield_value(timezone.now())


# -- writing (inside the service's transaction) ------------------------------------------
def _chat_frame_insert(frame: dict) -> tuple[str, list]:
    table = Event._meta.db_table
    sql = _sql()
    return (
        f"INSERT INTO {table} (tx, chat_id, user_id, frame, created_at) "  # noqa: S608
        f"VALUES ({sql['greatest']}({sql['xid']}, COALESCE(("
        f"SELECT tx FROM {table} WHERE chat_id = %s ORDER BY id DESC LIMIT 1), 0)), "
        "%s, NULL, %s, %s) RETURNING tx, id",
        [frame["chat_id"], frame["chat_id"], orjson.dumps(frame).decode(), _now()],
    )


def append_chat_frame(frame: dict) -> tuple[int, int]:
    """Store a chat event (in the open transaction), now; set and return its position."""
    with connection.cursor() as cursor:
        cursor.execute(*_chat_frame_insert(frame))
        key = tuple(cursor.fetchone())
    frame["pos"] = format_pos(key)
    return key


def store_chat_frame(frame: dict) -> None:
    """Store a chat event (in the open transaction), now or with the statement batch that
    is collecting (chitchat.batch: messaging's send); frame["pos"] is set once it is."""

    def positioned(rows: list[tuple]) -> None:
        frame["pos"] = format_pos(tuple(rows[0]))

    batch.execute(*_chat_frame_insert(frame), on_rows=positioned)


def append_chat_frames(frames: list[dict]) -> None:
    """Store many events of one chat (a purge's message.deleted): the first row draws the
    key, the rest share it in one multi-row INSERT (ids break the tie, in list order)."""
    if not frames:
        return
    tx, _ = append_chat_frame(frames[0])
    now = timezone.now()
    rows = Event.objects.bulk_create(
        Event(
            tx=tx,
            chat_id=frame["chat_id"],
            frame=orjson.dumps(frame).decode(),
            created_at=now,
        )
        for frame in frames[1:]
    )
    for frame, row in zip(frames[1:], rows, strict=True):
        frame["pos"] = format_pos((tx, row.pk))


def append_user_frame(*, user_id: int, frame: dict) -> tuple[int, int]:
    """Store an event for one user only (chat.read); set and return its position."""
    table = Event._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (tx, chat_id, user_id, frame, created_at) "  # noqa: S608
            f"VALUES ({_sql()['xid']}, NULL, %s, %s, %s) RETURNING tx, id",
            [user_id, orjson.dumps(frame).decode(), _now()],
        )
        key = tuple(cursor.fetchone())
    frame["pos"] = format_pos(key)
    return key


def span_open(*, user_id: int, chat_id: int) -> None:
    """The user sees the chat's events from the next one on (called under the chat lock, so
    every earlier event of the chat is committed and has a smaller id)."""
    table = Event._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {MembershipSpan._meta.db_table} (user_id, chat_id, start_id) "  # noqa: S608
            f"SELECT %s, %s, COALESCE(MAX(id), 0) + 1 FROM {table} WHERE chat_id = %s",
            [user_id, chat_id, chat_id],
        )


def spans_close(*, user_ids, chat_id: int, last_event_id: int) -> None:
    """The users see nothing of the chat after `last_event_id` (their member.left, or
    chat.deleted), which they still see."""
    MembershipSpan.objects.filter(
        chat_id=chat_id, user_id__in=list(user_ids), end_id__isnull=True
    ).update(end_id=last_event_id, ended_at=timezone.now())


# -- reading -----------------------------------------------------------------------------
def current_position() -> str:
    """A position before every event still to come and after every readable one."""
    table = Event._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT tx, id FROM {table} WHERE tx < {_sql()['watermark']} "  # noqa: S608
            "ORDER BY tx DESC, id DESC LIMIT 1"
        )
        row = cursor.fetchone()
    # Never before the purge horizon: with every readable event purged, START would be a
    # position the server no longer keeps (410 at once, until something new is written).
    horizon = PurgeHorizon.objects.values_list("tx", "event_id").first()
    return format_pos(max(tuple(row) if row else START, tuple(horizon) if horizon else START))


def events_after(*, user_id: int, since: tuple[int, int], limit: int) -> tuple[list[str], bool]:
    """The user's readable events after `since`, oldest first, as JSON texts with `pos`;
    and whether more follow. Two statements: the page, then the purge horizon (read second,
    so rows purged while the page was read are noticed). Raises PositionTooOld."""
    events_table = Event._meta.db_table
    span_table = MembershipSpan._meta.db_table
    watermark = _sql()["watermark"]
    after = "(e.tx, e.id) > (%s, %s)"  # a row comparison: one index range
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT e.tx, e.id, e.frame FROM {events_table} e "  # noqa: S608
            f"JOIN {span_table} s ON s.chat_id = e.chat_id "
            "WHERE s.user_id = %s AND e.id >= s.start_id "
            "AND (s.end_id IS NULL OR e.id <= s.end_id) "
            f"AND e.tx < {watermark} AND {after} "
            "UNION ALL "
            f"SELECT e.tx, e.id, e.frame FROM {events_table} e "
            f"WHERE e.user_id = %s AND e.tx < {watermark} AND {after} "
            "ORDER BY 1, 2 LIMIT %s",
            [user_id, *since, user_id, *since, limit + 1],
        )
        rows = cursor.fetchall()
    horizon = PurgeHorizon.objects.values_list("tx", "event_id").first()
    if horizon is not None and since < tuple(horizon):
        raise PositionTooOld()
    has_more = len(rows) > limit
    return [_with_pos(frame, (tx, pk)) for tx, pk, frame in rows[:limit]], has_more


def last_position(frames: list[str], since: tuple[int, int]) -> tuple[int, int]:
    if not frames:
        return since
    return parse_pos(orjson.loads(frames[-1])["pos"])


# -- the live stream (live/hub.py) -------------------------------------------------------
def stream_after(*, since: tuple[int, int], limit: int) -> tuple[list[tuple], bool]:
    """Every readable event after `since` (all chats and users), oldest first, at most
    `limit`: (tx, id, chat_id, user_id, frame JSON without pos) rows; and whether a row after
    `since` is stored but not readable yet (its transaction id is at or above the watermark:
    an older transaction still runs, so it will be readable in moments). One statement."""
    table = Event._meta.db_table
    after = "(tx, id) > (%s, %s)"
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH w AS (SELECT {_sql()['watermark']} AS w) "  # noqa: S608
            "SELECT * FROM ("
            f"SELECT 0 AS k, tx, id, chat_id, user_id, frame FROM {table} "
            f"WHERE tx < (SELECT w FROM w) AND {after} ORDER BY tx, id LIMIT %s) AS readable "
            "UNION ALL SELECT * FROM ("
            "SELECT 1 AS k, tx, id, CAST(NULL AS BIGINT), CAST(NULL AS BIGINT), "
            f"CAST(NULL AS TEXT) FROM {table} "
            f"WHERE tx >= (SELECT w FROM w) AND {after} LIMIT 1) AS waiting "
            "ORDER BY 1, 2, 3",
            [*since, limit, *since],
        )
        rows = cursor.fetchall()
    waiting = bool(rows) and rows[-1][0] == 1
    rows = [row[1:] for row in (rows[:-1] if waiting else rows)]
    return rows, waiting


def spans_live_after(*, user_ids, since: tuple[int, int]) -> list[tuple[int, int, int, int | None]]:
    """(user_id, chat_id, start_id, end_id) of the users' membership spans that may still
    cover an event after `since`: open ones, and closed ones whose last event is after it.
    Within a chat, ids follow positions, so the span test `start_id <= id <= end_id` on the
    events after `since` is the one events_after makes."""
    span_table = MembershipSpan._meta.db_table
    events_table = Event._meta.db_table
    user_ids = list(user_ids)
    found = []
    for first in range(0, len(user_ids), 500):
        chunk = user_ids[first : first + 500]
        marks = ", ".join(["%s"] * len(chunk))
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT s.user_id, s.chat_id, s.start_id, s.end_id FROM {span_table} s "  # noqa: S608
                f"WHERE s.user_id IN ({marks}) AND (s.end_id IS NULL OR EXISTS ("
                f"SELECT 1 FROM {events_table} e WHERE e.id = s.end_id "
                "AND (e.tx, e.id) > (%s, %s)))",
                [*chunk, *since],
            )
            found.extend(cursor.fetchall())
    return found


def with_pos(frame_json: str, key: tuple[int, int]) -> str:
    """A stored frame's JSON with its `pos` (as events_after returns it)."""
    return _with_pos(frame_json, key)


# -- retention ---------------------------------------------------------------------------
def retention_days() -> int:
    return int(getattr(settings, "EVENT_RETENTION_DAYS", 7))


def purge_batch(*, before, batch_size: int) -> tuple[int, bool]:
    """Delete up to `batch_size` of the oldest events (in position order) created before
    `before`, in one short transaction, and move the horizon to the last one deleted.
    Returns (how many were deleted, whether older ones may remain)."""
    with transaction.atomic():
        rows = list(
            Event.objects.order_by("tx", "id").values_list("tx", "id", "created_at")[:batch_size]
        )
        old = []
        for tx, pk, created_at in rows:
            if created_at >= before:
                break
            old.append((tx, pk))
        if not old:
            return 0, False
        Event.objects.filter(pk__in=[pk for _, pk in old]).delete()
        horizon, _ = PurgeHorizon.objects.select_for_update().get_or_create(pk=1)
        horizon.tx, horizon.event_id = old[-1]
        horizon.save(update_fields=["tx", "event_id"])
    return len(old), len(old) == batch_size


def purge_spans(*, before, batch_size: int) -> int:
    """Delete up to `batch_size` membership spans closed before `before`."""
    ids = list(
        MembershipSpan.objects.filter(ended_at__lt=before).values_list("pk", flat=True)[:batch_size]
    )
    if ids:
        MembershipSpan.objects.filter(pk__in=ids).delete()
    return len(ids)
