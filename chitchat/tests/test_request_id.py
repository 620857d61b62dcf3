"""X-Request-ID: accepted when well formed, made otherwise, on every response and log line."""

import json
import re
from contextlib import ExitStack

import pytest

from chitchat.tests.processes import Server, sqlite_env, wait_until

GENERATED = re.compile(r"[0-9a-f]{32}")


@pytest.mark.django_db
def test_a_response_without_one_gets_a_fresh_id(api_client):
    first = api_client.get("/healthz")
    second = api_client.get("/healthz")
    assert GENERATED.fullmatch(first["X-Request-ID"])
    assert first["X-Request-ID"] != second["X-Request-ID"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/healthz", "/api/v1/users/me/", "/api/v1/nowhere/", "/api/v1/users/?search=a%00b"]
)
def test_a_well_formed_id_is_sent_back_on_every_response(api_client, path):
    response = api_client.get(path, HTTP_X_REQUEST_ID="lb-7f3a.2026:11_29-0001")
    assert response.status_code in (200, 400, 401, 404)
    assert response["X-Request-ID"] == "lb-7f3a.2026:11_29-0001"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "sent",
    ["x" * 65, "two words", "a\tb", "line\r\nX-Injected: 1", "é", "<script>", "", "id;drop"],
)
def test_a_malformed_id_is_replaced(api_client, sent):
    response = api_client.get("/healthz", HTTP_X_REQUEST_ID=sent)
    assert GENERATED.fullmatch(response["X-Request-ID"])


def test_every_log_line_of_a_request_has_its_id_in_json():
    """A real server with LOG_FORMAT=json: Django's lines about a request (here the 404
    warning, logged after the middleware returned) carry the request's id."""
    with ExitStack() as stack:
        server = Server(stack, sqlite_env(stack, migrate=False, LOG_FORMAT="json"))
        server.wait_ready()
        status, _, headers = server.request(
            "GET", "/api/v1/nowhere/", headers={"X-Request-ID": "trace-404"}
        )
        assert status == 404 and headers["X-Request-ID"] == "trace-404"

        def logged():
            lines = [line for line in server.output().splitlines() if line.startswith("{")]
            entries = [json.loads(line) for line in lines]
            return [e for e in entries if e["logger"] == "django.request"]

        entries = wait_until(logged, "the 404 to be logged")
        # Every line is JSON, the server's own (uvicorn's start-up lines) included.
        for line in server.output().splitlines():
            assert json.loads(line)["request_id"], line
        assert entries[-1]["request_id"] == "trace-404"
        assert entries[-1]["level"] == "WARNING" and "/api/v1/nowhere/" in entries[-1]["message"]
        assert {"time", "level", "logger", "request_id", "message"} <= set(entries[-1])


def test_text_log_lines_carry_the_id():
    with ExitStack() as stack:
        server = Server(stack, sqlite_env(stack, migrate=False, LOG_FORMAT="text"))
        server.wait_ready()
        server.request("GET", "/api/v1/nowhere/", headers={"X-Request-ID": "trace-text"})
        wait_until(lambda: "[trace-text]" in server.output(), "a text line with the id")
        line = next(x for x in server.output().splitlines() if "[trace-text]" in x)
        assert "WARNING django.request" in line


def test_tokens_never_reach_the_log():
    """Even with uvicorn's access log on, a socket's /ws/?token=... is logged redacted."""
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    token = "eyJhbGciOiJIUzI1NiJ9.eyJzZWNyZXQiOiJ5ZXMifQ.c2lnbmF0dXJlLXNlY3JldA"
    with ExitStack() as stack:
        server = Server(stack, sqlite_env(stack), options=("--access-log",))
        server.wait_ready()
        ws = stack.enter_context(
            connect(f"ws://127.0.0.1:{server.port}/ws/?token={token}", proxy=None)
        )
        with pytest.raises(ConnectionClosed):  # 4401: not a valid token
            ws.recv(timeout=30)
        server.request("GET", f"/api/v1/nowhere/?token={token}")
        wait_until(lambda: "token=[redacted]" in server.output(), "the access log line")
        assert "ws/?token=[redacted]" in server.output()
        assert "nowhere/?token=[redacted]" in server.output()
        assert token not in server.output()
        assert "eyJzZWNyZXQiOiJ5ZXMifQ" not in server.output()
