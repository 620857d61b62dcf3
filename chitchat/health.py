"""GET /healthz: 200 when the database and the channel layer answer, 503 otherwise."""

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:  # any failure means "not healthy", never a 500
        logger.exception("health check: database")
        return False


def _channel_layer_ok() -> bool:
    try:
        layer = get_channel_layer()
        if layer is None:
            return False
        # A publish to a group nobody listens to: needs a round trip to Redis when it is used.
        async_to_sync(layer.group_send)("healthz", {"type": "healthz.ping"})
        return True
    except Exception:
        logger.exception("health check: channel layer")
        return False


@require_GET
def healthz(request):
    database, channel_layer = _database_ok(), _channel_layer_ok()
    ok = database and channel_layer
    return JsonResponse(
        {
            "status": "ok" if ok else "unavailable",
            "database": "ok" if database else "unavailable",
            "channel_layer": "ok" if channel_layer else "unavailable",
        },
        status=200 if ok else 503,
    )
