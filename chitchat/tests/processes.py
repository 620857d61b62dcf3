"""Real processes for the fault tests: the server (uvicorn), a private Redis, a private
PostgreSQL cluster, and a small HTTP client. Every wait polls with a bound (DEADLINE); every
process and temporary directory is removed by the ExitStack that started it, also on failure.

Never the shared services: Redis and PostgreSQL here run on free ports, in temporary
directories, and are the only ones these tests stop, kill or restart.
"""

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import ExitStack
from pathlib import Path

from django.conf import settings

# Every wait is bounded by this many seconds; none is reached when things work.
DEADLINE = 30
PG_BIN = Path("/usr/lib/postgresql/15/bin")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(condition, what: str, timeout: float = DEADLINE):
    """Poll `condition` until it returns something truthy; return that."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


_no_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http(method: str, url: str, body=None, token=None, headers=None, timeout=DEADLINE):
    """(status, decoded JSON body or None, response headers); never raises for a status."""
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    if token:
        all_headers["Authorization"] = f"Bearer {token}"
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers=all_headers, method=method)
    try:
        with _no_proxy.open(request, timeout=timeout) as response:
            status, content, response_headers = response.status, response.read(), response.headers
    except urllib.error.HTTPError as error:
        status, content, response_headers = error.code, error.read(), error.headers
    try:
        decoded = json.loads(content) if content else None
    except ValueError:
        decoded = None
    return status, decoded, response_headers


def server_env(**overrides: str) -> dict:
    """The production settings (DEBUG off, a fresh key), no throttles; the caller's database
    and Redis only if given."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "DEBUG", "SECRET_KEY", "JWT_SIGNING_KEY"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="chitchat.settings",
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        THROTTLE_RATES="anon=none,user=none,register=none,message=none",
        LOGIN_MAX_FAILURES="1000",
        EMAIL_URL="consolemail://",
        PYTHONUNBUFFERED="1",
    )
    env.update(overrides)
    return env


def sqlite_env(stack: ExitStack, *, migrate: bool = True, **overrides: str) -> dict:
    """server_env() on an SQLite file of its own (migrated unless told), removed afterwards."""
    directory = stack.enter_context(tempfile.TemporaryDirectory())
    env = server_env(DATABASE_URL=f"sqlite:///{directory}/db.sqlite3", **overrides)
    if migrate:
        manage(env, "migrate", "--noinput", "-v0")
    return env


def manage(env: dict, *args: str) -> None:
    subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )


class Server:
    """`uvicorn chitchat.asgi:application` in a subprocess on a free port (HTTP and /ws/)."""

    def __init__(self, stack: ExitStack, env: dict, options=("--no-access-log",)) -> None:
        self.env = env
        self.port = free_port()
        self.log = stack.enter_context(tempfile.TemporaryFile())  # noqa: SIM115
        command = [sys.executable, "-m", "uvicorn", "chitchat.asgi:application"]
        command += ["--host", "127.0.0.1", "--port", str(self.port), *options]
        self.process = subprocess.Popen(
            command, cwd=settings.BASE_DIR, env=env, stdout=self.log, stderr=subprocess.STDOUT
        )
        stack.callback(self.stop)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-6000:]

    def wait_ready(self) -> None:
        """Until the server answers HTTP at all (/healthz, whatever it says)."""

        def answers():
            assert self.process.poll() is None, f"server exited:\n{self.output()}"
            try:
                return http("GET", f"{self.url}/healthz", timeout=5)[0]
            except OSError:
                return None

        wait_until(answers, f"the server to answer\n{self.output()}")

    def request(self, method: str, path: str, body=None, token=None, headers=None):
        return http(method, f"{self.url}{path}", body=body, token=token, headers=headers)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=DEADLINE)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


class PrivateRedis:
    """A redis-server of its own on a free port, no persistence; stop() and start() again."""

    def __init__(self, stack: ExitStack) -> None:
        if not shutil.which("redis-server"):
            raise AssertionError("redis-server is not installed")
        self.port = free_port()
        self.process = None
        self.directory = stack.enter_context(tempfile.TemporaryDirectory())
        stack.callback(self.stop)
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def _pings(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                *("redis-server", "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--dir", self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(self._pings, "the private Redis to answer")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


class PrivatePostgres:
    """A PostgreSQL cluster of its own (initdb in a temporary directory, a free port, run as
    the `postgres` user when this runs as root); restart() stops and starts it."""

    def __init__(self, stack: ExitStack) -> None:
        if not (PG_BIN / "initdb").exists():
            raise AssertionError(f"PostgreSQL binaries not found in {PG_BIN}")
        self.port = free_port()
        self.root = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        self.data = self.root / "data"
        self.as_user = []
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
            os.chmod(self.root, 0o700)
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self._run(str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust")
        stack.callback(self.stop)
        self.start()

    def _run(self, *command: str) -> None:
        subprocess.run(
            [*self.as_user, *command], check=True, capture_output=True, timeout=120, cwd=self.root
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "log"),
            "-o", options, "-w", "-t", str(DEADLINE), "start",
        )  # fmt: skip

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")

    def restart(self) -> None:
        self.stop()
        self.start()

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def psql(self, sql: str, database: str = "postgres") -> str:
        result = subprocess.run(
            [
                *(str(PG_BIN / "psql"), "-h", "127.0.0.1", "-p", str(self.port)),
                *("-U", "postgres", "-d", database, "-tAc", sql),
            ],
            check=True,
            capture_output=True,
            text=True,
            timeout=DEADLINE,
        )
        return result.stdout.strip()
