"""Chat permission classes, composed per action in the viewsets (also by messaging's views).

Object permissions take a Chat, or any object with a `.chat` (a Message), so messaging's
views can reuse them. The caller's role is read from the `my_role` annotation of
`chats.selectors.chats_with_role` when present, else fetched once per request and cached.
"""

from rest_framework.permissions import BasePermission

from chats.models import Chat, Membership

ADMIN_ROLES = (Membership.Role.OWNER, Membership.Role.ADMIN)


def _chat_of(obj) -> Chat:
    return obj if isinstance(obj, Chat) else obj.chat


def get_membership(request, chat: Chat) -> Membership | None:
    """The caller's membership of `chat`, or None; one query per chat per request."""
    cache = getattr(request, "_chat_memberships", None)
    if cache is None:
        cache = {}
        request._chat_memberships = cache
    if chat.pk not in cache:
        user = request.user
        cache[chat.pk] = (
            Membership.objects.filter(chat=chat, user=user).first()
            if user and user.is_authenticated
            else None
        )
    return cache[chat.pk]


def caller_role(request, chat: Chat) -> str | None:
    """The caller's role in `chat` ("owner", "admin", "member") or None."""
    if hasattr(chat, "my_role"):
        return chat.my_role
    membership = get_membership(request, chat)
    return membership.role if membership else None


class IsChatMember(BasePermission):
    message = "You are not a member of this chat."

    def has_object_permission(self, request, view, obj) -> bool:
        return caller_role(request, _chat_of(obj)) is not None


class IsChatAdmin(BasePermission):
    """The chat's owner or one of its admins."""

    message = "Only the chat's owner or an admin may do this."

    def has_object_permission(self, request, view, obj) -> bool:
        return caller_role(request, _chat_of(obj)) in ADMIN_ROLES


class IsChatOwner(BasePermission):
    message = "Only the chat's owner may do this."

    def has_object_permission(self, request, view, obj) -> bool:
        return caller_role(request, _chat_of(obj)) == Membership.Role.OWNER


class IsStaff(BasePermission):
    message = "Only staff may do this."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_staff)


class IsGroupChat(BasePermission):
    """Direct chats have exactly their two members: no leaving, inviting or managing."""

    message = "Not possible in a direct chat."

    def has_object_permission(self, request, view, obj) -> bool:
        return _chat_of(obj).kind == Chat.Kind.GROUP


class IsPublicChat(BasePermission):
    """A group chat without a passkey: its members are visible to anyone signed in."""

    message = "Only members can see the members of a private chat."

    def has_object_permission(self, request, view, obj) -> bool:
        chat = _chat_of(obj)
        return chat.kind == Chat.Kind.GROUP and not chat.passkey


class ChangesOnlyChatText(BasePermission):
    """A PATCH that touches only name and description (any member may make it)."""

    message = "Only the chat's owner or an admin may change its passkey or capacity."

    def has_permission(self, request, view) -> bool:
        data = request.data if hasattr(request.data, "keys") else {}
        return not ({"passkey", "capacity"} & set(data.keys()))
