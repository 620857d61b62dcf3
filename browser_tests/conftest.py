"""Fixtures for the browser tests: a live server, Debian's Chromium, people who sign in.

The server is a uvicorn subprocess (HTTP and /ws/ in one process) on a free port, on its own
SQLite database in a temporary folder, whatever DATABASE_URL the shell has. The browser is
Debian's `chromium` package driven by Playwright; no browser is ever downloaded.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "browser-test-pass-42"

# Locators wait this long at most (the default 5 s is tight on a busy 2-core machine).
expect.set_options(timeout=10_000)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def server_env():
    """The live server's environment: its own SQLite database and uploads folder."""
    folder = Path(tempfile.mkdtemp(prefix="chitchat-browser-"))
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "EMAIL_URL", "AWS_STORAGE_BUCKET_NAME"}
    }
    env.update(
        DATABASE_URL=f"sqlite:///{folder / 'db.sqlite3'}",
        MEDIA_ROOT=str(folder / "media"),
        DEBUG="false",
        SECRET_KEY="browser-tests-" + uuid.uuid4().hex + uuid.uuid4().hex,
        ALLOWED_HOSTS="127.0.0.1",
        THROTTLE_RATES="anon=none,user=none,register=none,message=none",
        LOG_LEVEL="WARNING",
    )
    try:
        yield env
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def manage(server_env):
    """manage("purge_events", EVENT_RETENTION_DAYS="0") runs a management command on the
    live server's database, as cron would beside the running server."""

    def run(*args: str, **extra_env: str) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env={**server_env, **extra_env},
            check=True,
            capture_output=True,
            text=True,
        )
        return result.stdout

    return run


@pytest.fixture(scope="session")
def server(server_env):
    """Base URL of a live server on a fresh SQLite database."""
    env = server_env
    port = _free_port()
    python = sys.executable
    subprocess.run(
        [python, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True
    )
    # Kept after the run (outside the removed folder), for reading a server error.
    log_path = SERVER_LOG
    log = log_path.open("wb")
    process = subprocess.Popen(
        [python, "-m", "uvicorn", "chitchat.asgi:application", "--host", "127.0.0.1",
         "--port", str(port), "--no-access-log"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            if process.poll() is not None:
                break
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.1)
        else:
            raise RuntimeError("the server did not answer /healthz")
        if process.poll() is not None:
            raise RuntimeError(log_path.read_text())
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


SERVER_LOG = Path(tempfile.gettempdir()) / "chitchat-browser-server.log"


@pytest.fixture(autouse=True)
def no_server_errors(server):
    """A test fails if the server logged an error (a 500, a crashed socket) meanwhile."""
    start = SERVER_LOG.stat().st_size
    yield
    with SERVER_LOG.open("rb") as log:
        log.seek(start)
        written = log.read().decode(errors="replace")
    assert "Traceback" not in written, written[-3000:]


class Client:
    """The API as a second program sees it: for setting the scene around the browser."""

    def __init__(self, base: str):
        self.base = base

    def call(self, method: str, path: str, body=None, token: str | None = None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.base}/api/v1/{path}", data=data, method=method)
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                raw = response.read()
                return response.status, (json.loads(raw) if raw else None)
        except urllib.error.HTTPError as error:
            raw = error.read()
            return error.code, (json.loads(raw) if raw else None)


class Person:
    def __init__(self, client: Client, username: str):
        self.client = client
        self.username = username
        status, body = client.call(
            "POST",
            "auth/register/",
            {"username": username, "email": f"{username}@example.com", "password": PASSWORD},
        )
        assert status == 201, body
        self.id = body["user"]["id"]
        self.token = body["access"]

    def api(self, method: str, path: str, body=None, expect_status: int | None = None):
        status, data = self.client.call(method, path, body, token=self.token)
        if expect_status is not None:
            assert status == expect_status, (status, data)
        return data

    def create_chat(self, name: str, *others: "Person") -> int:
        chat = self.api("POST", "chats/", {"name": name, "member_ids": [o.id for o in others]}, 201)
        return chat["id"]

    def send(self, chat_id: int, body: str) -> dict:
        return self.api("POST", f"chats/{chat_id}/messages/", {"body": body}, 201)


@pytest.fixture(scope="session")
def api_client(server) -> Client:
    return Client(server)


@pytest.fixture
def person(api_client):
    """person("alice") registers a new user whose name starts with "alice" (exactly "alice"
    with exact=True: once per test run)."""

    def make(prefix: str, exact: bool = False) -> Person:
        return Person(api_client, prefix if exact else f"{prefix}{uuid.uuid4().hex[:6]}")

    return make


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser, server):
    """new_page() opens a page in a fresh browser context (one person's browser).

    Uncaught script errors, Content-Security-Policy violations and alert dialogs fail the
    test."""
    contexts = []
    problems = []

    def make(viewport=None):
        context = browser.new_context(
            base_url=server, viewport=viewport or {"width": 1000, "height": 640}
        )
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
        page.on(
            "console",
            lambda message: (
                problems.append(f"console: {message.text}")
                if "Content Security Policy" in message.text
                else None
            ),
        )

        def on_dialog(dialog):
            problems.append(f"dialog: {dialog.message}")
            dialog.dismiss()

        page.on("dialog", on_dialog)
        return page

    yield make
    for context in contexts:
        context.close()
    assert not problems, problems


def sign_in(page, person: Person) -> None:
    page.goto("/")
    page.get_by_role("textbox", name="Username").fill(person.username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("navigation", name="Chats")).to_be_visible()


@pytest.fixture
def signed_in(new_page):
    """signed_in(person) is a page where that person has signed in."""

    def make(person: Person, **options):
        page = new_page(**options)
        sign_in(page, person)
        return page

    return make
