"""Fixtures for the messaging tests: three users, a group chat, and captured live events."""

import pytest

from accounts.tests.factories import UserFactory
from chats.models import Membership
from chats.tests.factories import MembershipFactory, group_chat
from messaging.services import message_send


@pytest.fixture
def alice(db):
    return UserFactory(username="alice")


@pytest.fixture
def bob(db):
    return UserFactory(username="bob")


@pytest.fixture
def carol(db):
    return UserFactory(username="carol")


@pytest.fixture
def group(alice, bob):
    """A public group chat: alice owns it, bob is a member."""
    return group_chat(alice, members=[bob], name="general")


@pytest.fixture
def send():
    """send(chat, author, body="hi", **kw) -> Message, through the service (counters kept)."""

    def make(chat, author, body="hi", **kwargs):
        return message_send(chat=chat, author=author, body=body, **kwargs)[0]

    return make


def add_member(chat, user, role=Membership.Role.MEMBER):
    """A membership made directly (no events), the chat's member_count bumped."""
    return MembershipFactory(chat=chat, user=user, role=role)
