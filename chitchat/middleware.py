"""Request guards that sit before the views."""

from django.http import JsonResponse


class RejectNulCharactersMiddleware:
    """A NUL character in the path or query string is a 400, not a database error."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path or "%00" in request.META.get("QUERY_STRING", ""):
            return JsonResponse(
                {"detail": "NUL characters are not allowed.", "code": "parse_error"}, status=400
            )
        return self.get_response(request)


class JSONErrorsUnderAPIMiddleware:
    """A 400 that Django itself produced under /api/ is JSON like every other API error.

    Django refuses some requests before any view runs, or outside DRF's exception handler:
    a Host not in ALLOWED_HOSTS (DisallowedHost), more than DATA_UPLOAD_MAX_NUMBER_FIELDS
    query parameters (TooManyFieldsSent), and other SuspiciousOperations. Its answer is an
    HTML page (the debug page with DEBUG on); this outermost middleware swaps it for
    `{"detail", "code"}`. DRF's own 400s are JSON already and pass untouched.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            response.status_code == 400
            and request.path.startswith("/api/")
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            return JsonResponse({"detail": "Bad request.", "code": "bad_request"}, status=400)
        return response
