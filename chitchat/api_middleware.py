"""Session, auth and messages middleware that step aside for plain API requests.

A client of the JSON API signs in with a Bearer token: it sends no session cookie and uses
no flash messages, yet Django's middleware loads an empty session, a lazy user and message
storage on every request. These subclasses of Django's classes (so the admin's system checks
still find them) pass such requests straight on. Django's own CsrfViewMiddleware stays as it
is: `check --deploy` looks for it by name, and APIView is csrf_exempt, so it costs a plain API
request next to nothing. Everything else keeps them: the admin, the session login of
the browsable API under /api-auth/, any request carrying a session cookie, and HTML renders
of /api/ (the browsable API and the docs).
"""

from django.conf import settings
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware

_ATTR = "_plain_api_request"


def is_plain_api_request(request) -> bool:
    """Under /api/ (PLAIN_API_PATHS), without a session cookie, and not asking for HTML."""
    plain = getattr(request, _ATTR, None)
    if plain is None:
        plain = (
            request.path_info.startswith(settings.PLAIN_API_PATHS)
            and settings.SESSION_COOKIE_NAME not in request.COOKIES
            and "html" not in request.META.get("HTTP_ACCEPT", "")
            and "format=" not in request.META.get("QUERY_STRING", "")
        )
        setattr(request, _ATTR, plain)
    return plain


class _SkipForPlainApiRequests:
    def __call__(self, request):
        if is_plain_api_request(request):
            return self.get_response(request)
        return super().__call__(request)


class BrowserSessionMiddleware(_SkipForPlainApiRequests, SessionMiddleware):
    pass


class BrowserAuthenticationMiddleware(_SkipForPlainApiRequests, AuthenticationMiddleware):
    pass


class BrowserMessageMiddleware(_SkipForPlainApiRequests, MessageMiddleware):
    pass
