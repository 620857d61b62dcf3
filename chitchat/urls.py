"""Top-level routes: each app's router under /api/v1/, admin, schema and docs, /healthz."""

from django.contrib import admin
from django.urls import include, path, re_path

from chitchat.error_views import api_not_found
from chitchat.health import healthz
from chitchat.web_client import web_client
from messaging.urls import chat_urlpatterns, user_urlpatterns
from messaging.views import ID_REGEX

urlpatterns = [
    path("", web_client, name="web-client"),
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api-auth/", include("rest_framework.urls")),
    # First: a chat's messages are the hottest paths (send, page, catch-up), and Django tries
    # the patterns in order (the routers below hold some forty). Nothing below shares a path
    # with these.
    re_path(rf"^api/v1/chats/(?P<chat_id>{ID_REGEX})/", include(chat_urlpatterns)),
    path("api/v1/", include("accounts.urls")),
    path("api/v1/", include("chats.urls")),
    path("api/v1/", include("messaging.urls")),
    path("api/v1/", include("live.urls")),
    re_path(rf"^api/v1/users/(?P<user_id>{ID_REGEX})/", include(user_urlpatterns)),
    path("api/", include("chitchat.docs_urls")),
    # Last: anything else under /api/ is a JSON 404, whatever DEBUG says.
    re_path(r"^api/(?P<path>.*)$", api_not_found),
]

handler404 = "chitchat.error_views.page_not_found"
handler500 = "chitchat.error_views.server_error"
