"""Live-event plumbing: groups, on-commit sending, (un)subscribe bookkeeping, socket closing.

Knows no domain app: each app builds its own payloads (chats/events.py, messaging/events.py)
and hands finished frames to the functions here, inside its service's transaction. Nothing
is sent until it commits, and a rolled-back change sends nothing. If the channel layer is
down the change still stands: the live copy is lost and logged (the log keeps the event:
clients catch up with ?since=).

Groups: `chat.<id>` holds the sockets of a chat's members; `user.<id>` the sockets of one
user, used to (un)subscribe them from chat groups wherever they live. Channel-layer messages:
- `{"type": "chat.event", "frame", "id"}` to a chat group (sometimes also to a user group:
  see `_subscribed_in_this_transaction`), or `{"type": "chat.events", "chat_id", "frames",
  "id"}` for a batch of one chat's frames;
- `{"type": "chat.subscribe", "chat_id"}` and `{"type": "chat.unsubscribe", "chat_id",
  "frame", "id"}` to a user group, where `frame` (or None) is the last event the socket
  delivers for that chat (the leaver's own member.left, or chat.deleted). A frame that
  reaches a socket by two ways carries one `id` both ways, and the socket delivers it once
  (live/consumers.py);
- `{"type": "user.close", "code"}` to a user group closes that user's sockets wherever they
  are (`close_user_sockets`);
- `{"type": "user.event", "frame"}` to a user group: a frame for that user only (chat.read).

Every frame except typing is also stored in the event log (live/log.py), in the same
transaction, and carries its `pos` both ways.
"""

import asyncio
import logging
import os
import threading
import uuid
from concurrent.futures import TimeoutError as FutureTimeoutError

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import transaction

from live import log

logger = logging.getLogger(__name__)


def _send_timeout() -> float:
    """Seconds after which a send is abandoned (and logged): a Redis that accepts connections
    but never answers must not hold a request up."""
    return getattr(settings, "LIVE_EVENT_SEND_TIMEOUT", 2.0)


def chat_group(chat_id: int) -> str:
    return f"chat.{chat_id}"


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def event_frame(*, type: str, chat_id: int, data: dict) -> dict:
    """The frame a client receives: {"type", "chat_id", "data"}."""
    return {"type": type, "chat_id": chat_id, "data": data}


