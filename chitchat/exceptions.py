"""The one exception handler: every error that is not a validation error is {detail, code}.

Database errors are not translated here: a constraint a service expects to hit (a username
taken, a direct chat created concurrently) is caught and translated in that service, where
its meaning is known. Any other IntegrityError or DataError is a bug (a broken invariant, an
input not validated) and must reach the error log as a 500, not pass for a client error.
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.views import exception_handler as drf_exception_handler


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "Request body is too large."
    default_code = "request_too_large"


def _translate(exc: Exception) -> Exception:
    """Map Django's own exceptions that reach a view onto DRF exceptions."""
    if isinstance(exc, Http404):
        return exceptions.NotFound()
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied()
    if isinstance(exc, RequestDataTooBig):
        return RequestTooLarge()
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
