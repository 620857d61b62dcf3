"""GET /healthz: 200 when the database, the cache and the channel layer answer, 503 otherwise.

Each check runs afresh on every call (nothing is remembered), so a Redis or database that
comes back turns the answer to 200 again without a restart.
"""

import asyncio
import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)

# Seconds a check may take: a Redis that accepts connections but never answers is down.
CHECK_TIMEOUT = 2.0


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:  # any failure means "not healthy", never a 500
        logger.exception("health check: database")
        return False


def _cache_ok() -> bool:
    """The cache holds the login lockout, throttles and revoked-user marks (Redis in
    production): a round trip that writes and reads one key."""
    try:
        cache.set("healthz", 1, timeout=60)
        return cache.get("healthz") == 1
    except Exception:
        logger.exception("health check: cache")
        return False


async def _publish(layer) -> None:
    # A publish to a group nobody listens to: a round trip to Redis when it is used.
    await asyncio.wait_for(layer.group_send("healthz", {"type": "healthz.ping"}), CHECK_TIMEOUT)


def _channel_layer_ok() -> bool:
    try:
        layer = get_channel_layer()
        if layer is None:
            return False
        async_to_sync(_publish)(layer)
        return True
    except Exception:
        logger.exception("health check: channel layer")
        return False


@require_GET
def healthz(request):
    checks = {
        "database": _database_ok(),
        "cache": _cache_ok(),
        "channel_layer": _channel_layer_ok(),
    }
    ok = all(checks.values())
    return JsonResponse(
        {
            "status": "ok" if ok else "unavailable",
            **{name: "ok" if passed else "unavailable" for name, passed in checks.items()},
        },
        status=200 if ok else 503,
    )
