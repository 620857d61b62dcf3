"""API routes of the messaging app: /messages/ (router) and the message routes under
/chats/{id}/ and /users/{id}/ (explicit paths; the chats and accounts routers leave them)."""

from django.urls import re_path
from rest_framework.routers import SimpleRouter

from messaging.views import ID_REGEX, ChatMessageViewSet, DirectMessageViewSet, MessageViewSet

router = SimpleRouter()
router.register("messages", MessageViewSet, basename="message")

urlpatterns = [
    re_path(
        rf"^chats/(?P<chat_id>{ID_REGEX})/messages/$",
        ChatMessageViewSet.as_view({"get": "list", "post": "create"}),
        name="chat-messages",
    ),
    re_path(
        rf"^chats/(?P<chat_id>{ID_REGEX})/read/$",
        ChatMessageViewSet.as_view({"post": "read"}),
        name="chat-read",
    ),
    re_path(
        rf"^users/(?P<user_id>{ID_REGEX})/messages/$",
        DirectMessageViewSet.as_view({"post": "create"}),
        name="user-messages",
    ),
    *router.urls,
]