class _SenderLoop:
    """One event loop per process, in a daemon thread, that publishes to the Redis layer.

    `async_to_sync` from a plain thread (the WSGI server's) builds a new event loop per call,
    and channels_redis keeps its connections per loop: every event then paid a fresh Redis
    connection (~7 ms here, against ~0.4 ms on a kept one). Publishing from one long-lived
    loop keeps one connection per process. Only for channels_redis layers: the in-memory
    layer's queues belong to the loop of the sockets' server and must be used from it.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pid = 0

    def loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            # After a fork the child has the loop object but not its thread: start afresh.
            if self._loop is None or self._pid != os.getpid():
                loop = asyncio.new_event_loop()
                threading.Thread(
                    target=loop.run_forever, name="live-events-sender", daemon=True
                ).start()
                self._loop, self._pid = loop, os.getpid()
            return self._loop

    def run(self, coroutine) -> None:
        future = asyncio.run_coroutine_threadsafe(coroutine, self.loop())
        try:
            future.result(timeout=_send_timeout() + 1)  # the inner wait_for fires first
        except FutureTimeoutError:
            future.cancel()
            raise


_sender = _SenderLoop()


async def _send_with_timeout(layer, group: str, message: dict) -> None:
    await asyncio.wait_for(layer.group_send(group, message), timeout=_send_timeout())


# Open capture_send_event_calls() blocks (live/testing.py): sends are recorded, not sent.
_captures: list[list] = []


def _group_send(group: str, message: dict) -> None:
    if _captures:
        for calls in _captures:
            calls.append((group, message))
        return
    try:
        layer = get_channel_layer()
        if layer is None:
            return
        if type(layer).__module__.startswith("channels_redis"):
            _sender.run(_send_with_timeout(layer, group, message))
        else:
            # Inside an ASGI server this runs on the server's own loop (asgiref's doing).
            async_to_sync(_send_with_timeout)(layer, group, message)
    except Exception:
        logger.exception("live event lost: could not send to %s", group)


def send_on_commit(group: str, message: dict) -> None:
    """Send a channel-layer message to a group once the current transaction commits."""
    transaction.on_commit(lambda: _group_send(group, message))


def _new_event_id() -> str:
    return uuid.uuid4().hex


_local = threading.local()


def _subscribed_in_this_transaction() -> dict[int, set[int]] | None:
    """chat id -> users subscribed to it earlier in the open transaction (None outside one).

    Their sockets join the chat group only when they handle the subscribe message, after the
    commit; a chat event sent in the same transaction (a direct chat created with its first
    message, a chat created with its members) would reach the group before them. So such
    events also go to those users' groups, behind the subscribe; the socket drops whichever
    copy comes second by event id. The state belongs to the transaction whose on-commit list
    it saw: Django replaces that list at commit, rollback and savepoint rollback.
    """
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        return None
    state = getattr(_local, "subscribed", None)
    if state is None or state[0] is not connection.run_on_commit:
        state = (connection.run_on_commit, {})
        _local.subscribed = state
    return state[1]


def _send_chat_frame(chat_id: int, frame: dict, event_id: str) -> None:
    message = {"type": "chat.event", "frame": frame, "id": event_id}
    send_on_commit(chat_group(chat_id), message)
    subscribed = _subscribed_in_this_transaction() or {}
    for user_id in sorted(subscribed.get(chat_id, ())):
        send_on_commit(user_group(user_id), message)


def chat_event(*, chat_id: int, type: str, data: dict) -> None:
    """Push an event to every socket subscribed to the chat, after commit."""
    frame = event_frame(type=type, chat_id=chat_id, data=data)
    log.append_chat_frame(frame)
    _send_chat_frame(chat_id, frame, _new_event_id())


def chat_event_batch(*, chat_id: int, type: str, datas: list[dict]) -> None:
    """Push many events of one type to the chat's sockets in one channel-layer message (a
    purge deleting thousands of messages); each socket delivers them as separate frames."""
    if not datas:
        return
    frames = [event_frame(type=type, chat_id=chat_id, data=data) for data in datas]
    log.append_chat_frames(frames)
    message = {"type": "chat.events", "chat_id": chat_id, "frames": frames}
    message["id"] = _new_event_id()
    send_on_commit(chat_group(chat_id), message)


def user_subscribe(*, user_id: int, chat_id: int) -> None:
    """After commit, subscribe the user's open sockets (in any process) to the chat."""
    log.span_open(user_id=user_id, chat_id=chat_id)
    send_on_commit(user_group(user_id), {"type": "chat.subscribe", "chat_id": chat_id})
    subscribed = _subscribed_in_this_transaction()
    if subscribed is not None:
        subscribed.setdefault(chat_id, set()).add(user_id)


def user_unsubscribe(
    *, user_id: int, chat_id: int, frame: dict | None = None, event_id: str | None = None
) -> None:
    """After commit, unsubscribe the user's sockets from the chat; `frame` is delivered first.

    `event_id` is that of the chat-group copy of `frame`, if any: a socket delivers one.
    """
    message = {"type": "chat.unsubscribe", "chat_id": chat_id, "frame": frame}
    message["id"] = event_id or _new_event_id()
    send_on_commit(user_group(user_id), message)
    subscribed = _subscribed_in_this_transaction()
    if subscribed is not None:
        subscribed.get(chat_id, set()).discard(user_id)


def user_unsubscribe_with_frame(*, user_ids, chat_id: int, frame: dict) -> None:
    """Tell the chat `frame`, and unsubscribe `user_ids`' sockets from it with the same frame.

    A socket delivers whichever copy reaches it first and drops the other (same event id),
    so each gets `frame` exactly once whatever the arrival order, and nothing of the chat
    after it (a member's own member.left, chat.deleted).
    """
    user_ids = list(user_ids)
    _, stored_id = log.append_chat_frame(frame)
    log.spans_close(user_ids=user_ids, chat_id=chat_id, last_event_id=stored_id)
    event_id = _new_event_id()
    for user_id in user_ids:
        user_unsubscribe(user_id=user_id, chat_id=chat_id, frame=frame, event_id=event_id)
    _send_chat_frame(chat_id, frame, event_id)


def user_event(*, user_id: int, chat_id: int, type: str, data: dict) -> None:
    """Store an event for one user only and push it to their sockets, after commit."""
    frame = event_frame(type=type, chat_id=chat_id, data=data)
    log.append_user_frame(user_id=user_id, frame=frame)
    send_on_commit(user_group(user_id), {"type": "user.event", "frame": frame})


def close_user_sockets(*, user_id: int, code: int = 4401) -> None:
    """After commit, close every open socket of the user, in every process, with `code`.

    For a deactivated or deleted account and a password change: the socket was authorised
    by a credential that no longer stands.
    """
    send_on_commit(user_group(user_id), {"type": "user.close", "code": code})
