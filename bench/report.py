"""The Markdown table and the list-latency plot, from bench/results/latest.json.

Usage: python -m bench.report   (bench/run.py calls it; rerun it to redraw from the JSON)
"""

import json
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def fmt(value, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}"


def markdown(data: dict) -> str:
    ceiling = data["ceiling_rps"]
    lines = [
        f"Run {data['started_at']} UTC, {data['seconds']} s per endpoint, "
        f"HTTP server on CPU {data['server_cpu']}, wrk on CPU {data['load_cpu']}; "
        f"x ceiling = ratio to the bare ceiling (DRF + simplejwt's stateless authentication, "
        f"no middleware, database or cache; bench/bare_settings.py) at {fmt(ceiling)} req/s "
        f"(runs: {', '.join(fmt(r['rps']) for r in data['ceiling_runs'])}); "
        f"load average {data['load_average']['start'][0]:.2f} at the start, "
        f"{data['load_average']['end'][0]:.2f} at the end. "
        "Server CPU ms/req: user + system CPU of the serving process (granian and its worker) "
        "per request during the run, PostgreSQL and Redis not counted; x ceiling by CPU: the "
        f"bare ceiling's ({fmt(data.get('ceiling_cpu_ms'), 3)} ms) over the endpoint's, the "
        "share of the bare rate the endpoint would reach on a core of its own (less sensitive "
        "to other load on the machine than the rates).",
        "",
        "| endpoint | conns | req/s | p50 ms | p99 ms | errors | queries/req | x ceiling "
        "| bare ceiling just before, req/s (x) | server CPU ms/req | x ceiling by CPU |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in data["http"]:
        errors = row.get("non_2xx", 0) + sum(row.get("socket_errors", {}).values())
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(row.get("statuses", {}).items()))
        err_text = fmt(errors) if not errors else f"{fmt(errors)} ({statuses})"
        ratio = row["rps"] / ceiling if ceiling else None
        adjacent = row.get("adjacent_ceiling_rps")
        adjacent_text = f"{fmt(adjacent)} ({fmt(row['rps'] / adjacent, 2)})" if adjacent else "-"
        lines.append(
            f"| {row['label']} | {row['connections']} | {fmt(row['rps'])} | "
            f"{fmt(row['p50_ms'], 2)} | {fmt(row['p99_ms'], 2)} | {err_text} | "
            f"{fmt(row.get('queries'))} | {fmt(ratio, 2)} | {adjacent_text} | "
            f"{fmt(row.get('server_cpu_ms'), 3)} | {fmt(row.get('cpu_ratio_to_ceiling'), 2)} |"
        )
    fan = data.get("fanout") or {}
    lines += ["", "WebSocket fan-out"]
    if fan.get("error"):
        lines.append(f": failed ({fan['error']}).")
    else:
        lines[-1] += (
            f": {fan.get('sockets_open', 0)} of {fan.get('sockets_requested', 0)} sockets open "
            f"(connected in {fmt(fan.get('connect_seconds'))} s), one chat, "
            f"{fan.get('phases', [{}])[0].get('seconds', '?') if fan.get('phases') else '?'} s "
            "per phase; `http` = POST through the API, `log` = a bare append to the event log "
            "(the delivery floor); "
            "latency from send to receipt; lost = not delivered when none has come for 3 s "
            "or 45 s after the last send."
        )
        lines += [
            "",
            "| phase | msgs/s | sent | expected | delivered | lost | p50 ms | p99 ms | max ms "
            "| CPU client / server |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for ph in fan.get("phases", []):
            lines.append(
                f"| {ph['mode']} | {fmt(ph['rate_per_s'], 0)} | {fmt(ph['messages_sent'])} | "
                f"{fmt(ph['expected'])} | {fmt(ph['delivered'])} | {fmt(ph['lost'])}"
                f"{' (still arriving at the cap)' if ph.get('drain_capped') else ''} | "
                f"{fmt(ph['p50_ms'])} | {fmt(ph['p99_ms'])} | {fmt(ph['max_ms'])} | "
                f"{fmt(ph.get('client_cpu_share'), 2)} / {fmt(ph.get('server_cpu_share'), 2)} |"
            )
    lines += ["", "![newest-50 list latency](list_latency.png)", ""]
    return "\n".join(lines)


def plot(data: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    points = sorted(
        (row["chat_messages"], row["p50_ms"], row["p99_ms"])
        for row in data["http"]
        if row.get("chat_messages")
    )
    if not points:
        return
    sizes, p50, p99 = zip(*points, strict=True)
    fig, ax = plt.subplots(figsize=(6.4, 4))
    ax.plot(sizes, p50, marker="o", label="p50")
    ax.plot(sizes, p99, marker="s", linestyle="--", label="p99")
    ax.set_xscale("log")
    ax.set_ylim(bottom=0)
    ax.set_xlabel("messages in the chat")
    ax.set_ylabel("latency (ms)")
    ax.set_title(f"GET newest 50 messages, {data['list_connections']} connections")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main() -> None:
    data = json.loads((RESULTS / "latest.json").read_text())
    (RESULTS / "latest.md").write_text(markdown(data))
    plot(data, RESULTS / "list_latency.png")


if __name__ == "__main__":
    main()
