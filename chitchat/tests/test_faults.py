"""Faults survived by a real server process: concurrent writes on the embedded SQLite, Redis
stopped and started again, PostgreSQL backends killed and the cluster restarted, and the
server itself killed mid-request (see processes.py: only private Redis/PostgreSQL are
stopped, never the shared ones)."""

import http.client
import json
import socket
import subprocess
import sys
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings

from chitchat.tests.processes import (
    DEADLINE,
    PrivatePostgres,
    PrivateRedis,
    Server,
    manage,
    server_env,
    sqlite_env,
    wait_until,
)

PASSWORD = "correct-horse-battery-staple"


def pytest_database_url(**options: str) -> str:
    """The pytest database (PostgreSQL), where the tables already are."""
    db = settings.DATABASES["default"]
    credentials = quote(db.get("USER") or "", safe="")
    if db.get("PASSWORD"):
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = db.get("HOST") or "127.0.0.1"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    query = "&".join(f"{key}={quote(value)}" for key, value in options.items())
    return f"postgres://{credentials}@{host}{port}/{quote(db['NAME'], safe='')}?{query}"


@pytest.fixture
def server_database(transactional_db):
    """env-maker for a server on this run's database: the pytest database on PostgreSQL (rows
    emptied after the test), a migrated SQLite file of its own otherwise."""
    if connection.vendor == "postgresql":
        return lambda stack, **overrides: server_env(
            DATABASE_URL=pytest_database_url(), **overrides
        )
    return sqlite_env


def register(server: Server, name: str) -> dict:
    status, body, _ = server.request(
        "POST",
        "/api/v1/auth/register/",
        {"username": name, "email": f"{name}@example.com", "password": PASSWORD},
    )
    assert status == 201, body
    return body


def create_chat(server: Server, token: str) -> int:
    status, body, _ = server.request("POST", "/api/v1/chats/", {"name": "faults"}, token=token)
    assert status == 201, body
    return body["id"]


