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
