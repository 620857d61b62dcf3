"""The WebSocket consumer: one socket per client, carrying the events of all the user's chats.

Knows no domain app: which chats a user hears, and whether they may type in one, are two
hooks (`subscriptions`, `may_type_in`) that chats.consumers fills in from the memberships.

Delivery rules (see live/events.py for what is sent):
- On connect the socket joins `user.<id>` first, then reads the user's chats and joins each
  `chat.<id>`: a join or leave committed meanwhile still arrives through the user group.
- `self.chat_ids` is the set of chats this socket is subscribed to; a chat event of any
  other chat is dropped. Leaving a chat removes it from the set while handling the
  unsubscribe, so nothing of that chat reaches the socket afterwards even if it was already
  queued for it.
- Some frames reach a socket by two ways (the leaver's own member.left and chat.deleted with
  the unsubscribe and through the chat group; events sent in the transaction that
  subscribed the user, through the user group and maybe the chat group). The two travel
  through different groups and may arrive in either order; both carry one event id, and
  the socket delivers the first and drops the second.
- Client frames are rate-limited per socket (a token bucket): a frame over the limit is
  dropped with a `rate_limited` error frame (one per burst); a client that keeps flooding
  is closed with 1008. Otherwise client frames never close the socket: anything unexpected
  gets an error frame.
- `user.close` (live.events.close_user_sockets) closes the socket with its code: the account
  was deactivated or deleted, or its password changed.
- Resuming, `?since=<pos>`: the socket joins its groups first (live frames then queue up
  behind the handshake, since a consumer handles one message at a time), then replays every
  event after `pos` from the log (live/log.py), page by page, then handles the queued live
  frames, dropping those at or before the last replayed position. A frame the log did not
  return yet (its transaction, or an older one, was still running) sorts after every
  replayed one, so nothing is dropped that was not delivered, and nothing comes twice.
  Known limit: live frames are relayed as they arrive, so frames of two chats written by
  overlapping transactions may reach a socket out of `pos` order (the log's order is the
  transaction-id order, the relay's the commit order). A client that stores the newest pos
  and drops off between two such frames resumes past the earlier one. GET /events/ has no
  such window; closing it on sockets means relaying live frames in log order (hold each
  until the watermark passes it, fill from the log), see the lead's notes.
"""

import logging
from collections import deque
from time import monotonic
from urllib.parse import parse_qs

import orjson
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from live import events, log

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
# Standard close code 1013: the server cannot serve the socket right now (layer or DB down).
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

