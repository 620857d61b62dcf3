"""The benchmark, end to end (`make bench`): seed, serve, load, record.

1. PostgreSQL and Redis up (started as .ci/run does when down); the bench database
   (chitchat_bench) recreated and seeded by bench/seed.py.
2. SQL queries per request of each endpoint, in-process (bench/queries.py).
3. The production servers with DEBUG=false and bench.settings (the ceiling endpoint, no
   throttling): granian WSGI for HTTP and uvicorn ASGI for /ws/, both pinned to CPU 0; and
   the bare ceiling (bench.bare_settings: DRF and simplejwt's stateless authentication, no
   middleware, database or cache) served by a second granian with the same flags and CPU.
4. wrk from CPU 1, BENCH_SECONDS (15) per endpoint after a short warm-up; the bare ceiling
   is measured first and last, and every figure is given as a ratio to their mean, and to a
   BENCH_CEILING_SECONDS (5) bare ceiling run made just before the endpoint's (load
   drifts). The project's `bench/ceiling/` is the row "stack ceiling": its ratio is the
   stack's own overhead.
5. WebSocket fan-out from CPU 1 (bench/ws_fanout.py).
6. bench/results/latest.json, latest.md and list_latency.png (bench/report.py).

Environment: BENCH_SECONDS, BENCH_WARMUP, BENCH_CEILING_SECONDS, BENCH_WS_SECONDS, BENCH_SOCKETS,
BENCH_DATABASE_URL, BENCH_REDIS_URL, BENCH_SKIP_SEED=1 (reuse the seeded database),
BENCH_SKIP_FANOUT=1, BENCH_ONLY=name,name (HTTP scenarios to run), BENCH_SERVER_CPU,
BENCH_LOAD_CPU, BENCH_HTTP_PORT, BENCH_BARE_PORT, BENCH_WS_PORT, BENCH_PREFIX (cache and
channel-layer prefix). Every server process started here is stopped on exit.
"""

import contextlib
import datetime
import json
import os
import platform
import resource
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / ".work"
RESULTS = ROOT / "bench" / "results"
BIN = Path(sys.executable).parent  # the venv's bin (not resolved: keep the venv)

SECONDS = int(os.environ.get("BENCH_SECONDS", "15"))
WARMUP = int(os.environ.get("BENCH_WARMUP", "2"))
CEILING_SECONDS = int(os.environ.get("BENCH_CEILING_SECONDS", "5"))
WS_SECONDS = int(os.environ.get("BENCH_WS_SECONDS", "10"))
SOCKETS = int(os.environ.get("BENCH_SOCKETS", "1000"))
SERVER_CPU = os.environ.get("BENCH_SERVER_CPU", "0")
LOAD_CPU = os.environ.get("BENCH_LOAD_CPU", "1")
HTTP_PORT = int(os.environ.get("BENCH_HTTP_PORT", "8101"))
WS_PORT = int(os.environ.get("BENCH_WS_PORT", "8102"))
BARE_PORT = int(os.environ.get("BENCH_BARE_PORT", "8103"))
# granian's threads per worker for the (blocking) WSGI app: a few overlap database waits;
# hundreds (the default) only add queueing (p99 0.4-0.9 s measured here).
BLOCKING_THREADS = os.environ.get("BENCH_BLOCKING_THREADS", "4")
# uvicorn's WebSocket implementation (auto, websockets, websockets-sansio, wsproto).
WS_IMPL = os.environ.get("BENCH_WS_IMPL", "auto")
DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/chitchat_bench"
)
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")
HTTP_BASE = f"http://127.0.0.1:{HTTP_PORT}"
BARE_BASE = f"http://127.0.0.1:{BARE_PORT}"
PREFIX = os.environ.get("BENCH_PREFIX", "chitchatbench")
LIST_CONNECTIONS = 16

_servers: list[subprocess.Popen] = []


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def bench_env() -> dict:
    env = os.environ.copy()
    env.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        PYTHONPATH=str(ROOT),
        DEBUG="false",
        SECRET_KEY="bench-only-secret-key-not-for-production-5b8e1f0c9d2a",
        DATABASE_URL=DATABASE_URL,
        REDIS_URL=REDIS_URL,
        # Pub/sub channels ignore Redis database numbers: a prefix of our own keeps other
        # processes on this machine out of the bench's groups, and the bench out of theirs.
        CACHE_KEY_PREFIX=PREFIX,
        CHANNEL_LAYER_PREFIX=PREFIX,
        THROTTLE_RATES="anon=1000000/s,user=1000000/s,register=1000000/s,message=1000000/s",
        LOGIN_MAX_FAILURES="1000000000",
        JWT_ACCESS_MINUTES="1440",
        LOG_LEVEL="WARNING",
    )
    return env


