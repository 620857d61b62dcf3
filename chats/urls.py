"""API routes of the chats app: the chat viewset and invite-code use."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from chats.views import ChatViewSet, InviteJoinView

router = SimpleRouter()
router.register("chats", ChatViewSet, basename="chat")

urlpatterns = [
    path("invites/<str:code>/", InviteJoinView.as_view(), name="invite-join"),
    *router.urls,
]
