"""Fixtures of the chats tests: recording live events as they would be sent."""

import pytest


class SentEvents(list):
    """(group, channel-layer message) pairs, in the order they were sent."""

    def frames(self, group_prefix: str = "chat.") -> list[tuple[str, str, dict]]:
        """(group, event type, data) of every client frame sent to groups with that prefix.

        The default, chat groups, counts each event once (the actor's own sockets get a copy
        through their `user.<id>` group as well).
        """
        return [
            (group, msg["frame"]["type"], msg["frame"]["data"])
            for group, msg in self
            if msg.get("frame") is not None and group.startswith(group_prefix)
        ]

    def types(self, group_prefix: str = "chat.") -> list[tuple[str, str]]:
        return [(group, type_) for group, type_, _ in self.frames(group_prefix)]


@pytest.fixture
def sent(monkeypatch) -> SentEvents:
    """Records what messaging.events sends; combine with django_capture_on_commit_callbacks."""
    calls = SentEvents()
    monkeypatch.setattr(
        "messaging.events._group_send", lambda group, msg: calls.append((group, msg))
    )
    return calls