def invariant_problems(env: dict) -> list[str]:
    """check_invariants() run against the server's database, in a process of its own."""
    code = (
        "import json; from chitchat.invariants import check_invariants as c; print(json.dumps(c()))"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


# --- SQLite: concurrent writes wait for the lock instead of failing -------------------------
def test_sqlite_concurrent_sends_and_refreshes_never_fail():
    with ExitStack() as stack:
        server = Server(stack, sqlite_env(stack))
        server.wait_ready()
        alice = register(server, "alice")
        token = alice["access"]
        chat_id = create_chat(server, token)

        def login():
            body = {"username": "alice", "password": PASSWORD}
            return server.request("POST", "/api/v1/auth/token/", body)

        def send(n: int):
            path = f"/api/v1/chats/{chat_id}/messages/"
            return server.request("POST", path, {"body": f"parallel {n}"}, token=token)

        def refresh(refresh_token: str):
            return server.request("POST", "/api/v1/auth/token/refresh/", {"refresh": refresh_token})

        with ThreadPoolExecutor(24) as pool:
            # 8 logins at once (each stores its refresh token) ...
            logins = list(pool.map(lambda _: login(), range(8)))
            assert [status for status, _, _ in logins] == [200] * 8, logins
            # ... then 16 sends and 8 refreshes (each rotates and blacklists a token) at once.
            sends = [pool.submit(send, n) for n in range(16)]
            refreshes = [pool.submit(refresh, body["refresh"]) for _, body, _ in logins]
            send_results = [future.result() for future in sends]
            refresh_results = [future.result() for future in refreshes]

        assert [status for status, _, _ in send_results] == [201] * 16, send_results
        assert [status for status, _, _ in refresh_results] == [200] * 8, refresh_results
        status, page, _ = server.request(
            "GET", f"/api/v1/chats/{chat_id}/messages/?page_size=50", token=token
        )
        assert status == 200
        assert sorted(m["body"] for m in page["results"]) == sorted(
            f"parallel {n}" for n in range(16)
        )
        assert invariant_problems(server.env) == []


# --- Redis stopped while serving -----------------------------------------------------------
def test_redis_stopped_and_started_again(server_database):
    from websockets.sync.client import connect

    with ExitStack() as stack:
        redis = PrivateRedis(stack)
        prefix = f"cc-faults-{uuid.uuid4().hex}"
        env = server_database(
            stack, REDIS_URL=redis.url, CACHE_KEY_PREFIX=prefix, CHANNEL_LAYER_PREFIX=prefix
        )
        server = Server(stack, env)
        server.wait_ready()
        assert server.request("GET", "/healthz")[0] == 200
        alice = register(server, "alice")
        chat_id = create_chat(server, alice["access"])
        socket = stack.enter_context(
            connect(
                f"ws://127.0.0.1:{server.port}/ws/?token={alice['access']}",
                open_timeout=DEADLINE,
                close_timeout=5,
                proxy=None,
            )
        )
        socket.send(json.dumps({"type": "ping"}))
        assert json.loads(socket.recv(timeout=DEADLINE)) == {"type": "pong"}

        redis.stop()
        # /healthz sees it at once; REST, login included, goes on.
        status, health, _ = server.request("GET", "/healthz")
        assert status == 503 and health["status"] == "unavailable", health
        status, login, _ = server.request(
            "POST", "/api/v1/auth/token/", {"username": "alice", "password": PASSWORD}
        )
        assert status == 200, login
        token = login["access"]
        status, sent, _ = server.request(
            "POST", f"/api/v1/chats/{chat_id}/messages/", {"body": "while down"}, token=token
        )
        assert status == 201, sent
        status, page, _ = server.request("GET", f"/api/v1/chats/{chat_id}/messages/", token=token)
        assert status == 200 and page["results"][0]["body"] == "while down"
        assert register(server, "bob")["user"]["username"] == "bob"

        redis.start()
        wait_until(lambda: server.request("GET", "/healthz")[0] == 200, "/healthz back to 200")
        # The socket opened before the outage got the message sent while Redis was down (the
        # hub reads frames from the event log, in PostgreSQL), and keeps getting the new ones.
        received = threading.Event()
        frames = []

        def read_frames():
            try:
                while True:
                    frame = json.loads(socket.recv(timeout=DEADLINE))
                    frames.append(frame)
                    if frame["type"] == "message.created" and frame["data"]["body"] == "back":
                        received.set()
                        return
            except Exception:
                return

        reader = threading.Thread(target=read_frames, daemon=True)
        reader.start()

        def delivered() -> bool:
            status, _, _ = server.request(
                "POST", f"/api/v1/chats/{chat_id}/messages/", {"body": "back"}, token=token
            )
            assert status == 201
            return received.wait(1)

        wait_until(delivered, "a live event after Redis came back")
        reader.join(DEADLINE)
        bodies = [f["data"]["body"] for f in frames if f["type"] == "message.created"]
        assert bodies[0] == "while down" and bodies[-1] == "back", bodies


# --- PostgreSQL: a killed backend, a restarted cluster ---------------------------------------
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_killed_database_backends_are_replaced():
    application = f"cc-faults-{uuid.uuid4().hex[:12]}"
    env = server_env(
        DATABASE_URL=pytest_database_url(application_name=application),
        DATABASE_POOL_MIN="2",
        DATABASE_POOL_MAX="4",
    )
    with ExitStack() as stack:
        server = Server(stack, env)
        server.wait_ready()
        alice = register(server, "alice")
        chat_id = create_chat(server, alice["access"])

        def kill_backends() -> int:
            # Only the backends of this server: its application_name is unique to this test.
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE application_name = %s AND pid <> pg_backend_pid()",
                    [application],
                )
                return cursor.fetchone()[0]

        for round_ in range(2):
            assert kill_backends() >= 1
            for n in range(6):
                status, body, _ = server.request(
                    "POST",
                    f"/api/v1/chats/{chat_id}/messages/",
                    {"body": f"after kill {round_}.{n}"},
                    token=alice["access"],
                )
                assert status == 201, (body, server.output())
        status, page, _ = server.request(
            "GET", f"/api/v1/chats/{chat_id}/messages/", token=alice["access"]
        )
        assert status == 200 and len(page["results"]) == 12


