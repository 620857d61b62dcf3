"""Factories for messages and likes, through the services so every counter stays right.

A test that needs a message in some state sends it (MessageFactory) and likes it
(LikeFactory) as a client would; it never writes Message or Like rows, or the chat's
counters, by hand (the invariant check after each test would catch that).
"""

import factory

from accounts.tests.factories import UserFactory
from chats.tests.factories import group_chat
from messaging.models import Like, Message
from messaging.services import message_like, message_send


class MessageFactory(factory.django.DjangoModelFactory):
    """A message sent through messaging.services.message_send.

    MessageFactory(chat=chat, author=user, body="hi"): `author` must be a member (else the
    service refuses, as the API would). Without `author`, the chat's creator sends; without
    `chat`, the author (a new user if none) sends into a new group chat of their own.
    """

    class Meta:
        model = Message

    body = factory.Sequence(lambda n: f"message {n}")
    chat = None
    author = None
    client_id = None

    @classmethod
    def _create(cls, model_class, *, body, chat=None, author=None, client_id=None, **fields):
        if fields:
            raise TypeError(
                f"MessageFactory sends through the service; it cannot set {sorted(fields)}"
            )
        if chat is None:
            author = author or UserFactory()
            chat = group_chat(author)
        elif author is None:
            author = chat.created_by
        message, _ = message_send(chat=chat, author=author, body=body, client_id=client_id)
        return message


class LikeFactory(factory.django.DjangoModelFactory):
    """A like through messaging.services.message_like (the message's like_count follows).

    LikeFactory(message=message, user=user); without `message`, a new message is liked.
    """

    class Meta:
        model = Like

    message = factory.SubFactory(MessageFactory)
    user = factory.SubFactory(UserFactory)

    @classmethod
    def _create(cls, model_class, *, message, user, **fields):
        if fields:
            raise TypeError(
                f"LikeFactory likes through the service; it cannot set {sorted(fields)}"
            )
        message_like(message=message, user=user)
        return Like.objects.get(message=message, user=user)