def ensure_services() -> None:
    """PostgreSQL and Redis on 127.0.0.1, started the way .ci/run starts them."""
    script = r"""
if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
fi
for _ in $(seq 1 30); do
    pg_isready -h 127.0.0.1 -p 5432 -q && redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 \
        && exit 0
    sleep 1
done
exit 1
"""
    subprocess.run(["bash", "-c", script], check=True)


def raise_file_limit() -> None:
    """1,000 client sockets and 1,000 server sockets: the default 1,024 descriptors is not
    enough. Children inherit the limit."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (65536, max(hard, 65536)))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


# ---------------------------------------------------------------------------
# Servers
# ---------------------------------------------------------------------------
def start_server(name: str, command: list[str], **env) -> subprocess.Popen:
    with open(WORK / f"{name}.log", "w") as logfile:  # the child keeps its own copy
        proc = subprocess.Popen(
            ["taskset", "-c", SERVER_CPU, *command],
            cwd=ROOT,
            env=bench_env() | env,
            stdout=logfile,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped as a whole, and only it
        )
    _servers.append(proc)
    return proc


def stop_servers() -> None:
    for proc in _servers:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
    for proc in _servers:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    _servers.clear()


def wait_ready(url: str, token: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited ({proc.returncode}); see {WORK}/*.log")
        try:
            req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
            with urllib.request.urlopen(req, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} not ready after {timeout} s")


def granian_command(port: int) -> list[str]:
    """The production WSGI server, one worker: the project and the bare ceiling alike."""
    return [
        str(BIN / "granian"),
        "--interface",
        "wsgi",
        "chitchat.wsgi:application",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
        "--blocking-threads",
        BLOCKING_THREADS,
        "--no-access-log",
        "--log-level",
        "warning",
    ]


def start_servers(token: str) -> None:
    http = start_server("granian", granian_command(HTTP_PORT))
    bare = start_server(
        "granian-bare", granian_command(BARE_PORT), DJANGO_SETTINGS_MODULE="bench.bare_settings"
    )
    ws = start_server(
        "uvicorn",
        [
            str(BIN / "uvicorn"),
            "chitchat.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(WS_PORT),
            "--ws",
            WS_IMPL,
            "--no-access-log",
            "--log-level",
            "warning",
        ],
    )
    wait_ready(f"{HTTP_BASE}/bench/ceiling/", token, http)
    wait_ready(f"{BARE_BASE}/bench/ceiling/", token, bare)
    wait_ready(f"http://127.0.0.1:{WS_PORT}/bench/ceiling/", token, ws)


# ---------------------------------------------------------------------------
# HTTP scenarios
# ---------------------------------------------------------------------------
def scenarios(fx: dict) -> list[dict]:
    crowd = [fx["tokens"][str(uid)] for uid in range(1, fx["crowd"] + 1)]
    u200 = [fx["tokens"][str(fx["u200"])]]
    chats = fx["chats"]
    sizes = fx["messages_in_chat"]
    send_body = '{"body": "A benchmark message of ordinary length.", "client_id": "{n}"}'
    send_rich_body = (
        '{"body": "A reply for @bench0002 of ordinary length.", "client_id": "{n}", '
        f'"reply_to": {fx["rich_parent"]}}}'
    )
    login_body = '{"username": "{user}", "password": "' + fx["password"] + '"}'

    def sc(name, label, path, tokens, connections=LIST_CONNECTIONS, **extra):
        base = {
            "method": "GET",
            "body": None,
            "usernames": [],
            "chat_messages": None,
            "base": HTTP_BASE,
        }
        return base | {
            "name": name,
            "label": label,
            "path": path,
            "tokens": tokens,
            "connections": connections,
            **extra,
        }

    def messages(chat):
        return f"/api/v1/chats/{chat}/messages/"

    return [
        sc(
            "ceiling",
            "bare ceiling: DRF + stateless JWT, nothing else",
            "/bench/ceiling/",
            crowd,
            base=BARE_BASE,
        ),
        sc(
            "stack_ceiling", "stack ceiling: the project's bench/ceiling/", "/bench/ceiling/", crowd
        ),
        sc(
            "login",
            "login: POST auth/token/",
            "/api/v1/auth/token/",
            [],
            connections=4,
            method="POST",
            body=login_body,
            usernames=fx["usernames"],
        ),
        sc(
            "send_16",
            "send a message (16 clients)",
            messages(chats["send"]),
            crowd,
            method="POST",
            body=send_body,
        ),
        sc(
            "send_rich",
            "send a reply with a mention (16 clients, 1.1)",
            messages(chats["rich"]),
            crowd,
            method="POST",
            body=send_rich_body,
        ),
        sc(
            "send_64",
            "send a message (64 clients)",
            messages(chats["send"]),
            crowd,
            connections=64,
            method="POST",
            body=send_body,
        ),
        sc(
            "list_100",
            f"newest 50, chat of {int(sizes['1']):,}",
            messages(chats["small"]),
            crowd,
            chat_messages=sizes["1"],
        ),
        sc(
            "list_rich",
            "newest 50, rich chat (1.1: replies, reactions, mentions, likes, pins, images)",
            messages(chats["rich"]),
            crowd,
        ),
        sc(
            "list_10k",
            f"newest 50, chat of {int(sizes['2']):,}",
            messages(chats["c10k"]),
            crowd,
            chat_messages=sizes["2"],
        ),
        sc(
            "list_100k",
            f"newest 50, chat of {int(sizes['3']):,}",
            messages(chats["c100k"]),
            crowd,
            chat_messages=sizes["3"],
        ),
        sc(
            "list_1m",
            f"newest 50, chat of {int(sizes['4']):,}",
            messages(chats["big"]),
            crowd,
            chat_messages=sizes["4"],
        ),
        sc(
            "catchup",
            f"catch-up ?after= (50 newest of {int(sizes['4']):,})",
            messages(chats["big"]) + f"?after={fx['big_catchup_after']}",
            crowd,
        ),
        sc("chats_mine", "chats/?mine=true (user in 200 chats)", "/api/v1/chats/?mine=true", u200),
        sc(
            "messages_latest",
            "messages/latest/ (user in 200 chats)",
            "/api/v1/messages/latest/",
            u200,
        ),
    ]


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def group_cpu_seconds(pgid: int) -> float:
    """User + system CPU time of every live process in the process group (a server and its
    workers): the server's CPU cost per request does not depend on what else the machine runs
    the way its rate does."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # After the command: state ppid pgrp ... utime (12th) stime (13th).
        if int(fields[2]) == pgid:
            total += int(fields[11]) + int(fields[12])
    return total / CLOCK_TICKS


