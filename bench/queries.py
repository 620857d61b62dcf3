"""SQL queries per request of each benchmarked endpoint, in-process against the bench database.

Each request is made twice with Django's test client and the second is counted
(CaptureQueriesContext), so one-off work of a fresh process (caches) is not charged to it.
Prints one JSON object: {name: {"queries": n, "status": code}}.

Usage: python -m bench.queries SCENARIOS_JSON   (written by bench/run.py)
"""

import json
import os
import sys
from pathlib import Path


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    scenarios = json.loads(Path(sys.argv[1]).read_text())
    results = {}
    for name, sc in scenarios.items():
        headers = {}
        if sc["tokens"]:
            headers["HTTP_AUTHORIZATION"] = f"Bearer {sc['tokens'][0]}"
        client = Client()
        counts = []
        status = None
        for attempt in range(2):
            body = sc["body"]
            if body is not None:
                body = body.replace("{n}", f"queries-{name}-{attempt}-{os.getpid()}")
                if sc["usernames"]:
                    body = body.replace("{user}", sc["usernames"][0])
            with CaptureQueriesContext(connection) as ctx:
                response = client.generic(
                    sc["method"],
                    sc["path"],
                    data=body or "",
                    content_type="application/json",
                    **headers,
                )
            counts.append(len(ctx.captured_queries))
            status = response.status_code
        results[name] = {"queries": counts[-1], "first_request_queries": counts[0]}
        results[name]["status"] = status
    print(json.dumps(results))


if __name__ == "__main__":
    main()
