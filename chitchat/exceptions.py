"""The one exception handler: every error that is not a validation error is {detail, code}."""

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.db import DataError, IntegrityError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger(__name__)


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state."
    default_code = "conflict"


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "Request body is too large."
    default_code = "request_too_large"


def _translate(exc: Exception) -> Exception:
    """Map Django and database errors that reach a view onto DRF exceptions (never a 500)."""
    if isinstance(exc, Http404):
        return exceptions.NotFound()
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied()
    if isinstance(exc, RequestDataTooBig):
        return RequestTooLarge()
    if isinstance(exc, IntegrityError):
        # A unique key raced by a concurrent request: the state changed under us.
        logger.info("integrity error turned into 409: %s", exc)
        return Conflict()
    if isinstance(exc, DataError | OverflowError):
        # Values the database refuses (NUL bytes, numbers out of a column's range); SQLite's
        # driver raises OverflowError for integers beyond 64 bits.
        return exceptions.ParseError("A value is out of range or not representable.")
    return exc


def exception_handler(exc, context):
    exc = _translate(exc)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        return response
    if isinstance(exc, exceptions.APIException):
        detail = exc.detail
        if isinstance(detail, dict | list):
            return response
        response.data = {"detail": str(detail), "code": getattr(detail, "code", exc.default_code)}
    return response
