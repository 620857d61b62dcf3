"""The live hub: one per ASGI process (per event loop), it tails the event log in position
order and writes each stored frame to the local sockets that should get it.

Why from the log: the log's order (tx, id) is the order clients resume in (`pos`). Relaying
frames in commit order, as the channel layer did, let a socket receive a frame of a later
position before one of an earlier position whose transaction committed later; a client that
stored the newest pos and dropped off between the two resumed past the earlier one and lost
it. The hub reads exactly what GET /events/ reads, in the same order, with the same
watermark, so a socket's frames are in `pos` order and a resume from any of them misses
nothing.

- One reader per process: a task that keeps a cursor (a position) and reads every readable
  event after it, all chats and users at once, in batches (live.log.stream_after). It starts
  at the log's current position when the first socket of the process connects, and stops
  LINGER seconds after the last one left.
- Wake-ups: on PostgreSQL a trigger on live_event NOTIFYs `live_event` (delivered at commit,
  once per transaction, to every process: no extra round trip for the writer), and the hub
  LISTENs on a connection of its own (reconnecting if PostgreSQL drops it). In every
  configuration a commit in this process also wakes it (live.events, transaction.on_commit),
  which is all the embedded default (SQLite, one process) needs. A poll every POLL_SECONDS
  covers a lost notification. A row stored but not yet readable (an older transaction still
  runs: the watermark has not passed it) makes the hub read again after a few ms, backing
  off, until it is delivered.
- Who gets what: the log's own rule. A chat event goes to a user's sockets if one of the
  user's membership spans covers it (start_id <= id <= end_id: nothing before a join, their
  own member.left or chat.deleted last); a per-user event (chat.read) to that user's
  sockets. The hub keeps the spans of the users with a socket here: read when a user's first
  socket arrives (live.log.spans_live_after, at the hub's cursor), and read again for the
  users a batch's member.joined / member.left / chat.deleted concern before that batch is
  delivered. Within a chat ids follow positions, and a span is written in the transaction of
  its member.joined (closed in that of the member.left), so these reads give every event
  after the cursor exactly the answer events_after gives it.
- Fast lane: a frame is turned into its text (with `pos`) once per process, and the same
  ASGI message is queued for each socket (no channel layer per socket, no JSON per socket,
  no consumer dispatch). Each socket has its own bounded outbox and writer task, so a
  client that stops reading holds up no one else: when its outbox is full, it is closed
  with 1013 and resumes with `since` when it comes back.
- Attaching a socket: it is admitted between two batches at the hub's cursor, with a buffer;
  what the hub reads next goes into the buffer while the socket accepts and (with `since`)
  replays from the log, then the socket sends the buffered frames after its last replayed
  position and the hub writes to it directly from then on, skipping frames up to that
  position (the replay may have read further than the hub) (live/consumers.py).
- Not in the log, so through the channel layer (one group of hubs, `live.hubs`, one channel
  per process): typing (to the chat's local members but its sender) and closing a user's
  sockets (live.events.close_user_sockets). Several processes work together through
  PostgreSQL and Redis only.

A socket object here is the consumer: `hub_user_id`, `hub_buffer` (a list while buffering,
else None), `hub_skip_to` (a position up to which its replay already sent frames, or None),
`base_send(message)` and `hub_close(code)`; the hub adds its outbox and writer task.
"""

import asyncio
import contextlib
import logging
import threading
from time import monotonic

import orjson
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connections

from live import log

logger = logging.getLogger(__name__)

