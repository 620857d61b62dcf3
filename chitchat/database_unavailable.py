"""A database that cannot be reached (down, restarting, pool exhausted, SQLite's write lock
held past the timeout) answers 503 with Retry-After, not 500: the request may be retried."""

import logging

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        logger.error("database unavailable: %s", exception, exc_info=exception)
        if request.path.startswith("/api/") or request.path == "/healthz":
            response = JsonResponse(
                {"detail": "Service temporarily unavailable.", "code": "service_unavailable"},
                status=503,
            )
        else:
            response = HttpResponse("Service temporarily unavailable.", status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
