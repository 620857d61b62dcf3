"""Live events: every payload pushed over WebSockets is built here, and sent only on commit.

Services call these functions inside their transaction; nothing is sent until it commits,
and a rolled-back change sends nothing. If the channel layer is down the change still
stands: the event is lost and logged (clients catch up with ?after=).

Groups: `chat.<id>` holds the sockets of a chat's members; `user.<id>` the sockets of one
user, used to (un)subscribe them from chat groups wherever they live.
"""

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)


def chat_group(chat_id: int) -> str:
    return f"chat.{chat_id}"


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def user_ref(user) -> dict:
    return {"id": user.pk, "username": user.username}


def event_frame(*, type: str, chat_id: int, data: dict) -> dict:
    """The frame a client receives: {"type", "chat_id", "data"}."""
    return {"type": type, "chat_id": chat_id, "data": data}


def _group_send(group: str, message: dict) -> None:
    try:
        layer = get_channel_layer()
        if layer is not None:
            async_to_sync(layer.group_send)(group, message)
    except Exception:
        logger.exception("live event lost: could not send to %s", group)


def send_on_commit(group: str, message: dict) -> None:
    """Send a channel-layer message to a group once the current transaction commits."""
    transaction.on_commit(lambda: _group_send(group, message))


def chat_event(*, chat_id: int, type: str, data: dict) -> None:
    """Push an event to every socket subscribed to the chat, after commit."""
    frame = event_frame(type=type, chat_id=chat_id, data=data)
    send_on_commit(chat_group(chat_id), {"type": "chat.event", "frame": frame})


def user_subscribe(*, user_id: int, chat_id: int) -> None:
    """After commit, subscribe the user's open sockets (in any process) to the chat."""
    send_on_commit(user_group(user_id), {"type": "chat.subscribe", "chat_id": chat_id})


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
    """Tell the chat's sockets, then unsubscribe every member's sockets."""
    chat_event(chat_id=chat_id, type="chat.deleted", data={"id": chat_id})
    for user_id in member_ids:
        user_unsubscribe(user_id=user_id, chat_id=chat_id)


def member_joined(*, chat_id: int, user, role: str) -> None:
    """Subscribe the new member's sockets first, so they see their own member.joined."""
    user_subscribe(user_id=user.pk, chat_id=chat_id)
    chat_event(chat_id=chat_id, type="member.joined", data={"user": user_ref(user), "role": role})


def member_left(*, chat_id: int, user, role: str) -> None:
    """The leaver's sockets get member.left about themselves, then stop hearing the chat."""
    frame = event_frame(
        type="member.left", chat_id=chat_id, data={"user": user_ref(user), "role": role}
    )
    user_unsubscribe(user_id=user.pk, chat_id=chat_id, frame=frame)
    send_on_commit(chat_group(chat_id), {"type": "chat.event", "frame": frame})