# Events read per query.
BATCH = 1000
# The channel PostgreSQL notifies on (live/migrations: the trigger on live_event).
NOTIFY_CHANNEL = "live_event"
# The channel-layer group every hub listens to (typing, closing a user's sockets).
HUBS_GROUP = "live.hubs"
# Re-join the group this often: channel layers expire group membership (a day by default).
GROUP_REFRESH_SECONDS = 3600.0
# Waits between reads while a stored row is not readable yet (then it stays at the last).
WAITING_BACKOFF = (0.002, 0.004, 0.008, 0.016, 0.032, 0.05)
# A user's sockets are closed at most this many seconds after the close came, even while the
# log is held back.
CLOSE_WAIT = 2.0
# Frames waiting to be written to one socket. A client that stops reading falls behind alone:
# the hub queues its frames and goes on with the others; past this many its socket is closed
# with 1013 (try again later) and the client resumes with `since` (nothing is lost).
OUTBOX_LIMIT = 1000
CLOSE_TOO_SLOW = 1013
# Frames that change who hears a chat (substrings of the stored JSON, checked by parsing).
MEMBERSHIP_TYPES = ("member.joined", "member.left", "chat.deleted")


def _poll_seconds() -> float:
    return float(getattr(settings, "LIVE_HUB_POLL_SECONDS", 1.5))


def _linger_seconds() -> float:
    return float(getattr(settings, "LIVE_HUB_LINGER_SECONDS", 30.0))


class LocalUser:
    """A user with sockets in this process, and the membership spans of theirs that may
    still cover an event after the hub's cursor: chat id -> [(start_id, end_id or None)]."""

    __slots__ = ("sockets", "spans")

    def __init__(self) -> None:
        self.sockets: list = []
        self.spans: dict[int, list[tuple[int, int | None]]] = {}

    def sees(self, chat_id: int, event_id: int) -> bool:
        for start, end in self.spans.get(chat_id, ()):
            if start <= event_id and (end is None or event_id <= end):
                return True
        return False

    def hears(self, chat_id: int) -> bool:
        """A member now (as far as the log read so far says): an open span."""
        return any(end is None for _, end in self.spans.get(chat_id, ()))


