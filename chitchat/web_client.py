"""The web client's page at `/`: one HTML shell; its scripts and styles are static files."""

from django.shortcuts import render
from django.views.decorators.http import require_safe


def content_security_policy(host: str) -> str:
    """Only this server's own files: no inline script or style, no CDN, no plug-ins.

    The socket is the one cross-scheme connection: ws:// or wss:// to this same host
    ('self' covers it in CSP level 3 browsers; the explicit sources cover the others)."""
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data: blob:",
            f"connect-src 'self' ws://{host} wss://{host}",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


@require_safe
def web_client(request):
    response = render(request, "chitchat/client.html")
    response["Content-Security-Policy"] = content_security_policy(request.get_host())
    response["Referrer-Policy"] = "same-origin"
    response["Cache-Control"] = "no-cache"
    return response
