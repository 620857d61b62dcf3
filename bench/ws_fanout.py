"""WebSocket fan-out: N sockets in one chat, messages sent at a fixed rate, every delivery timed.

`receive` (the main mode) opens the sockets (`/ws/?token=`, one user each, all members of the
fan-out chat), waits until each answers a ping, then runs the phases one after the other. For
each phase it starts a `send` subprocess that sends `rate` messages per second for `seconds`:
- http:  POST /api/v1/chats/<id>/messages/ through the WSGI server (the real path: service,
         event log, commit; the ASGI process's hub reads the log and writes each frame to
         every socket, live/hub.py);
- log:   a bare message.created frame appended to the event log in its own transaction
         (live.log.append_chat_frame), no HTTP and no service: the floor of the delivery path
         (commit, NOTIFY, the hub's read, the writes to the sockets) the real path is compared
         with. (Before the hub, this floor was a bare Channels group_send to "chat.<id>";
         sockets no longer listen to channel-layer groups.)
Each body carries "fanout <phase> <seq> <unix time at send>", so the receiver computes the
latency from send to receipt (same machine, same clock). Expected deliveries are
messages sent x sockets open; lost = expected - delivered once no delivery has come for
3 s (--drain), at most 45 s (--drain-max) after the last send: late is not lost.

Usage: python -m bench.ws_fanout receive --fixtures F --ws URL --http URL --out FILE
"""

import argparse
import asyncio
import http.client
import json
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import orjson


def cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU seconds of a process (Linux /proc), None when unknown."""
    if not pid:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


# ---------------------------------------------------------------------------
# send: one phase's messages at a fixed rate
# ---------------------------------------------------------------------------
def send_http(args) -> dict:
    parts = urlsplit(args.http)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    path = f"/api/v1/chats/{args.chat}/messages/"
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {args.token}"}
    statuses: dict[str, int] = {}
    send_ms = []
    count = int(args.rate * args.seconds)
    start = time.monotonic()
    for seq in range(count):
        delay = start + seq / args.rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        sent_at = time.time()
        body = orjson.dumps(
            {
                "body": f"fanout {args.phase} {seq} {sent_at:.6f}",
                "client_id": f"{args.phase}-{seq}-{os.getpid()}",
            }
        )
        try:
            conn.request("POST", path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            code = str(response.status)
        except (OSError, http.client.HTTPException) as exc:
            code = type(exc).__name__
            conn.close()
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        send_ms.append((time.time() - sent_at) * 1000)
        statuses[code] = statuses.get(code, 0) + 1
    return {
        "sent": statuses.get("201", 0),
        "statuses": statuses,
        "send_p50_ms": percentile(send_ms, 50),
        "send_p99_ms": percentile(send_ms, 99),
    }


def send_log(args) -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()
    from django.db import transaction

    from live.events import event_frame
    from live.log import append_chat_frame

    count = int(args.rate * args.seconds)
    start = time.monotonic()
    sent = 0
    for seq in range(count):
        delay = start + seq / args.rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        sent_at = time.time()
        data = {
            "id": -seq - 1,
            "chat_id": args.chat,
            "author": {"id": 1, "username": "bench0001"},
            "body": f"fanout {args.phase} {seq} {sent_at:.6f}",
            "created_at": "2026-01-01T00:00:00Z",
            "edited_at": None,
            "like_count": 0,
            "client_id": None,
        }
        frame = event_frame(type="message.created", chat_id=args.chat, data=data)
        with transaction.atomic():
            append_chat_frame(frame)
        sent += 1
    return {"sent": sent, "statuses": {"appended": sent}}


# ---------------------------------------------------------------------------
# receive: the sockets and the phases
# ---------------------------------------------------------------------------
class Receiver:
    def __init__(self) -> None:
        self.delivered: dict[str, int] = {}
        self.latencies: dict[str, list[float]] = {}
        self.pongs = 0
        self.closed: dict[str, int] = {}
        self.other_frames = 0
        self.last_frame_at = time.monotonic()

    async def read(self, ws) -> None:
        from websockets.exceptions import ConnectionClosed

        try:
            async for raw in ws:
                now = time.time()
                self.last_frame_at = time.monotonic()
                frame = orjson.loads(raw)
                kind = frame.get("type")
                if kind == "message.created":
                    body = (frame.get("data") or {}).get("body", "")
                    if body.startswith("fanout "):
                        _, phase, _, sent_at = body.split(" ", 3)
                        self.delivered[phase] = self.delivered.get(phase, 0) + 1
                        self.latencies.setdefault(phase, []).append(now - float(sent_at))
                        continue
                if kind == "pong":
                    self.pongs += 1
                else:
                    self.other_frames += 1
        except ConnectionClosed:
            pass
        code = str(ws.close_code)
        self.closed[code] = self.closed.get(code, 0) + 1


async def open_sockets(url: str, tokens: list[str], receiver: Receiver, concurrency: int = 50):
    from websockets.asyncio.client import connect

    gate = asyncio.Semaphore(concurrency)
    sockets = []
    failures: dict[str, int] = {}

    async def one(token: str) -> None:
        async with gate:
            try:
                # No compression, no keepalive pings: the server's fan-out work, not deflate's.
                ws = await connect(
                    f"{url}?token={token}",
                    compression=None,
                    ping_interval=None,
                    max_queue=4096,
                    open_timeout=30,
                )
            except Exception as exc:  # a failed handshake is a figure, not a crash
                failures[type(exc).__name__] = failures.get(type(exc).__name__, 0) + 1
                return
            sockets.append(ws)
            asyncio.get_running_loop().create_task(receiver.read(ws))

    await asyncio.gather(*(one(token) for token in tokens))
    return sockets, failures


async def run_phase(args, receiver: Receiver, open_count: int, mode: str, rate: float) -> dict:
    phase = f"{mode}{rate:g}"
    command = [
        sys.executable,
        "-m",
        "bench.ws_fanout",
        "send",
        "--mode",
        mode,
        "--rate",
        str(rate),
        "--seconds",
        str(args.seconds),
        "--phase",
        phase,
        "--chat",
        str(args.chat),
        "--token",
        args.sender_token,
        "--http",
        args.http,
    ]
    # CPU used during the phase, by this client and by the ASGI server: a side at 100 % of
    # its core is the one that limits the figures.
    wall0, client0, server0 = time.monotonic(), time.process_time(), cpu_seconds(args.server_pid)
    proc = await asyncio.create_subprocess_exec(*command, stdout=asyncio.subprocess.PIPE)
    out, _ = await proc.communicate()
    try:
        sender = json.loads(out.decode().strip().splitlines()[-1])
    except (ValueError, IndexError):
        sender = {"sent": 0, "statuses": {"sender_failed": proc.returncode}}
    expected = sender["sent"] * open_count
    # Late is not lost: wait while deliveries still arrive (at most --drain-max seconds),
    # and count as lost only what has not come --drain seconds after the last one.
    cap = time.monotonic() + args.drain_max
    last_count, last_change = -1, time.monotonic()
    capped = False
    while receiver.delivered.get(phase, 0) < expected and time.monotonic() < cap:
        count = receiver.delivered.get(phase, 0)
        if count != last_count:
            last_count, last_change = count, time.monotonic()
        elif time.monotonic() - last_change > args.drain:
            break
        await asyncio.sleep(0.1)
    else:
        # Stopped by the cap while frames were still coming: "lost" may be partly "late".
        capped = receiver.delivered.get(phase, 0) < expected
    drain_seconds = time.monotonic() + args.drain_max - cap
    wall = time.monotonic() - wall0
    server1 = cpu_seconds(args.server_pid)
    server_cpu = None if server0 is None or server1 is None else (server1 - server0) / wall
    delivered = receiver.delivered.get(phase, 0)
    latencies = receiver.latencies.get(phase, [])
    ms = [x * 1000 for x in latencies]
    return {
        "phase": phase,
        "mode": mode,
        "rate_per_s": rate,
        "seconds": args.seconds,
        "sockets": open_count,
        "messages_sent": sender["sent"],
        "send_statuses": sender["statuses"],
        "expected": expected,
        "delivered": delivered,
        "lost": expected - delivered,
        "p50_ms": percentile(ms, 50),
        "p99_ms": percentile(ms, 99),
        "max_ms": max(ms) if ms else None,
        "mean_ms": statistics.fmean(ms) if ms else None,
        "drain_seconds": round(drain_seconds, 1),
        "drain_capped": capped,
        "client_cpu_share": round((time.process_time() - client0) / wall, 2),
        "server_cpu_share": None if server_cpu is None else round(server_cpu, 2),
        "http_send_p50_ms": sender.get("send_p50_ms"),
        "http_send_p99_ms": sender.get("send_p99_ms"),
    }


async def receive(args) -> dict:
    fixtures = json.loads(Path(args.fixtures).read_text())
    tokens = [fixtures["tokens"][str(uid)] for uid in range(1, args.sockets + 1)]
    args.chat = fixtures["chats"]["fanout"]
    args.sender_token = fixtures["tokens"]["1"]
    receiver = Receiver()
    started = time.monotonic()
    sockets, failures = await open_sockets(args.ws, tokens, receiver)
    connect_seconds = time.monotonic() - started
    # A pong proves the consumer finished its connect (and so is attached to the hub).
    for ws in sockets:
        await ws.send('{"type": "ping"}')
    deadline = time.monotonic() + 15
    while receiver.pongs < len(sockets) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    await asyncio.sleep(1)
    open_count = sum(1 for ws in sockets if ws.close_code is None)
    result = {
        "sockets_requested": args.sockets,
        "sockets_open": open_count,
        "connect_failures": failures,
        "connect_seconds": round(connect_seconds, 2),
        "pongs": receiver.pongs,
        "phases": [],
    }
    if open_count:
        # At each rate the bare log append first, then the real path; between phases, wait
        # until the sockets are quiet so one phase's backlog does not time the next.
        for mode, rate in [(m, float(r)) for r in args.rates for m in args.modes]:
            cap = time.monotonic() + 30
            while time.monotonic() - receiver.last_frame_at < 2 and time.monotonic() < cap:
                await asyncio.sleep(0.2)
            open_now = sum(1 for ws in sockets if ws.close_code is None)
            result["phases"].append(await run_phase(args, receiver, open_now, mode, rate))
    result["closed_by_server"] = dict(receiver.closed)
    result["other_frames"] = receiver.other_frames
    for ws in sockets:
        await ws.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("role", choices=["receive", "send"])
    parser.add_argument("--fixtures")
    parser.add_argument("--ws", default="ws://127.0.0.1:8102/ws/")
    parser.add_argument("--http", default="http://127.0.0.1:8101")
    parser.add_argument("--out")
    parser.add_argument("--server-pid", type=int, help="the ASGI server's pid (CPU shares)")
    parser.add_argument("--sockets", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--drain", type=float, default=3)
    parser.add_argument("--drain-max", type=float, default=45)
    parser.add_argument("--rates", type=lambda s: s.split(","), default=["5", "20"])
    parser.add_argument("--modes", type=lambda s: s.split(","), default=["log", "http"])
    # send only
    parser.add_argument("--mode", choices=["http", "log"])
    parser.add_argument("--rate", type=float)
    parser.add_argument("--phase")
    parser.add_argument("--chat", type=int)
    parser.add_argument("--token")
    args = parser.parse_args()
    if args.role == "send":
        result = send_http(args) if args.mode == "http" else send_log(args)
        print(json.dumps(result))
        return
    try:
        import uvloop

        runner = uvloop.run
    except ImportError:
        runner = asyncio.run
    result = runner(receive(args))
    text = json.dumps(result, indent=1)
    if args.out:
        Path(args.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
