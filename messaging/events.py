"""Live events: every payload pushed over WebSockets is built here, and sent only on commit.

Services call these functions inside their transaction; nothing is sent until it commits,
and a rolled-back change sends nothing. If the channel layer is down the change still
stands: the event is lost and logged (clients catch up with ?after=).

Groups: `chat.<id>` holds the sockets of a chat's members; `user.<id>` the sockets of one
user, used to (un)subscribe them from chat groups wherever they live. Channel-layer messages:
`{"type": "chat.event", "frame", "id"}` to a chat group (sometimes also to a user group: see
`_subscribed_in_this_transaction`);
`{"type": "chat.subscribe", "chat_id"}` and `{"type": "chat.unsubscribe", "chat_id", "frame",
"id"}` to a user group, where `frame` (or None) is the last event the socket delivers for
that chat (the leaver's own member.left, or chat.deleted). A frame that reaches a socket by
two ways carries one `id` both ways, and the socket delivers it once
(messaging/consumers.py).
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
    _send_chat_frame(chat_id, frame, _new_event_id())


def user_subscribe(*, user_id: int, chat_id: int) -> None:
    """After commit, subscribe the user's open sockets (in any process) to the chat."""
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


# ---------------------------------------------------------------------------
# Payload builders and emitters, one per event type of the contract. Services call these.
# ---------------------------------------------------------------------------
def message_payload(message) -> dict:
    """The REST message (from an instance or its REST body) without `liked_by_me`, which
    depends on the reader. Built by the same function as the REST body, so they cannot drift."""
    from messaging.serializers import message_data

    data = dict(message) if isinstance(message, dict) else message_data(message)
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
    """`message`: an instance, or the REST body of one (the fast send path has no instance)."""
    data = message_payload(message)
    chat_event(chat_id=data["chat_id"], type="message.created", data=data)


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

    A socket delivers whichever copy reaches it first and drops the other (same event id),
    so each gets chat.deleted exactly once whatever the arrival order.
    """
    frame = event_frame(type="chat.deleted", chat_id=chat_id, data={"id": chat_id})
    event_id = _new_event_id()
    _send_chat_frame(chat_id, frame, event_id)
    for user_id in member_ids:
        user_unsubscribe(user_id=user_id, chat_id=chat_id, frame=frame, event_id=event_id)


def member_joined(*, chat_id: int, user, role: str) -> None:
    """Subscribe the new member's sockets, then tell the chat (the joiner included)."""
    user_subscribe(user_id=user.pk, chat_id=chat_id)
    chat_event(chat_id=chat_id, type="member.joined", data={"user": user_ref(user), "role": role})


def member_left(*, chat_id: int, user, role: str) -> None:
    """The leaver's sockets get member.left about themselves, then stop hearing the chat.

    Their copy rides on the unsubscribe message and the chat hears the same event: a leaver's
    socket delivers whichever arrives first and drops the other (same event id), so it gets
    it exactly once whatever the arrival order, and nothing of the chat after it.
    """
    frame = event_frame(
        type="member.left", chat_id=chat_id, data={"user": user_ref(user), "role": role}
    )
    event_id = _new_event_id()
    user_unsubscribe(user_id=user.pk, chat_id=chat_id, frame=frame, event_id=event_id)
    _send_chat_frame(chat_id, frame, event_id)