@pytest.mark.postgres
def test_postgresql_restarted_while_serving():
    with ExitStack() as stack:
        cluster = PrivatePostgres(stack)
        cluster.psql("CREATE DATABASE chitchat")
        env = server_env(
            DATABASE_URL=cluster.url("chitchat"),
            DATABASE_POOL_MIN="2",
            DATABASE_POOL_MAX="4",
            DATABASE_POOL_TIMEOUT="2",
        )
        manage(env, "migrate", "--noinput", "-v0")
        server = Server(stack, env)
        server.wait_ready()
        alice = register(server, "alice")
        chat_id = create_chat(server, alice["access"])
        # Every pooled connection is in use at least once before the restart.
        with ThreadPoolExecutor(4) as pool:
            statuses = list(
                pool.map(
                    lambda _: server.request("GET", "/api/v1/chats/", token=alice["access"])[0],
                    range(8),
                )
            )
        assert statuses == [200] * 8

        # Down: requests wait for a connection up to DATABASE_POOL_TIMEOUT, then 503.
        cluster.stop()
        status, body, headers = server.request(
            "POST", f"/api/v1/chats/{chat_id}/messages/", {"body": "lost"}, token=alice["access"]
        )
        assert status == 503, (body, server.output())
        assert body["code"] == "service_unavailable" and headers["Retry-After"]
        assert server.request("GET", "/healthz")[0] == 503
        cluster.start()
        for n in range(6):
            status, body, _ = server.request(
                "POST",
                f"/api/v1/chats/{chat_id}/messages/",
                {"body": f"after restart {n}"},
                token=alice["access"],
            )
            assert status == 201, (body, server.output())
        status, login, _ = server.request(
            "POST", "/api/v1/auth/token/", {"username": "alice", "password": PASSWORD}
        )
        assert status == 200, login
        assert server.request("GET", "/healthz")[0] == 200


# --- the server killed mid-request ---------------------------------------------------------
def test_server_killed_mid_request_leaves_counters_consistent(server_database):
    with ExitStack() as stack:
        env = server_database(stack)
        server = Server(stack, env)
        server.wait_ready()
        users = [register(server, f"user{n}") for n in range(4)]
        chat_id = create_chat(server, users[0]["access"])
        for user in users[1:]:
            status, _, _ = server.request(
                "POST", f"/api/v1/chats/{chat_id}/join/", token=user["access"]
            )
            assert status == 200
        stop = threading.Event()
        outcomes = {"sent": 0, "liked": 0, "failed": 0}
        lock = threading.Lock()

        def client(user: dict, n: int) -> None:
            token = user["access"]
            while not stop.is_set():
                try:
                    status, body, _ = server.request(
                        "POST",
                        f"/api/v1/chats/{chat_id}/messages/",
                        {"body": f"load {n}"},
                        token=token,
                    )
                    assert status == 201, body
                    with lock:
                        outcomes["sent"] += 1
                    status, body, _ = server.request(
                        "POST", f"/api/v1/messages/{body['id']}/like/", token=token
                    )
                    assert status == 200, body
                    with lock:
                        outcomes["liked"] += 1
                except (OSError, http.client.HTTPException):  # the server died mid-answer
                    with lock:
                        outcomes["failed"] += 1
                    return

        with ThreadPoolExecutor(12) as pool:
            futures = [pool.submit(client, users[n % 4], n) for n in range(12)]
            wait_until(lambda: outcomes["liked"] >= 30, "some load before the kill")
            server.kill()
            stop.set()
            for future in futures:
                future.result()

        assert outcomes["sent"] >= 30
        assert invariant_problems(env) == []


# --- /healthz against a cache that is down or never answers ---------------------------------
@pytest.mark.django_db
@pytest.mark.parametrize("silent", [False, True])
def test_healthz_is_503_while_the_cache_is_unreachable(api_client, silent):
    """The project's Redis cache options, on a port where nothing listens or where nothing
    ever answers: /healthz says 503 (within the options' timeouts), it does not hang."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        if silent:
            listener.listen(16)  # the kernel accepts; nothing ever answers
        unreachable = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": f"redis://127.0.0.1:{listener.getsockname()[1]}/0",
                "OPTIONS": settings.REDIS_CACHE_OPTIONS,
            }
        }
        result = {}

        def probe():
            with override_settings(CACHES=unreachable):
                result["response"] = api_client.get("/healthz")

        thread = threading.Thread(target=probe, daemon=True)
        thread.start()
        thread.join(DEADLINE)
        assert not thread.is_alive(), "/healthz hung on the cache"
    response = result["response"]
    assert response.status_code == 503
    assert response.json()["cache"] == "unavailable"