def lua_string(value: str) -> str:
    return "[==[" + value + "]==]"


def lua_config(sc: dict, tag: str) -> str:
    tokens = ",".join(lua_string(t) for t in sc["tokens"])
    users = ",".join(lua_string(u) for u in sc["usernames"])
    body = lua_string(sc["body"]) if sc["body"] is not None else "nil"
    return (
        f"config = {{method = {lua_string(sc['method'])}, path = {lua_string(sc['path'])}, "
        f"body = {body}, tag = {lua_string(tag)}, tokens = {{{tokens}}}, "
        f"usernames = {{{users}}}}}\n"
    )


def run_wrk(sc: dict, seconds: int, tag: str) -> dict:
    script = WORK / f"{sc['name']}.lua"
    template = (ROOT / "bench" / "wrk" / "request.lua").read_text()
    script.write_text(lua_config(sc, tag) + template)
    command = [
        "taskset",
        "-c",
        LOAD_CPU,
        "wrk",
        "-t1",
        f"-c{sc['connections']}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        sc["base"],
    ]
    server = _servers[1] if sc["base"] == BARE_BASE else _servers[0]
    cpu_before = group_cpu_seconds(server.pid)
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    cpu = group_cpu_seconds(server.pid) - cpu_before
    for line in done.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            result = json.loads(line[len("BENCH_JSON ") :])
            if result.get("requests"):
                result["server_cpu_ms"] = round(cpu * 1000 / result["requests"], 3)
            return result
    return {"error": (done.stderr or done.stdout)[-500:], "rps": 0.0}


