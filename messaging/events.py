"""Live events of messages, built from messaging.rows and sent through live.events (only
once the service's transaction commits)."""

from chats.rows import user_ref
from live import events as live
from messaging.rows import message_event_body


def message_created(message) -> None:
    """`message`: an instance (author loaded) or a message_rows row."""
    data = message_event_body(message)
    live.chat_event(chat_id=data["chat_id"], type="message.created", data=data)


def message_updated(message) -> None:
    data = message_event_body(message)
    live.chat_event(chat_id=data["chat_id"], type="message.updated", data=data)


def message_deleted(*, chat_id: int, message_id: int) -> None:
    live.chat_event(chat_id=chat_id, type="message.deleted", data={"id": message_id})


def messages_deleted(*, chat_id: int, message_ids: list[int]) -> None:
    """A message.deleted per message, in one channel-layer message for the chat (purges)."""
    live.chat_event_batch(
        chat_id=chat_id, type="message.deleted", datas=[{"id": pk} for pk in message_ids]
    )


def message_liked(*, message, user, liked: bool) -> None:
    data = {"id": message.pk, "like_count": message.like_count, "user": user_ref(user)}
    data["liked"] = liked
    live.chat_event(chat_id=message.chat_id, type="message.liked", data=data)


def chat_read(*, chat_id: int, user, message_id: int, unread_count: int) -> None:
    """To the reader's own sockets (their other devices): the marker moved. mention_count is
    0 until messages carry mentions."""
    data = {"message_id": message_id, "unread_count": unread_count, "mention_count": 0}
    live.user_event(user_id=user.pk, chat_id=chat_id, type="chat.read", data=data)


def message_reacted(*, reaction, count: int, reacted: bool) -> None:
    """`reaction`: a Reaction with `message` (or its chat_id) and `user` loaded."""
    data = {"id": reaction.message_id, "emoji": reaction.emoji, "count": count}
    data.update(user=user_ref(reaction.user), reacted=reacted)
    live.chat_event(chat_id=reaction.message.chat_id, type="message.reacted", data=data)


def message_pinned(*, message, by, pinned: bool) -> None:
    data = {"id": message.pk, "pinned": pinned, "by": user_ref(by)}
    live.chat_event(chat_id=message.chat_id, type="message.pinned", data=data)
