"""Live events with Redis: a dead Redis never fails a request, and two real server processes
share events through one PostgreSQL database and one Redis."""

import json
import logging
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from contextlib import ExitStack
from urllib.parse import quote

import pytest
from django.conf import settings
from rest_framework_simplejwt.tokens import AccessToken

from accounts.tests.factories import UserFactory
from chats.models import Membership
from chats.tests.factories import group_chat
from messaging.models import Message

# Every wait below is bounded by this many seconds; none is reached when things work.
DEADLINE = 30


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_layer(url: str) -> dict:
    return {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [url], "prefix": f"test-{uuid.uuid4().hex}"},
        }
    }


def run_bounded(function):
    """Run `function` in a thread; fail (instead of hanging the suite) if it does not end."""
    result = {}

    def target():
        from django.db import connection

        try:
            result["value"] = function()
        finally:
            connection.close()

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(DEADLINE)
    assert not thread.is_alive(), "the request hung on the channel layer"
    return result["value"]


@pytest.mark.django_db(transaction=True)
def test_requests_succeed_when_redis_is_down(settings, client_for, caplog):
    settings.CHANNEL_LAYERS = redis_layer(f"redis://127.0.0.1:{free_port()}/0")  # nobody there
    alice, bob = UserFactory(), UserFactory()
    chat = group_chat(alice)
    client, bobs = client_for(alice), client_for(bob)

    with caplog.at_level(logging.ERROR, logger="live.events"):
        response = run_bounded(
            lambda: client.post(f"/api/v1/chats/{chat.pk}/messages/", {"body": "hi"}, format="json")
        )
        assert response.status_code == 201, response.content
        assert Message.objects.filter(pk=response.json()["id"], body="hi").exists()

        response = run_bounded(lambda: bobs.post(f"/api/v1/chats/{chat.pk}/join/", format="json"))
        assert response.status_code == 200
        assert Membership.objects.filter(chat=chat, user=bob).exists()
        response = run_bounded(lambda: bobs.post(f"/api/v1/chats/{chat.pk}/leave/", format="json"))
        assert response.status_code == 204
        assert not Membership.objects.filter(chat=chat, user=bob).exists()
        # Chat events never touch Redis (sockets read them from the event log).
        assert not [r for r in caplog.records if r.getMessage().startswith("live event lost")]

        # Closing a user's sockets goes through the channel layer: lost, and logged.
        def deactivate():
            bob.is_active = False
            bob.save(update_fields=["is_active"])

        run_bounded(deactivate)

    lost = [r for r in caplog.records if r.getMessage().startswith("live event lost")]
    assert lost


