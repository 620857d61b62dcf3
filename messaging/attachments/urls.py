"""Routes of attachments: `urlpatterns` under /api/v1/ (downloads) and `chat_urlpatterns`
under /api/v1/chats/{chat_id}/ (uploads), mounted by messaging.urls."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from messaging.attachments.views import AttachmentViewSet, ChatAttachmentViewSet

router = SimpleRouter()
router.register("attachments", AttachmentViewSet, basename="attachment")

urlpatterns = router.urls

chat_urlpatterns = [
    path(
        "attachments/",
        ChatAttachmentViewSet.as_view({"post": "create"}),
        name="chat-attachments",
    ),
]
