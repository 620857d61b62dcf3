"""Live events: every payload pushed over WebSockets is built here, and sent only on commit.

Services call these functions inside their transaction; nothing is sent until it commits,
and a rolled-back change sends nothing. If the channel layer is down the change still
stands: the event is lost and logged (clients catch up with ?after=).

Groups: `chat.<id>` holds the sockets of a chat's members; `user.<id>` the sockets of one
user, used to (un)subscribe them from chat groups wherever they live. Channel-layer messages:
`{"type": "chat.event", "frame"}` to a chat group; `{"type": "chat.subscribe", "chat_id",
"frame"}` and `{"type": "chat.unsubscribe", "chat_id", "frame"}` to a user group, where
`frame` (or None) is the one event about the user themself (their own member.joined or
member.left, or chat.deleted) that the socket delivers when it applies the change
(see messaging/consumers.py for why those come through the user group).
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

logger = logging.getLogger(__name__)


def _send_timeout() -> float:
    """Seconds after which a send is abandoned (and logged): a Redis that accepts connections
    but never answers must not hold a request up."""
    return getattr(settings, "LIVE_EVENT_SEND_TIMEOUT", 2.0)


def chat_group(chat_id: int) -> str:
    return f"chat.{chat_id}"


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def user_ref(user) -> dict:
    return {"id": user.pk, "username": user.username}


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


def _group_send(group: str, message: dict) -> None:
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


def chat_event(*, chat_id: int, type: str, data: dict) -> None:
    """Push an event to every socket subscribed to the chat, after commit."""
    frame = event_frame(type=type, chat_id=chat_id, data=data)
    send_on_commit(chat_group(chat_id), {"type": "chat.event", "frame": frame})


def user_subscribe(*, user_id: int, chat_id: int, frame: dict | None = None) -> None:
    """After commit, subscribe the user's open sockets (in any process) to the chat.

    `frame`, if given, is delivered by each socket right after it subscribes.
    """
    send_on_commit(
        user_group(user_id), {"type": "chat.subscribe", "chat_id": chat_id, "frame": frame}
    )


def user_unsubscribe(*, user_id: int, chat_id: int, frame: dict | None = None) -> None:
    """After commit, unsubscribe the user's sockets from the chat; `frame` is delivered first."""
    send_on_commit(
        user_group(user_id), {"type": "chat.unsubscribe", "chat_id": chat_id, "frame": frame}
    )


# ---------------------------------------------------------------------------
# Payload builders and emitters, one per event type of the contract. Services call these.
# ---------------------------------------------------------------------------
def message_payload(message) -> dict:
    """The REST message without `liked_by_me` (which depends on the reader)."""
    from messaging.serializers import MessageSerializer

    data = dict(MessageSerializer(message).data)
    data.pop("liked_by_me", None)
    return data


def chat_payload(chat) -> dict:
    return {
        "id": chat.pk,
        "name": chat.name,
        "description": chat.description,
        "is_private": chat.is_private,
        "capacity": chat.capacity,
    }


def message_created(message) -> None:
    chat_event(chat_id=message.chat_id, type="message.created", data=message_payload(message))


def message_updated(message) -> None:
    chat_event(chat_id=message.chat_id, type="message.updated", data=message_payload(message))


def message_deleted(*, chat_id: int, message_id: int) -> None:
    chat_event(chat_id=chat_id, type="message.deleted", data={"id": message_id})


def message_liked(*, message, user, liked: bool) -> None:
    data = {"id": message.pk, "like_count": message.like_count, "user": user_ref(user)}
    data["liked"] = liked
    chat_event(chat_id=message.chat_id, type="message.liked", data=data)


def chat_updated(chat) -> None:
    chat_event(chat_id=chat.pk, type="chat.updated", data=chat_payload(chat))


def chat_deleted(*, chat_id: int, member_ids) -> None:
    """Tell the chat's sockets, and unsubscribe every member's sockets with the same frame.

    A socket delivers whichever copy reaches it first and drops the other (the chat is no
    longer in its set), so each gets chat.deleted exactly once in either arrival order.
    """
    frame = event_frame(type="chat.deleted", chat_id=chat_id, data={"id": chat_id})
    send_on_commit(chat_group(chat_id), {"type": "chat.event", "frame": frame})
    for user_id in member_ids:
        user_unsubscribe(user_id=user_id, chat_id=chat_id, frame=frame)


def member_joined(*, chat_id: int, user, role: str) -> None:
    """The other members hear it in the chat group; the joiner's sockets subscribe and get it.

    The joiner's copy rides on the subscribe message: their sockets are not in the chat group
    yet when the chat-group copy is published (sockets drop that copy about themselves).
    """
    frame = event_frame(
        type="member.joined", chat_id=chat_id, data={"user": user_ref(user), "role": role}
    )
    user_subscribe(user_id=user.pk, chat_id=chat_id, frame=frame)
    send_on_commit(chat_group(chat_id), {"type": "chat.event", "frame": frame})


def member_left(*, chat_id: int, user, role: str) -> None:
    """The leaver's sockets get member.left about themselves, then stop hearing the chat.

    Their copy rides on the unsubscribe message, so they get it exactly once whichever of the
    two messages arrives first (sockets drop the chat-group copy about themselves).
    """
    frame = event_frame(
        type="member.left", chat_id=chat_id, data={"user": user_ref(user), "role": role}
    )
    user_unsubscribe(user_id=user.pk, chat_id=chat_id, frame=frame)
    send_on_commit(chat_group(chat_id), {"type": "chat.event", "frame": frame})