def measure_queries(scs: list[dict]) -> dict:
    spec = {sc["name"]: {k: sc[k] for k in ("method", "path", "body", "usernames")} for sc in scs}
    for sc in scs:
        spec[sc["name"]]["tokens"] = sc["tokens"][:1]
    path = WORK / "queries_spec.json"
    path.write_text(json.dumps(spec))
    done = subprocess.run(
        [sys.executable, "-m", "bench.queries", str(path)],
        cwd=ROOT,
        env=bench_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    try:
        return json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        log(f"query counting failed: {done.stderr[-1000:]}")
        return {}


def run_fanout(fixtures_path: Path, server_pid: int) -> dict:
    out = WORK / "fanout.json"
    out.unlink(missing_ok=True)
    command = [
        "taskset",
        "-c",
        LOAD_CPU,
        sys.executable,
        "-m",
        "bench.ws_fanout",
        "receive",
        "--fixtures",
        str(fixtures_path),
        "--ws",
        f"ws://127.0.0.1:{WS_PORT}/ws/",
        "--http",
        HTTP_BASE,
        "--sockets",
        str(SOCKETS),
        "--seconds",
        str(WS_SECONDS),
        "--out",
        str(out),
        "--server-pid",
        str(server_pid),
    ]
    try:
        done = subprocess.run(
            command, cwd=ROOT, env=bench_env(), capture_output=True, text=True, timeout=420
        )
    except subprocess.TimeoutExpired:
        return {"error": "timed out after 420 s"}
    if not out.exists():
        return {"error": f"exit {done.returncode}: {done.stderr[-800:]}"}
    return json.loads(out.read_text())


def versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for package in ("django", "djangorestframework", "granian", "uvicorn", "channels"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = None
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
    found["wrk"] = (wrk.stdout or wrk.stderr).split("\n")[0].strip()
    found["python"] = platform.python_version()
    return found


def main() -> None:
    started = time.monotonic()
    started_at = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M")
    # Other processes on the machine skew every figure: the load average says how much.
    load_start = os.getloadavg()
    for tool in ("wrk", "taskset"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is missing (make bench installs wrk)")
    WORK.mkdir(parents=True, exist_ok=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    raise_file_limit()
    ensure_services()
    env = bench_env()
    fixtures_path = WORK / "fixtures.json"
    if os.environ.get("BENCH_SKIP_SEED") != "1" or not fixtures_path.exists():
        log("seeding (bench/seed.py)")
        subprocess.run([sys.executable, "-m", "bench.seed"], cwd=ROOT, env=env, check=True)
    fx = json.loads(fixtures_path.read_text())
    seeded = time.monotonic()

    scs = scenarios(fx)
    only = [n for n in os.environ.get("BENCH_ONLY", "").split(",") if n]
    if only:
        always = ("ceiling", "stack_ceiling")
        scs = [sc for sc in scs if sc["name"] in only or sc["name"] in always]
    log("SQL queries per request (in-process)")
    queries = measure_queries(scs)

    log("starting granian (WSGI, project and bare) and uvicorn (ASGI) on CPU " + SERVER_CPU)
    start_servers(fx["tokens"]["1"])
    tag = f"b{int(time.time())}"
    rows = []
    ceiling_runs = []
    ordered = [*scs, scs[0]]  # the ceiling first and last: drift shows up
    adjacent = None
    for index, sc in enumerate(ordered):
        if sc["name"] != "ceiling" and CEILING_SECONDS:
            # The load of a shared machine drifts: each endpoint also gets a ratio to a short
            # ceiling run made just before it.
            adjacent = run_wrk(scs[0], CEILING_SECONDS, f"{tag}c{index}")
        if WARMUP:
            run_wrk(sc, WARMUP, f"{tag}w{index}")
        result = run_wrk(sc, SECONDS, f"{tag}r{index}")
        log(
            f"{sc['name']:>16}: {result.get('rps', 0):8.1f} req/s  "
            f"p50 {result.get('p50_ms', 0):7.2f} ms  p99 {result.get('p99_ms', 0):7.2f} ms  "
            f"CPU {result.get('server_cpu_ms', 0):6.3f} ms/req  "
            f"non-2xx {result.get('non_2xx', '?')}  {result.get('error', '')}"
        )
        if sc["name"] == "ceiling":
            ceiling_runs.append(result)
            if index:
                continue
        q = queries.get(sc["name"], {})
        adjacent_rps = adjacent.get("rps") if adjacent and sc["name"] != "ceiling" else None
        rows.append(
            {
                "name": sc["name"],
                "label": sc["label"],
                "method": sc["method"],
                "path": sc["path"],
                "connections": sc["connections"],
                "chat_messages": sc["chat_messages"],
                "queries": q.get("queries"),
                "queries_status": q.get("status"),
                "adjacent_ceiling_rps": adjacent_rps,
                **result,
            }
        )
    ceiling_rps = sum(r.get("rps", 0) for r in ceiling_runs) / len(ceiling_runs)
    cpu_runs = [r["server_cpu_ms"] for r in ceiling_runs if r.get("server_cpu_ms")]
    ceiling_cpu_ms = sum(cpu_runs) / len(cpu_runs) if cpu_runs else None
    for row in rows:
        row["ratio_to_ceiling"] = round(row["rps"] / ceiling_rps, 3) if ceiling_rps else None
        # The rate the endpoint would reach on a core of its own, as a share of the bare
        # ceiling's: bare CPU per request over the endpoint's (the database's CPU not counted).
        row["cpu_ratio_to_ceiling"] = (
            round(ceiling_cpu_ms / row["server_cpu_ms"], 3)
            if ceiling_cpu_ms and row.get("server_cpu_ms")
            else None
        )
        adjacent_rps = row["adjacent_ceiling_rps"]
        row["ratio_to_adjacent_ceiling"] = (
            round(row["rps"] / adjacent_rps, 3) if adjacent_rps else None
        )
    http_done = time.monotonic()

    fanout = None
    if os.environ.get("BENCH_SKIP_FANOUT") != "1":
        log(f"WebSocket fan-out: {SOCKETS} sockets, {WS_SECONDS} s per phase")
        fanout = run_fanout(fixtures_path, _servers[2].pid)
        for phase in fanout.get("phases", []):
            log(
                f"{phase['phase']:>9}: sent {phase['messages_sent']}, delivered "
                f"{phase['delivered']}/{phase['expected']}, lost {phase['lost']}, "
                f"p50 {phase['p50_ms'] or 0:.1f} ms, p99 {phase['p99_ms'] or 0:.1f} ms, "
                f"CPU client {phase['client_cpu_share']}, server {phase['server_cpu_share']}"
            )
        if fanout.get("error"):
            log(f"fan-out failed: {fanout['error']}")
    stop_servers()

    data = {
        "started_at": started_at,
        "seconds": SECONDS,
        "warmup_seconds": WARMUP,
        "adjacent_ceiling_seconds": CEILING_SECONDS,
        "server_cpu": SERVER_CPU,
        "load_cpu": LOAD_CPU,
        "list_connections": LIST_CONNECTIONS,
        "servers": {
            "http": "granian --interface wsgi --workers 1 --blocking-threads " + BLOCKING_THREADS,
            "bare_ceiling": "the same granian command, DJANGO_SETTINGS_MODULE=bench.bare_settings",
            "ws": "uvicorn chitchat.asgi:application",
        },
        "versions": versions(),
        "cpus": os.cpu_count(),
        "load_average": {"start": load_start, "end": os.getloadavg()},
        "seed": {k: v for k, v in fx.items() if k not in ("tokens", "usernames", "password")},
        "ceiling_rps": round(ceiling_rps, 1),
        "ceiling_cpu_ms": ceiling_cpu_ms and round(ceiling_cpu_ms, 3),
        "ceiling_runs": ceiling_runs,
        "http": rows,
        "fanout": fanout,
        "timings_s": {
            "seed": round(seeded - started, 1),
            "http": round(http_done - seeded, 1),
            "fanout": round(time.monotonic() - http_done, 1),
            "total": round(time.monotonic() - started, 1),
        },
    }
    (RESULTS / "latest.json").write_text(json.dumps(data, indent=1))
    from bench import report

    report.main()
    log(f"done in {data['timings_s']['total']} s: {RESULTS}/latest.md, list_latency.png")


def _terminate(signum, frame):
    raise SystemExit(128 + signum)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)
    try:
        main()
    finally:
        stop_servers()
