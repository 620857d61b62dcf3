"""Message permission classes, composed per action in messaging.views.

Membership of the message's chat is chats.permissions.IsChatMember (it accepts a message).
"""

from rest_framework.permissions import BasePermission

from chats.permissions import ADMIN_ROLES, caller_role


class IsMessageAuthor(BasePermission):
    message = "Only the author of this message may do this."

    def has_object_permission(self, request, view, obj) -> bool:
        return obj.author_id == request.user.pk


class CanModerateMessage(BasePermission):
    """The chat's owner or an admin, or staff, may delete anyone's message."""

    message = "Only the author, an owner or admin of the chat, or staff may do this."

    def has_object_permission(self, request, view, obj) -> bool:
        if request.user.is_staff:
            return True
        return caller_role(request, obj.chat) in ADMIN_ROLES
