"""Top-level routes: each app's router under /api/v1/, admin, schema and docs, /healthz."""

from django.contrib import admin
from django.urls import include, path

from chitchat.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api-auth/", include("rest_framework.urls")),
    path("api/v1/", include("accounts.urls")),
    path("api/v1/", include("chats.urls")),
    path("api/v1/", include("messaging.urls")),
    path("api/", include("chitchat.docs_urls")),
]

handler404 = "chitchat.exceptions.page_not_found"
handler500 = "chitchat.exceptions.server_error"
