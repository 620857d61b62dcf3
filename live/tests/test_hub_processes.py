"""Two real server processes (uvicorn, chitchat.asgi) on one PostgreSQL database: six
senders post through the HTTP API into several chats while a user joins and leaves some of
them; sockets on both processes and a reader polling GET /events/?since= each get every
event of their user exactly once, in pos order, the same frames as the log."""

import json
import os
import random
import threading
import time
import uuid
from contextlib import ExitStack

import pytest
from django.conf import settings
from rest_framework_simplejwt.tokens import AccessToken

from accounts.tests.factories import UserFactory
from chats.services import chat_create
from live import log
from messaging.tests.test_live_redis import DEADLINE, Server, database_url, http

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


class SocketReader:
    """A socket of `user` on `server` (resuming from `since`), read by a thread."""

    def __init__(self, stack: ExitStack, server: Server, user, since: str) -> None:
        from websockets.sync.client import connect

        self.frames: list[dict] = []
        self.ws = stack.enter_context(
            connect(
                f"ws://127.0.0.1:{server.port}/ws/?token={AccessToken.for_user(user)}"
                f"&since={since}",
                open_timeout=DEADLINE,
                close_timeout=5,
                proxy=None,
            )
        )
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        try:
            for raw in self.ws:
                self.frames.append(json.loads(raw))
        except Exception:  # closed at the end of the test
            return


def poll_events(url: str, token: str, since: str, found: list, stop: threading.Event):
    pos = since
    while True:
        finished = stop.is_set()
        while True:
            status, page = http("GET", f"{url}/api/v1/events/?since={pos}&limit=50", token=token)
            assert status == 200, page
            found.extend(page["events"])
            pos = page["pos"]
            if not page["has_more"]:
                break
        if finished:
            return
        time.sleep(0.01)


def test_two_processes_six_senders_sockets_and_a_poller_get_each_event_once_in_order():
    redis_url = os.environ.get("REDIS_URL")
    if not redis_url:
        pytest.skip("needs Redis (set REDIS_URL); .ci/run does")
    watcher = UserFactory(username="watcher")
    rover = UserFactory(username="rover")
    senders = UserFactory.create_batch(6)
    chats = [
        chat_create(creator=watcher, name=f"c{i}", member_ids=[s.pk for s in senders])
        for i in range(5)
    ]
    start = log.current_position()
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REDIS_URL": redis_url,
        "SECRET_KEY": settings.SECRET_KEY,
        "JWT_SIGNING_KEY": settings.SIMPLE_JWT["SIGNING_KEY"],
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "CHANNEL_LAYER_PREFIX": f"chitchat-test-{uuid.uuid4().hex}",
        "CACHE_KEY_PREFIX": f"chitchat-test-{uuid.uuid4().hex}",
        "THROTTLE_RATES": "anon=100000/min,user=100000/min,message=100000/s",
        "DATABASE_POOL_MIN": "1",
        "DATABASE_POOL_MAX": "8",
    }
    per_sender = 15
    with ExitStack() as stack:
        servers = [Server(env), Server(env)]
        for server in servers:
            stack.callback(server.stop)
        for server in servers:
            server.wait_ready()
        readers = {
            (user.username, index): SocketReader(stack, server, user, start)
            for user in (watcher, rover)
            for index, server in enumerate(servers)
        }
        polled: list[dict] = []
        stop = threading.Event()
        poller = threading.Thread(
            target=poll_events,
            args=(servers[1].url, str(AccessToken.for_user(watcher)), start, polled, stop),
            daemon=True,
        )
        poller.start()
        errors: list[str] = []

        def send(user, seed):
            rng, token = random.Random(seed), str(AccessToken.for_user(user))
            for i in range(per_sender):
                server, chat = rng.choice(servers), rng.choice(chats)
                status, _ = http(
                    "POST",
                    f"{server.url}/api/v1/chats/{chat.pk}/messages/",
                    {"body": f"{user.pk}:{i}"},
                    token=token,
                )
                if status != 201:
                    errors.append(f"send {status}")

        def roam():
            rng, token = random.Random(99), str(AccessToken.for_user(rover))
            for _ in range(12):
                server, chat = rng.choice(servers), rng.choice(chats[:3])
                for action in ("join", "leave"):
                    status, _ = http(
                        "POST", f"{server.url}/api/v1/chats/{chat.pk}/{action}/", token=token
                    )
                    if status not in (200, 204):
                        errors.append(f"{action} {status}")
                    time.sleep(rng.random() * 0.05)

        workers = [threading.Thread(target=send, args=(u, n)) for n, u in enumerate(senders)]
        workers.append(threading.Thread(target=roam))
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(120)
        assert not errors
        stop.set()
        poller.join(60)

        expected = {}
        for user in (watcher, rover):
            texts, has_more = log.events_after(
                user_id=user.pk, since=log.parse_pos(start), limit=1000
            )
            assert not has_more
            expected[user.username] = [json.loads(text) for text in texts]
        created = [f for f in expected["watcher"] if f["type"] == "message.created"]
        assert len(created) == 6 * per_sender
        assert [f["type"] for f in expected["rover"]].count("member.left") == 12

        deadline = time.monotonic() + DEADLINE
        for (username, _), reader in readers.items():
            while len(reader.frames) < len(expected[username]) and time.monotonic() < deadline:
                time.sleep(0.05)
        time.sleep(0.5)  # anything extra (a duplicate) would have come by now
        for (username, index), reader in readers.items():
            assert reader.frames == expected[username], (username, index)
        assert polled == expected["watcher"]
        positions = [log.parse_pos(f["pos"]) for f in polled]
        assert positions == sorted(set(positions))
