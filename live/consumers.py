"""The WebSocket consumer: one socket per client, carrying the events of all the user's chats.

Knows no domain app: whether a user may type in a chat is a hook (`may_type_in`) that
chats.consumers fills in from the memberships.

Where frames come from: the process's live hub (live/hub.py) reads the event log in `pos`
order and writes each frame the user should get straight to the socket's send (the same
text for every socket). The socket has no channel-layer channel of its own and no groups.
- Connecting: the socket attaches to the hub, which admits it at its current position with
  a buffer; the socket accepts, replays the log when resuming (below), then sends what the
  hub buffered meanwhile and from then on the hub writes to it directly. Frames therefore
  reach the client in `pos` order, each once: a client that stores the newest pos resumes
  from it without a gap, however transactions of different chats interleaved.
- Resuming, `?since=<pos>`: after attaching, every event after `pos` is read from the log
  (live.log.events_after, page by page) and sent; then the buffered frames after the last
  replayed position, and the hub skips what it reads later up to that position. The replay
  reaches at least the hub's position at admission (a later read sees everything an
  earlier one saw), and the hub's stream has every frame after it, in the same order, so
  nothing is dropped and nothing comes twice. A malformed `since` gets an `invalid_since`
  error frame and close 4400; one older than the retention window `resync_required` and
  close 4410.
- Client frames are rate-limited per socket (a token bucket): a frame over the limit is
  dropped with a `rate_limited` error frame (one per burst); a client that keeps flooding
  is closed with 1008. Otherwise client frames never close the socket: anything unexpected
  gets an error frame.
- `typing` is relayed through the hubs (the channel layer) to the chat's other members'
  sockets in every process, after checking the membership in the database.
- The hubs close a user's sockets with the code of live.events.close_user_sockets: the
  account was deactivated or deleted, or its password changed.
"""

import contextlib
import logging
from time import monotonic
from urllib.parse import parse_qs

import orjson
from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.utils import await_many_dispatch

from live import events, hub, log

logger = logging.getLogger(__name__)

# Close code for a missing, bad or expired token (4000-4999 are the application's own).
CLOSE_UNAUTHORIZED = 4401
# Standard close code 1008: policy violation (a client that keeps flooding).
CLOSE_POLICY_VIOLATION = 1008
# A malformed `since` (4400), and one older than the retention window (4410).
CLOSE_INVALID_SINCE = 4400
CLOSE_RESYNC_REQUIRED = 4410
# Events read from the log per query while a resuming socket replays.
REPLAY_PAGE = 500
# Standard close code 1013: the server cannot serve the socket right now (database down).
CLOSE_TRY_AGAIN_LATER = 1013
# Client frames are tiny ({"type": "typing", "chat_id": N}); refuse to parse anything big.
MAX_CLIENT_FRAME = 1024

# A socket relays at most one typing per chat per this many seconds; the rest are dropped
# (typing is a hint, and one client must not make a big chat's sockets busy).
TYPING_MIN_INTERVAL = 1.0