# How many recent event ids a socket remembers to drop second copies. The second copy comes
# right behind the first (milliseconds); this only bounds the memory.
RECENT_EVENT_IDS = 1024


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
    """The socket. Subclasses say which chats a user hears and where they may type."""

    user = None
    user_closed = False
    chat_ids: set[int]

    # Messages whose handlers never touch the database (typing does, in its own hop).
    _NO_DATABASE = frozenset(
        {
            "chat.event",
            "chat.events",
            "chat.subscribe",
            "chat.unsubscribe",
            "user.close",
            "user.event",
            "websocket.receive",
        }
    )

    # -- hooks --------------------------------------------------------------------------
    def subscriptions(self, user_id: int) -> set[int]:
        """Ids of the chats whose events the user's sockets hear (sync; runs in a thread)."""
        return set()

    def may_type_in(self, user_id: int, chat_id: int) -> bool:
        """Whether the user may relay typing to the chat now (sync; runs in a thread)."""
        return False

    async def dispatch(self, message):
        # Channels closes stale database connections before every handler, in a thread-pool
        # hop; relaying an event needs no database, and that hop was ~40 % of the server's
        # CPU in the fan-out benchmark. Handlers that do use the database (connect) keep it.
        if message["type"] in self._NO_DATABASE:
            handler = getattr(self, message["type"].replace(".", "_"))
            await handler(message)
        else:
            await super().dispatch(message)

    # -- connection ---------------------------------------------------------------------
    async def connect(self):
        self.chat_ids = set()
        self._recent_ids: deque[str] = deque()
        self._recent_id_set: set[str] = set()
        self._last_typing: dict[int, float] = {}
        self._bucket = FrameBucket()
        self._dropped = 0
        self._replayed_to = None
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
        try:
            # The user group first, so a (un)subscribe committed while we read the chats is
            # not missed.
            await self.channel_layer.group_add(events.user_group(user.pk), self.channel_name)
            for chat_id in await database_sync_to_async(self.subscriptions)(user.pk):
                await self._subscribe(chat_id)
        except Exception:
            # Redis or the database is down: say "try again later" rather than fail the
            # handshake with no reason.
            logger.exception("could not subscribe a new socket of user %s", user.pk)
            await self.accept()
            await self.close(code=CLOSE_TRY_AGAIN_LATER)
            return
        await self.accept()
        if since is not None:
            await self._replay(since)

    def _since(self) -> tuple[int, int] | None:
        query = parse_qs(
            self.scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True
        )
        values = query.get("since")
        if not values:
            return None
        return log.parse_pos(values[0])

    async def _replay(self, since: tuple[int, int]) -> None:
        """Send every event after `since` from the log, then remember where it ended."""
        cursor = since
        while True:
            try:
                frames, has_more = await database_sync_to_async(log.events_after)(
                    user_id=self.user.pk, since=cursor, limit=REPLAY_PAGE
                )
            except log.PositionTooOld:
                await self.send_json({"type": "resync_required"})
                await self.close(code=CLOSE_RESYNC_REQUIRED)
                return
            for frame in frames:
                await self.send(text_data=frame)
            cursor = log.last_position(frames, cursor)
            if not has_more:
                break
        self._replayed_to = cursor

    def _replayed(self, frame: dict) -> bool:
        """Whether the replay already delivered this frame (or one after it)."""
        if self._replayed_to is None or "pos" not in frame:
            return False
        return log.parse_pos(frame["pos"]) <= self._replayed_to

    async def disconnect(self, code):
        if self.user is None:
            return
        try:
            await self.channel_layer.group_discard(
                events.user_group(self.user.pk), self.channel_name
            )
            for chat_id in list(self.chat_ids):
                await self.channel_layer.group_discard(
                    events.chat_group(chat_id), self.channel_name
                )
        except Exception:  # the layer may be down; the socket is gone either way
            logger.warning("could not leave the groups of a closed socket", exc_info=True)
        self.chat_ids = set()

    async def _subscribe(self, chat_id: int) -> None:
        self.chat_ids.add(chat_id)
        await self.channel_layer.group_add(events.chat_group(chat_id), self.channel_name)

    async def _unsubscribe(self, chat_id: int) -> None:
        self.chat_ids.discard(chat_id)
        await self.channel_layer.group_discard(events.chat_group(chat_id), self.channel_name)

    def _first_copy(self, event_id: str | None) -> bool:
        """True the first time an event id is seen (always for events without one)."""
        if event_id is None:
            return True
        if event_id in self._recent_id_set:
            return False
        self._recent_ids.append(event_id)
        self._recent_id_set.add(event_id)
        if len(self._recent_ids) > RECENT_EVENT_IDS:
            self._recent_id_set.discard(self._recent_ids.popleft())
        return True

    # -- channel-layer messages ---------------------------------------------------------
    async def chat_event(self, message):
        frame = message["frame"]
        if frame["chat_id"] not in self.chat_ids:
            return
        if message.get("skip_user") == self.user.pk:  # typing is not echoed to its sender
            return
        if not self._first_copy(message.get("id")):
            return
        if frame["type"] == "chat.deleted":
            await self._unsubscribe(frame["chat_id"])
        if not self._replayed(frame):
            await self.send_json(frame)

    async def chat_events(self, message):
        if message["chat_id"] not in self.chat_ids or not self._first_copy(message.get("id")):
            return
        for frame in message["frames"]:
            if not self._replayed(frame):
                await self.send_json(frame)

    async def chat_subscribe(self, message):
        await self._subscribe(message["chat_id"])

    async def chat_unsubscribe(self, message):
        chat_id = message["chat_id"]
        if chat_id not in self.chat_ids:
            return  # not subscribed (connected after the leave, or chat.deleted came first)
        await self._unsubscribe(chat_id)
        frame = message.get("frame")
        if frame is not None and self._first_copy(message.get("id")) and not self._replayed(frame):
            await self.send_json(frame)

    async def user_event(self, message):
        if not self._replayed(message["frame"]):
            await self.send_json(message["frame"])

    async def user_close(self, message):
        self.user_closed = True
        await self.close(code=message.get("code", CLOSE_UNAUTHORIZED))

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
        if chat_id not in self.chat_ids:
            await self._error("not_a_member", "You are not a member of this chat.")
            return
        now = monotonic()
        if now - self._last_typing.get(chat_id, -TYPING_MIN_INTERVAL) < TYPING_MIN_INTERVAL:
            return
        self._last_typing[chat_id] = now
        # Decided from the database, not from the subscriptions of this socket: a leave, a
        # kick or the account's deletion may have committed while its unsubscribe is queued.
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
            await self.channel_layer.group_send(
                events.chat_group(chat_id),
                {"type": "chat.event", "frame": frame, "skip_user": self.user.pk},
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
