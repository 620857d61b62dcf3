"""Live-event plumbing of the write side: frames stored in the event log, on-commit wake-ups,
socket closing.

Knows no domain app: each app builds its own payloads (chats/events.py, messaging/events.py)
and hands finished frames to the functions here, inside its service's transaction. Every
frame (except typing, which never touches the database) is stored in the event log
(live/log.py) in that transaction, which gives it its `pos`; a rolled-back change stores
nothing. Sockets get frames from the log, not from here: each ASGI process's hub
(live/hub.py) reads the log in position order once the transaction has committed and writes
each frame to the local sockets whose user should get it (the log's own visibility rule,
membership spans). So the send path publishes nothing to Redis: on commit it only wakes the
hubs of its own process (PostgreSQL's NOTIFY, from a trigger on the table, wakes the others).

What is not in the log goes through the channel layer, to the group of hubs: closing a
user's sockets (`close_user_sockets`) here, and typing from the consumer.

Tests see what a write emits through live.testing.capture_send_event_calls: on commit each
emitter records a (label, message) pair, `chat.<id>` with {"type": "chat.event", "frame"} or
{"type": "chat.events", "chat_id", "frames"} for a chat's frames, `user.<id>` with
{"type": "user.event", "frame"} for a per-user frame and {"type": "user.close", "code"} for
closing a user's sockets.
"""

import asyncio
import logging
import os
import threading
from concurrent.futures import TimeoutError as FutureTimeoutError

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import transaction

from live import hub, log

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


# Open capture_send_event_calls() blocks (live/testing.py) record what is emitted.
_captures: list[list] = []


def _group_send(group: str, message: dict) -> None:
    """Send a channel-layer message now (the hubs' group); a failure is logged, not raised."""
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


def _committed(label: str, message: dict) -> None:
    for calls in _captures:
        calls.append((label, message))
    hub.wake_all()


def _on_commit(label: str, message: dict) -> None:
    """After commit: record for captures, and wake this process's hubs."""
    transaction.on_commit(lambda: _committed(label, message))


def chat_event(*, chat_id: int, type: str, data: dict) -> None:
    """Store an event of the chat; its members' sockets get it once it has committed."""
    frame = event_frame(type=type, chat_id=chat_id, data=data)
    log.store_chat_frame(frame)
    _on_commit(chat_group(chat_id), {"type": "chat.event", "frame": frame})


def chat_event_batch(*, chat_id: int, type: str, datas: list[dict]) -> None:
    """Store many events of one type for the chat (a purge deleting thousands of messages);
    sockets get them as separate frames."""
    if not datas:
        return
    frames = [event_frame(type=type, chat_id=chat_id, data=data) for data in datas]
    log.append_chat_frames(frames)
    _on_commit(chat_group(chat_id), {"type": "chat.events", "chat_id": chat_id, "frames": frames})


def user_subscribe(*, user_id: int, chat_id: int) -> None:
    """The user hears the chat from its next event on (their member.joined, sent next)."""
    log.span_open(user_id=user_id, chat_id=chat_id)


def user_unsubscribe_with_frame(*, user_ids, chat_id: int, frame: dict) -> None:
    """Store `frame` for the chat as the last of it that `user_ids` see (a member's own
    member.left, chat.deleted)."""
    user_ids = list(user_ids)
    _, stored_id = log.append_chat_frame(frame)
    log.spans_close(user_ids=user_ids, chat_id=chat_id, last_event_id=stored_id)
    _on_commit(chat_group(chat_id), {"type": "chat.event", "frame": frame})


def user_event(*, user_id: int, chat_id: int, type: str, data: dict) -> None:
    """Store an event for one user only; their sockets get it once it has committed."""
    frame = event_frame(type=type, chat_id=chat_id, data=data)
    log.append_user_frame(user_id=user_id, frame=frame)
    _on_commit(user_group(user_id), {"type": "user.event", "frame": frame})


def close_user_sockets(*, user_id: int, code: int = 4401) -> None:
    """After commit, close every open socket of the user, in every process, with `code`.

    For a deactivated or deleted account and a password change: the socket was authorised
    by a credential that no longer stands.
    """
    message = {"type": "user.close", "code": code}

    def send() -> None:
        if _captures:
            for calls in _captures:
                calls.append((user_group(user_id), message))
            return
        _group_send(hub.HUBS_GROUP, {"type": "hub.close", "user_id": user_id, "code": code})

    transaction.on_commit(send)