# Client frames: a bucket of FRAME_BURST frames, refilled at FRAME_RATE per second. Frames
# over it are dropped; FLOOD_LIMIT dropped frames in a row close the socket.
FRAME_BURST = 30
FRAME_RATE = 10.0
FLOOD_LIMIT = 200


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class FrameBucket:
    """A token bucket: `take()` is True while the client stays within BURST frames and RATE
    frames per second on average."""

    def __init__(self, *, burst: int = FRAME_BURST, rate: float = FRAME_RATE) -> None:
        self.burst, self.rate = burst, rate
        self.tokens = float(burst)
        self.stamp = monotonic()

    def take(self) -> bool:
        now = monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class LiveEventsConsumer(AsyncJsonWebsocketConsumer):
    """The socket. Subclasses say where a user may type."""

    user = None
    user_closed = False
    hub = None
    # (position, ASGI message) pairs the hub wrote while the socket connected; None after.
    hub_buffer: list | None = None
    # The hub skips frames at or before this position (already sent by the replay).
    hub_skip_to: tuple[int, int] | None = None

    # -- hooks --------------------------------------------------------------------------
    def may_type_in(self, user_id: int, chat_id: int) -> bool:
        """Whether the user may relay typing to the chat now (sync; runs in a thread)."""
        return False

    async def __call__(self, scope, receive, send):
        # Channels' consumer would open a channel-layer channel per socket and wait on it;
        # frames come from the hub instead, which calls base_send itself.
        self.scope = scope
        self.channel_layer = None
        self.base_send = send
        with contextlib.suppress(StopConsumer):
            await await_many_dispatch([receive], self.dispatch)

    async def dispatch(self, message):
        # Channels closes stale database connections before every handler, in a thread-pool
        # hop; a client frame needs none (typing reads the database in its own hop).
        if message["type"] == "websocket.receive":
            await self.websocket_receive(message)
        else:
            await super().dispatch(message)

    @property
    def hub_user_id(self) -> int:
        return self.user.pk

    # -- connection ---------------------------------------------------------------------
    async def connect(self):
        self._last_typing: dict[int, float] = {}
        self._bucket = FrameBucket()
        self._dropped = 0
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            # Accept first: a refused handshake reaches browsers as a bare 403, no code.
            await self.accept()
            await self.close(code=CLOSE_UNAUTHORIZED)
            return
        self.user = user
        try:
            since = self._since()
        except log.InvalidPosition:
            await self.accept()
            await self._error("invalid_since", "since is not a position this server gave.")
            await self.close(code=CLOSE_INVALID_SINCE)
            return
        self.hub_buffer = []
        try:
            self.hub = hub.hub()
            position = await self.hub.attach(self)
        except Exception:
            # The database is down: say "try again later" rather than fail the handshake
            # with no reason.
            logger.exception("could not attach a new socket of user %s", user.pk)
            self.hub_buffer = None
            await self.accept()
            await self.close(code=CLOSE_TRY_AGAIN_LATER)
            return
        await self.accept()
        if since is not None:
            position = await self._replay(since)
            if position is None:
                return
        await self._go_live(position)

    def _since(self) -> tuple[int, int] | None:
        query = parse_qs(
            self.scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True
        )
        values = query.get("since")
        if not values:
            return None
        return log.parse_pos(values[0])

    async def _replay(self, since: tuple[int, int]) -> tuple[int, int] | None:
        """Send every event after `since` from the log; return the last position sent (or
        `since`), None when the socket was closed (too old)."""
        cursor = since
        while True:
            try:
                frames, has_more = await database_sync_to_async(log.events_after)(
                    user_id=self.user.pk, since=cursor, limit=REPLAY_PAGE
                )
            except log.PositionTooOld:
                await self.send_json({"type": "resync_required"})
                await self.close(code=CLOSE_RESYNC_REQUIRED)
                return None
            for frame in frames:
                await self.send(text_data=frame)
            cursor = log.last_position(frames, cursor)
            if not has_more:
                return cursor

    async def _go_live(self, sent_to: tuple[int, int]) -> None:
        """Send what the hub buffered after `sent_to`, then let it write directly (skipping
        what it has not read yet but the replay already sent: the replay may be ahead)."""
        while self.hub_buffer:
            pending, self.hub_buffer = self.hub_buffer, []
            for key, message in pending:
                if key > sent_to:
                    await self.base_send(message)
        # No await between the emptiness check and this: the hub cannot append in between.
        self.hub_skip_to = sent_to
        self.hub_buffer = None

    async def disconnect(self, code):
        if self.hub is not None:
            self.hub.detach(self)

    async def hub_close(self, code: int) -> None:
        """Called by the hub (live.events.close_user_sockets)."""
        self.user_closed = True
        if self.hub is not None:
            self.hub.detach(self)
        await self.close(code=code)

    # -- client frames ------------------------------------------------------------------
    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        if self.user_closed:
            return
        if not self._bucket.take():
            self._dropped += 1
            if self._dropped >= FLOOD_LIMIT:
                await self.close(code=CLOSE_POLICY_VIOLATION)
            elif self._dropped == 1:
                await self._error("rate_limited", "Too many frames; slow down.")
            return
        self._dropped = 0
        if text_data is None:
            await self._error("text_frames_only", "Frames must be JSON text, not binary.")
            return
        if len(text_data) > MAX_CLIENT_FRAME:
            await self._error("frame_too_large", f"Frames are at most {MAX_CLIENT_FRAME} chars.")
            return
        try:
            content = orjson.loads(text_data)
        except orjson.JSONDecodeError:
            await self._error("invalid_json", "The frame is not valid JSON.")
            return
        await self.receive_json(content)

    async def receive_json(self, content, **kwargs):
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "ping":
            await self.send_json({"type": "pong"})
        elif kind == "typing":
            await self._typing(content.get("chat_id"))
        else:
            await self._error(
                "unknown_type", 'Expected {"type": "ping"} or {"type": "typing", "chat_id": N}.'
            )

    async def _typing(self, chat_id) -> None:
        if not _is_int(chat_id):
            await self._error("invalid_chat_id", "chat_id must be an integer.")
            return
        if not self.hub.hears(self.user.pk, chat_id):
            await self._error("not_a_member", "You are not a member of this chat.")
            return
        now = monotonic()
        if now - self._last_typing.get(chat_id, -TYPING_MIN_INTERVAL) < TYPING_MIN_INTERVAL:
            return
        self._last_typing[chat_id] = now
        # Decided from the database, not from the hub's view: a leave, a kick or the
        # account's deletion may have committed before the hub read it.
        try:
            allowed = await database_sync_to_async(self.may_type_in)(self.user.pk, chat_id)
        except Exception:
            logger.exception("typing lost: could not check the membership in chat %s", chat_id)
            await self._error("unavailable", "Live events are unavailable right now.")
            return
        if not allowed:
            await self._error("not_a_member", "You are not a member of this chat.")
            return
        user = {"id": self.user.pk, "username": self.user.username}
        frame = events.event_frame(type="typing", chat_id=chat_id, data={"user": user})
        try:
            await self.hub.publish_typing(
                chat_id=chat_id, user_id=self.user.pk, text=orjson.dumps(frame).decode()
            )
        except Exception:
            logger.exception("typing lost: could not send to chat %s", chat_id)
            await self._error("unavailable", "Live events are unavailable right now.")

    async def _error(self, code: str, detail: str) -> None:
        await self.send_json({"type": "error", "detail": detail, "code": code})

    # -- encoding -----------------------------------------------------------------------
    @classmethod
    async def encode_json(cls, content):
        return orjson.dumps(content).decode()
