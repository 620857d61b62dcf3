"""Capturing live events in tests (as Zulip's capture_send_event_calls): the public way.

    with capture_send_event_calls() as sent:
        chat_leave(chat=chat, user=bob)
    assert sent.types() == [("chat.7", "member.left")]

What each emitter of live.events hands over once its transaction commits is recorded as a
(label, message) pair: `chat.<id>` with {"type": "chat.event", "frame"} (or "chat.events"
with "frames") for a chat's events, `user.<id>` with {"type": "user.event", "frame"} for a
per-user one and {"type": "user.close", "code"} for closing a user's sockets. (Sockets read
the frames from the event log; these records are what was stored and committed.) Combine
with pytest-django's `django_capture_on_commit_callbacks(execute=True)` when the test runs
inside a transaction (on-commit callbacks of a test transaction never run by themselves). The
`sent_events`
fixture (root conftest.py) wraps a whole test.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from live import events
from live.models import MembershipSpan


class SentEvents(list):
    """(label, message) pairs, in the order their transactions committed."""

    def frames(self, group_prefix: str = "chat.") -> list[tuple[str, str, dict]]:
        """(label, event type, data) of every frame whose label has that prefix (`chat.`:
        the chats' events; `user.`: per-user events)."""
        found = []
        for group, message in self:
            if not group.startswith(group_prefix):
                continue
            for frame in message.get("frames") or [message.get("frame")]:
                if frame is not None:
                    found.append((group, frame["type"], frame["data"]))
        return found

    def types(self, group_prefix: str = "chat.") -> list[tuple[str, str]]:
        return [(group, type_) for group, type_, _ in self.frames(group_prefix)]

    def of_type(self, type_: str | None = None) -> list[dict]:
        """The client frames of chat events (chat groups only), optionally of one type."""
        found = []
        for group, message in self:
            if not group.startswith("chat."):
                continue
            if message.get("type") == "chat.event":
                found.append(message["frame"])
            elif message.get("type") == "chat.events":
                found.extend(message["frames"])
        # Without `pos`, which depends on the event log's state (live/tests check it).
        return [
            {key: value for key, value in frame.items() if key != "pos"}
            for frame in found
            if type_ is None or frame["type"] == type_
        ]

    def closed_users(self) -> list[tuple[int, int]]:
        """(user id, close code) of every close_user_sockets sent."""
        return [
            (int(group.split(".", 1)[1]), message["code"])
            for group, message in self
            if message.get("type") == "user.close"
        ]


@contextmanager
def capture_send_event_calls() -> Iterator[SentEvents]:
    calls = SentEvents()
    events._captures.append(calls)
    try:
        yield calls
    finally:
        events._captures.remove(calls)


def chats_heard_by(user_id: int) -> set[int]:
    """Ids of the chats whose next events the user's sockets (and GET /events/) get: those
    where the user has an open membership span."""
    return set(
        MembershipSpan.objects.filter(user_id=user_id, end_id__isnull=True).values_list(
            "chat_id", flat=True
        )
    )
