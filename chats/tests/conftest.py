"""Fixtures of the chats tests (live events: the root `sent_events` fixture)."""