class Hub:
    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.cursor: tuple[int, int] | None = None
        self.users: dict[int, LocalUser] = {}
        self.chats: dict[int, set[int]] = {}  # chat id -> ids of local users with spans in it
        self.stopped = False
        self._wake = asyncio.Event()
        self._joining: list[tuple[object, asyncio.Future]] = []
        self._idle_since: float | None = None
        self._flushes: dict[str, asyncio.Future] = {}
        self._closes: list[tuple[int, int, float]] = []  # (user id, code, when it came)
        self._tasks = [self.loop.create_task(self._tail(), name="live-hub-tail")]
        self._tasks.append(self.loop.create_task(self._listen_layer(), name="live-hub-layer"))
        if connections["default"].vendor == "postgresql":
            self._tasks.append(self.loop.create_task(self._listen_postgres(), name="live-hub-pg"))

    # -- sockets --------------------------------------------------------------------------
    async def attach(self, socket) -> tuple[int, int]:
        """Admit `socket` (buffering: its hub_buffer must be a list) at the hub's cursor,
        after reading its user's spans; return that position. Frames after it go to the
        socket's buffer until the socket sets hub_buffer to None."""
        future = self.loop.create_future()
        self._joining.append((socket, future))
        self._idle_since = None
        self.wake()
        return await future

    def detach(self, socket) -> None:
        writer = getattr(socket, "hub_writer", None)
        if writer is not None:
            writer.cancel()
            socket.hub_writer = None
        user = self.users.get(socket.hub_user_id)
        if user is None or socket not in user.sockets:
            return
        user.sockets.remove(socket)
        if not user.sockets:
            self._forget(socket.hub_user_id)
        if not self.users and not self._joining:
            self._idle_since = monotonic()
            self.loop.call_later(_linger_seconds(), self._stop_if_idle)

    def hears(self, user_id: int, chat_id: int) -> bool:
        user = self.users.get(user_id)
        return user is not None and user.hears(chat_id)

    def _forget(self, user_id: int) -> None:
        user = self.users.pop(user_id)
        for chat_id in user.spans:
            self._unindex(user_id, chat_id)

    def _unindex(self, user_id: int, chat_id: int) -> None:
        members = self.chats.get(chat_id)
        if members is not None:
            members.discard(user_id)
            if not members:
                del self.chats[chat_id]

    def _set_spans(self, rows, user_ids) -> None:
        """Replace the spans of `user_ids` (local users) with `rows` (a fresher read)."""
        fresh: dict[int, dict[int, list]] = {user_id: {} for user_id in user_ids}
        for user_id, chat_id, start_id, end_id in rows:
            fresh[user_id].setdefault(chat_id, []).append((start_id, end_id))
        for user_id, spans in fresh.items():
            user = self.users.get(user_id)
            if user is None:
                continue
            for chat_id in user.spans.keys() - spans.keys():
                self._unindex(user_id, chat_id)
            for chat_id in spans.keys() - user.spans.keys():
                self.chats.setdefault(chat_id, set()).add(user_id)
            user.spans = spans

    async def _admit(self) -> None:
        joining, self._joining = self._joining, []
        new_users = {socket.hub_user_id for socket, _ in joining} - self.users.keys()
        try:
            rows = await database_sync_to_async(log.spans_live_after)(
                user_ids=sorted(new_users), since=self.cursor
            )
        except Exception as error:
            for _, future in joining:
                if not future.done():
                    future.set_exception(error)
            raise
        for user_id in new_users:
            self.users[user_id] = LocalUser()
        self._set_spans(rows, new_users)
        for socket, future in joining:
            if future.cancelled():  # the socket went away while waiting
                continue
            self.users[socket.hub_user_id].sockets.append(socket)
            future.set_result(self.cursor)
        for user_id in new_users:
            if not self.users[user_id].sockets:
                self._forget(user_id)

    # -- reading the log ----------------------------------------------------------------
    async def _tail(self) -> None:
        backoff = 0
        while not self.stopped:
            try:
                if self.cursor is None:
                    position = await database_sync_to_async(log.current_position)()
                    self.cursor = log.parse_pos(position)
                self._wake.clear()
                if self._joining:
                    await self._admit()
                read_at = monotonic()
                rows, waiting = await database_sync_to_async(log.stream_after)(
                    since=self.cursor, limit=BATCH
                )
                if rows:
                    await self._deliver(rows)
                if len(rows) == BATCH:
                    continue
                if self._closes:
                    await self._close_sockets(read_at, waiting)
                if waiting:
                    delay = WAITING_BACKOFF[min(backoff, len(WAITING_BACKOFF) - 1)]
                    backoff += 1
                else:
                    delay, backoff = _poll_seconds(), 0
                await self._sleep(delay)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                logger.exception("live hub: could not read the event log; retrying")
                if self._closes:  # the database is down: close anyway
                    await self._close_sockets(monotonic(), waiting=False)
                for _, future in self._joining:
                    if not future.done():
                        future.set_exception(error)
                self._joining = []
                await asyncio.sleep(1.0)

    async def _close_sockets(self, read_at: float, waiting: bool) -> None:
        """Close the sockets of users whose close came before the read that just ended (so
        their last frames were delivered), or came CLOSE_WAIT seconds ago (an older
        transaction holds the log back: do not keep an unauthorised socket open for it)."""
        due = [
            entry
            for entry in self._closes
            if entry[2] < read_at and (not waiting or read_at - entry[2] > CLOSE_WAIT)
        ]
        if not due:
            return
        self._closes = [entry for entry in self._closes if entry not in due]
        for user_id, code, _ in due:
            user = self.users.get(user_id)
            for socket in list(user.sockets) if user is not None else ():
                await socket.hub_close(code)

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)

    def wake(self) -> None:
        self._wake.set()

    async def _deliver(self, rows) -> None:
        # Whose spans this batch changes: read them before delivering any of it.
        changed: set[int] = set()
        kinds = []
        for _, _, chat_id, _, frame in rows:
            kind = None
            if chat_id is not None and any(f'"{t}"' in frame for t in MEMBERSHIP_TYPES):
                parsed = orjson.loads(frame)
                if parsed.get("type") in MEMBERSHIP_TYPES:
                    kind = parsed
                    if parsed["type"] == "chat.deleted":
                        changed.update(self.chats.get(chat_id, ()))
                    else:
                        user_id = parsed["data"]["user"]["id"]
                        if user_id in self.users:
                            changed.add(user_id)
            kinds.append(kind)
        if changed:
            spans = await database_sync_to_async(log.spans_live_after)(
                user_ids=sorted(changed), since=self.cursor
            )
            self._set_spans(spans, changed)

        for (tx, pk, chat_id, user_id, frame), kind in zip(rows, kinds, strict=True):
            key = (tx, pk)
            self.cursor = key
            if chat_id is None:
                user = self.users.get(user_id)
                targets = [user] if user is not None else []
            else:
                members = self.chats.get(chat_id)
                if not members:
                    continue
                targets = [
                    self.users[uid] for uid in list(members) if self.users[uid].sees(chat_id, pk)
                ]
            if targets:
                message = {"type": "websocket.send", "text": log.with_pos(frame, key)}
                for user in targets:
                    for socket in list(user.sockets):
                        await self._send(socket, key, message)
            if kind is not None:
                self._drop_ended_spans(chat_id, pk)

    def _drop_ended_spans(self, chat_id: int, event_id: int) -> None:
        """Spans of the chat that ended at or before this event cover nothing after it."""
        for user_id in list(self.chats.get(chat_id, ())):
            user = self.users[user_id]
            left = [(s, e) for s, e in user.spans[chat_id] if e is None or e > event_id]
            if left:
                user.spans[chat_id] = left
            else:
                del user.spans[chat_id]
                self._unindex(user_id, chat_id)

    async def _send(self, socket, key, message) -> None:
        if socket.hub_buffer is not None:
            socket.hub_buffer.append((key, message))
            return
        skip = socket.hub_skip_to
        if skip is not None and key is not None:
            if key <= skip:  # the socket's replay already sent it
                return
            socket.hub_skip_to = None
        outbox = getattr(socket, "hub_outbox", None)
        if outbox is None:
            if getattr(socket, "hub_too_slow", False):
                return  # being closed
            outbox = socket.hub_outbox = asyncio.Queue(maxsize=OUTBOX_LIMIT)
            socket.hub_writer = self.loop.create_task(
                self._write(socket, outbox), name="live-hub-writer"
            )
        try:
            outbox.put_nowait(message)
        except asyncio.QueueFull:
            logger.warning(
                "live hub: a socket of user %s fell %s frames behind; closing it with %s",
                socket.hub_user_id,
                OUTBOX_LIMIT,
                CLOSE_TOO_SLOW,
            )
            socket.hub_too_slow, socket.hub_outbox = True, None
            self.detach(socket)  # stops its writer: the close is not queued behind frames
            self.loop.create_task(socket.hub_close(CLOSE_TOO_SLOW), name="live-hub-close")

    @staticmethod
    async def _write(socket, outbox: asyncio.Queue) -> None:
        """One socket's writer: its frames in order, at the pace its client reads them."""
        while True:
            message = await outbox.get()
            try:
                await socket.base_send(message)
            except Exception:  # the client went away; its disconnect detaches it
                logger.debug("live hub: a send to a closing socket failed", exc_info=True)

    # -- wake-ups from PostgreSQL -------------------------------------------------------
    async def _listen_postgres(self) -> None:
        import psycopg

        params = connections["default"].get_connection_params()
        for name in ("cursor_factory", "context", "prepare_threshold"):
            params.pop(name, None)
        delay = 0.5
        while not self.stopped:
            try:
                async with await psycopg.AsyncConnection.connect(
                    **params, autocommit=True
                ) as listener:
                    await listener.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    delay = 0.5
                    self.wake()  # what committed while nobody listened
                    async for _ in listener.notifies():
                        self.wake()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.warning("live hub: LISTEN connection lost; reconnecting", exc_info=True)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)

    # -- the channel layer: typing and closing sockets ----------------------------------
    async def _listen_layer(self) -> None:
        layer = get_channel_layer()
        if layer is None:
            return
        delay = 0.5
        while not self.stopped:
            try:
                channel = await layer.new_channel("live.hub.")
                await layer.group_add(HUBS_GROUP, channel)
                joined = monotonic()
                delay = 0.5
                while not self.stopped:
                    if monotonic() - joined > GROUP_REFRESH_SECONDS:
                        await layer.group_add(HUBS_GROUP, channel)
                        joined = monotonic()
                    try:
                        message = await asyncio.wait_for(layer.receive(channel), 60)
                    except TimeoutError:
                        continue
                    await self._handle_layer_message(message)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.warning("live hub: channel layer lost; rejoining", exc_info=True)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)

    async def _handle_layer_message(self, message: dict) -> None:
        kind = message.get("type")
        if kind == "hub.typing":
            chat_id, sender = message["chat_id"], message["user_id"]
            out = {"type": "websocket.send", "text": message["text"]}
            for user_id in list(self.chats.get(chat_id, ())):
                user = self.users.get(user_id)
                if user_id == sender or user is None or not user.hears(chat_id):
                    continue
                for socket in list(user.sockets):
                    if socket.hub_buffer is None:  # typing is a hint: not for a handshake
                        await self._send(socket, None, out)
        elif kind == "hub.close":
            # Closed after the frames of the transaction that closed them (their own
            # member.left when the account goes): by the reader, once it has read past it.
            self._closes.append((message["user_id"], message["code"], monotonic()))
            self.wake()
        elif kind == "hub.flush":
            future = self._flushes.pop(message["token"], None)
            if future is not None and not future.done():
                future.set_result(None)

    async def publish_typing(self, *, chat_id: int, user_id: int, text: str) -> None:
        await get_channel_layer().group_send(
            HUBS_GROUP, {"type": "hub.typing", "chat_id": chat_id, "user_id": user_id, "text": text}
        )

    # -- tests ----------------------------------------------------------------------------
    async def settle(self) -> None:
        """Return once this hub has handled everything committed and sent before the call:
        every readable event of the log, and the channel-layer messages (tests use it to
        prove that nothing more is on its way to a socket)."""
        import uuid

        token = uuid.uuid4().hex
        future = self.loop.create_future()
        self._flushes[token] = future
        await get_channel_layer().group_send(HUBS_GROUP, {"type": "hub.flush", "token": token})
        await asyncio.wait_for(future, 10)
        target = log.parse_pos(await database_sync_to_async(log.current_position)())
        deadline = monotonic() + 10
        while self.cursor is None or self.cursor < target or self._joining:
            if monotonic() > deadline:
                raise TimeoutError(f"the hub did not reach {target} (at {self.cursor})")
            self.wake()
            await asyncio.sleep(0.005)

    # -- lifetime -----------------------------------------------------------------------
    def _stop_if_idle(self) -> None:
        if self._idle_since is None or self.users or self._joining:
            return
        if monotonic() - self._idle_since < _linger_seconds() - 0.01:
            return
        self.stop()

    def stop(self) -> None:
        self.stopped = True
        for task in self._tasks:
            task.cancel()
        with _lock:
            if _hubs.get(self.loop) is self:
                del _hubs[self.loop]


# One hub per event loop (an ASGI server has one; each test has its own).
_hubs: dict[asyncio.AbstractEventLoop, Hub] = {}
_lock = threading.Lock()


def hub() -> Hub:
    """The hub of the running event loop, started on first use."""
    loop = asyncio.get_running_loop()
    with _lock:
        found = _hubs.get(loop)
        if found is None or found.stopped:
            for old in [lp for lp in _hubs if lp.is_closed()]:
                del _hubs[old]
            found = _hubs[loop] = Hub()
        return found


def wake_all() -> None:
    """Wake every hub of this process (from any thread): something was committed."""
    with _lock:
        hubs = list(_hubs.values())
    for found in hubs:
        with contextlib.suppress(RuntimeError):  # its loop is closed
            found.loop.call_soon_threadsafe(found.wake)
