"""Helpers of the live-event tests: sockets opened through the real ASGI application.

The tests are plain sync functions whose body runs in an event loop through `run_async`
(asgiref's async_to_sync), so no pytest async plugin is needed. Inside it, code wrapped in
sync_to_async runs back on the test's own thread with its database connection, and a
service's on-commit send lands on that same loop, in the in-memory channel layer the
sockets' hub listens to (conftest forces it; `get_channel_layer()` caches one instance per
test). The hub of that loop (live/hub.py) is woken on commit and stops with the loop.
"""

import functools
from urllib.parse import unquote, urlsplit

import orjson
from asgiref.sync import async_to_sync, sync_to_async
from asgiref.testing import ApplicationCommunicator
from django.db import transaction
from rest_framework_simplejwt.tokens import AccessToken

from chitchat.asgi import application
from live import hub

# Seconds to wait for an expected frame before failing (never reached when things work).
TIMEOUT = 5
SENTINEL = '{"type": "test.sentinel", "chat_id": 0, "data": {}}'


class WebsocketCommunicator(ApplicationCommunicator):
    """Channels' WebsocketCommunicator, reduced to what these tests use.

    `channels.testing` imports daphne (for its live-server test case) on import, and this
    project serves WebSockets with uvicorn; this is the same thin layer over asgiref's
    ApplicationCommunicator, without a dozen packages installed for one import.
    """

    def __init__(self, application, path: str) -> None:
        parts = urlsplit(path)
        scope = {
            "type": "websocket",
            "path": unquote(parts.path),
            "query_string": parts.query.encode(),
            "headers": [],
            "subprotocols": [],
        }
        super().__init__(application, scope)

    async def connect(self, timeout: float = TIMEOUT) -> tuple[bool, object]:
        """(True, subprotocol) when accepted, (False, close code) when refused."""
        await self.send_input({"type": "websocket.connect"})
        response = await self.receive_output(timeout)
        if response["type"] == "websocket.close":
            return False, response.get("code", 1000)
        assert response["type"] == "websocket.accept", response
        return True, response.get("subprotocol")

    async def send_to(self, *, text_data: str | None = None, bytes_data: bytes | None = None):
        if bytes_data is not None:
            await self.send_input({"type": "websocket.receive", "bytes": bytes_data})
        else:
            await self.send_input({"type": "websocket.receive", "text": text_data})

    async def send_json_to(self, data) -> None:
        await self.send_to(text_data=orjson.dumps(data).decode())

    async def receive_json_from(self, timeout: float = TIMEOUT):
        response = await self.receive_output(timeout)
        assert response["type"] == "websocket.send", response
        assert isinstance(response.get("text"), str), response
        return orjson.loads(response["text"])

    async def disconnect(self, code: int = 1000, timeout: float = TIMEOUT) -> None:
        await self.send_input({"type": "websocket.disconnect", "code": code})
        await self.wait(timeout)


def run_async(test):
    """Decorator: run an `async def` test body to completion from a sync pytest test."""

    @functools.wraps(test)
    def wrapper(*args, **kwargs):
        return async_to_sync(test)(*args, **kwargs)

    return wrapper


def token_for(user) -> str:
    return str(AccessToken.for_user(user))


class Sockets:
    """Opens sockets and closes every one of them at the end (`async with Sockets() as s`)."""

    def __init__(self) -> None:
        self._open: list[WebsocketCommunicator] = []
        self._of_user: dict[int, list[WebsocketCommunicator]] = {}

    async def __aenter__(self) -> "Sockets":
        return self

    async def __aexit__(self, *exc) -> None:
        for communicator in self._open:
            if not communicator.future.done():  # a timed-out receive cancels the socket
                await communicator.disconnect(timeout=TIMEOUT)

    async def raw(self, query: str) -> WebsocketCommunicator:
        """A socket at /ws/<query>, connected (the handshake accepted)."""
        communicator = WebsocketCommunicator(application, f"/ws/{query}")
        connected, _ = await communicator.connect(timeout=TIMEOUT)
        assert connected
        self._open.append(communicator)
        return communicator

    async def open(self, user) -> WebsocketCommunicator:
        """An authenticated socket of `user`, subscribed to all their chats."""
        communicator = await self.raw(f"?token={token_for(user)}")
        # A ping answered means connect() finished: the socket is in all its groups.
        await communicator.send_json_to({"type": "ping"})
        assert await communicator.receive_json_from(timeout=TIMEOUT) == {"type": "pong"}
        self._of_user.setdefault(user.pk, []).append(communicator)
        return communicator

    async def assert_quiet(self, *users) -> None:
        """Fail if any open socket of these users got a frame not yet read.

        The hub first handles everything committed or relayed so far (hub.settle); then a
        marker is written to each of the users' sockets the way the hub writes frames (through
        the socket's outbox), so anything written to a socket before it comes first.
        """
        found = hub.hub()
        await found.settle()
        for user in users:
            local = found.users.get(user.pk)
            consumers = list(local.sockets) if local is not None else []
            communicators = [c for c in self._of_user.get(user.pk, []) if not c.future.done()]
            assert len(consumers) == len(communicators), "a socket left the hub"
            for consumer in consumers:
                await found._send(consumer, None, {"type": "websocket.send", "text": SENTINEL})
            for communicator in communicators:
                assert await receive(communicator) == orjson.loads(SENTINEL)


async def settle() -> None:
    """Wait until this loop's hub has delivered everything committed so far."""
    await hub.hub().settle()


async def receive(communicator) -> dict:
    """The next frame, without its `pos` (the resumable-sync tests in live/tests read it
    with receive_with_pos)."""
    frame = await receive_with_pos(communicator)
    frame.pop("pos", None)
    return frame


async def receive_with_pos(communicator) -> dict:
    return await communicator.receive_json_from(timeout=TIMEOUT)


@sync_to_async
def committed(function, *args, **kwargs):
    """Run `function` in a transaction on the test's thread and commit (on-commit sends run)."""
    with transaction.atomic():
        return function(*args, **kwargs)
