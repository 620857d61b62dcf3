"""Live events of chats and memberships, built from chats.rows and sent through live.events
(only once the service's transaction commits)."""

from chats.rows import chat_event_body, user_ref
from live import events as live


def member_joined(*, chat_id: int, user, role: str) -> None:
    """Subscribe the new member's sockets, then tell the chat (the joiner included)."""
    live.user_subscribe(user_id=user.pk, chat_id=chat_id)
    live.chat_event(
        chat_id=chat_id, type="member.joined", data={"user": user_ref(user), "role": role}
    )


def member_left(*, chat_id: int, user, role: str) -> None:
    """The chat hears member.left; the leaver's sockets get it once, then nothing more."""
    frame = live.event_frame(
        type="member.left", chat_id=chat_id, data={"user": user_ref(user), "role": role}
    )
    live.user_unsubscribe_with_frame(user_ids=[user.pk], chat_id=chat_id, frame=frame)


def chat_updated(chat) -> None:
    live.chat_event(chat_id=chat.pk, type="chat.updated", data=chat_event_body(chat))


def chat_deleted(*, chat_id: int, member_ids) -> None:
    """Every socket of the chat gets chat.deleted once, and its members stop hearing it."""
    frame = live.event_frame(type="chat.deleted", chat_id=chat_id, data={"id": chat_id})
    live.user_unsubscribe_with_frame(user_ids=member_ids, chat_id=chat_id, frame=frame)
