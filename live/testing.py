"""Capturing live events in tests (as Zulip's capture_send_event_calls): the public way.

    with capture_send_event_calls() as sent:
        chat_leave(chat=chat, user=bob)
    assert sent.types() == [("chat.7", "member.left")]

Every channel-layer message a service would send after its commit is recorded as
(group, message) instead of being sent. Combine with pytest-django's
`django_capture_on_commit_callbacks(execute=True)` when the test runs inside a transaction
(on-commit callbacks of a test transaction never run by themselves). The `sent_events`
fixture (root conftest.py) wraps a whole test.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from live import events


class SentEvents(list):
    """(group, channel-layer message) pairs, in the order they were sent."""

    def frames(self, group_prefix: str = "chat.") -> list[tuple[str, str, dict]]:
        """(group, event type, data) of every client frame sent to groups with that prefix.

        The default, chat groups, counts each event once (the actor's own sockets may get a
        copy through their `user.<id>` group as well).
        """
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