@pytest.mark.django_db(transaction=True)
def test_a_redis_that_never_answers_does_not_hold_requests(settings, client_for):
    """A Redis that accepts connections and then says nothing: chat events do not use it,
    and closing sockets gives up after LIVE_EVENT_SEND_TIMEOUT."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)  # the kernel completes handshakes; nothing ever reads or answers
        settings.CHANNEL_LAYERS = redis_layer(f"redis://127.0.0.1:{silent.getsockname()[1]}/0")
        settings.LIVE_EVENT_SEND_TIMEOUT = 0.5
        alice = UserFactory()
        chat = group_chat(alice)
        client = client_for(alice)
        response = run_bounded(
            lambda: client.post(f"/api/v1/chats/{chat.pk}/messages/", {"body": "hi"}, format="json")
        )
        # Closing the user's sockets is sent through the layer: it gives up, the save stands.
        alice.is_active = False
        run_bounded(lambda: alice.save(update_fields=["is_active"]))
    assert response.status_code == 201
    assert Message.objects.filter(chat=chat).count() == 1


# --- two real server processes ------------------------------------------------------------
def database_url() -> str:
    db = settings.DATABASES["default"]
    credentials = quote(db.get("USER") or "", safe="")
    if db.get("PASSWORD"):
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = db.get("HOST") or "127.0.0.1"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{credentials}@{host}{port}/{quote(db['NAME'], safe='')}"


class Server:
    """`uvicorn chitchat.asgi:application` in a subprocess, on a free port."""

    def __init__(self, env: dict) -> None:
        self.port = free_port()
        # Lives as long as the process; closed in stop(). A file, not a pipe nobody drains.
        self.log = tempfile.TemporaryFile()  # noqa: SIM115
        command = [sys.executable, "-m", "uvicorn", "chitchat.asgi:application"]
        command += ["--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning"]
        self.process = subprocess.Popen(
            command,
            cwd=settings.BASE_DIR,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-4000:]

    def wait_ready(self) -> None:
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"server exited:\n{self.output()}"
            try:
                status, _ = http("GET", f"{self.url}/healthz")
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"server not ready in {DEADLINE}s:\n{self.output()}")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.log.close()


_no_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http(method: str, url: str, body=None, token: str | None = None) -> tuple[int, dict | None]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with _no_proxy.open(request, timeout=DEADLINE) as response:
            content = response.read()
            return response.status, json.loads(content) if content else None
    except urllib.error.HTTPError as error:
        return error.code, None


def open_socket(stack: ExitStack, server: Server, user):
    """A socket of `user` on `server`, closed when `stack` closes."""
    from websockets.sync.client import connect

    ws = stack.enter_context(
        connect(
            f"ws://127.0.0.1:{server.port}/ws/?token={AccessToken.for_user(user)}",
            open_timeout=DEADLINE,
            close_timeout=5,
            proxy=None,
        )
    )
    ws.send(json.dumps({"type": "ping"}))
    assert json.loads(ws.recv(timeout=DEADLINE)) == {"type": "pong"}
    return ws


def next_frame(ws) -> dict:
    return json.loads(ws.recv(timeout=DEADLINE))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_events_cross_server_processes():
    redis_url = os.environ.get("REDIS_URL")
    if not redis_url:
        pytest.skip("needs Redis (set REDIS_URL); .ci/run does")
    alice, bob, carol = UserFactory(), UserFactory(), UserFactory()
    chat = group_chat(alice, members=[bob])
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),  # the test database, where the rows above are
        "REDIS_URL": redis_url,
        "SECRET_KEY": settings.SECRET_KEY,
        "JWT_SIGNING_KEY": settings.SIMPLE_JWT["SIGNING_KEY"],
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        # Private to this run: tests of other checkouts may share the Redis.
        "CHANNEL_LAYER_PREFIX": f"chitchat-test-{uuid.uuid4().hex}",
        "CACHE_KEY_PREFIX": f"chitchat-test-{uuid.uuid4().hex}",
        "DATABASE_POOL_MIN": "1",
        "DATABASE_POOL_MAX": "4",
    }
    with ExitStack() as stack:  # the servers are stopped (killed if need be) whatever happens
        first = Server(env)
        stack.callback(first.stop)
        second = Server(env)
        stack.callback(second.stop)
        first.wait_ready()
        second.wait_ready()
        bob_ws = open_socket(stack, second, bob)
        carol_ws = open_socket(stack, second, carol)
        alice_ws = open_socket(stack, first, alice)

        # A message posted to the first process reaches a socket held by the second.
        status, message = http(
            "POST",
            f"{first.url}/api/v1/chats/{chat.pk}/messages/",
            {"body": "across"},
            token=str(AccessToken.for_user(alice)),
        )
        assert status == 201
        frame = next_frame(bob_ws)
        assert frame["type"] == "message.created" and frame["chat_id"] == chat.pk
        assert frame["data"]["id"] == message["id"] and frame["data"]["body"] == "across"
        assert next_frame(alice_ws)["data"]["id"] == message["id"]

        # Typing on the first process reaches the other member on the second.
        alice_ws.send(json.dumps({"type": "typing", "chat_id": chat.pk}))
        assert next_frame(bob_ws) == {
            "type": "typing",
            "chat_id": chat.pk,
            "data": {"user": {"id": alice.pk, "username": alice.username}},
        }

        # Joining through the first process subscribes carol's socket on the second.
        carol_token = str(AccessToken.for_user(carol))
        status, _ = http("POST", f"{first.url}/api/v1/chats/{chat.pk}/join/", token=carol_token)
        assert status == 200
        assert next_frame(carol_ws)["type"] == "member.joined"
        status, _ = http(
            "POST",
            f"{first.url}/api/v1/chats/{chat.pk}/messages/",
            {"body": "welcome"},
            token=str(AccessToken.for_user(alice)),
        )
        assert status == 201
        assert next_frame(carol_ws)["data"]["body"] == "welcome"
