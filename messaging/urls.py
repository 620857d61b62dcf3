"""API routes of the messaging app. chitchat/urls.py mounts them: `urlpatterns` (the
/messages/ router) under /api/v1/, `chat_urlpatterns` under /api/v1/chats/{chat_id}/ and
`user_urlpatterns` under /api/v1/users/{user_id}/ (a chat's messages belong to messaging,
the app above chats, so chats' router does not know them)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from messaging.attachments import urls as attachment_urls
from messaging.views import (
    ChatMessageViewSet,
    ChatPinViewSet,
    ChatReportViewSet,
    DirectMessageViewSet,
    MessageViewSet,
)

router = SimpleRouter()
router.register("messages", MessageViewSet, basename="message")

urlpatterns = router.urls + attachment_urls.urlpatterns

chat_urlpatterns = [
    path(
        "messages/",
        ChatMessageViewSet.as_view({"get": "list", "post": "create"}),
        name="chat-messages",
    ),
    path("read/", ChatMessageViewSet.as_view({"post": "read"}), name="chat-read"),
    *attachment_urls.chat_urlpatterns,
    path("pins/", ChatPinViewSet.as_view({"get": "list"}), name="chat-pins"),
    path("reports/", ChatReportViewSet.as_view({"get": "list"}), name="chat-reports"),
]

user_urlpatterns = [
    path(
        "messages/",
        DirectMessageViewSet.as_view({"post": "create"}),
        name="user-messages",
    ),
]
