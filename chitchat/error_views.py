"""Error pages for requests that reach no DRF view: JSON under /api/, Django's elsewhere."""

from django.http import JsonResponse
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt


def page_not_found(request, exception):
    """handler404: a URL that matches no route (a non-numeric id) is a JSON error under
    /api/, like every other API error; elsewhere Django's page."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found.", "code": "not_found"}, status=404)
    return defaults.page_not_found(request, exception)


@csrf_exempt  # else a POST/DELETE gets Django's HTML CSRF 403 instead of the 404
def api_not_found(request, path: str = ""):
    """The last /api/ route: unknown API paths are a JSON 404 also with DEBUG on (where
    Django would show its HTML debug page instead of calling handler404)."""
    return page_not_found(request, None)


def server_error(request):
    """handler500: JSON under /api/ (the exception is logged by Django)."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Server error.", "code": "server_error"}, status=500)
    return defaults.server_error(request)
