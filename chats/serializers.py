"""Chat and membership representations, and the input of chat writes.

ChatSerializer reads the annotations of chats.selectors.chats_visible_to; it runs no query
per row. The passkey is never part of a representation (only GET passkey/ returns it).
"""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from chats.models import Chat, Membership
from chitchat.fields import StrictCharField
from messaging.serializers import (
    MessageSerializer,
    UserRefSerializer,
    iso_datetime,
    message_data,
    message_row_data,
)


class ChatSerializer(serializers.ModelSerializer):
    """The contract's chat, as seen by the caller (needs the selector's annotations)."""

    name = serializers.SerializerMethodField()
    is_private = serializers.BooleanField(read_only=True)
    member_count = serializers.IntegerField(read_only=True)
    created_by = serializers.SerializerMethodField()
    is_member = serializers.SerializerMethodField()
    role = serializers.SerializerMethodField()
    last_message = serializers.SerializerMethodField()
    unread_count = serializers.IntegerField(read_only=True, allow_null=True)

    class Meta:
        model = Chat
        fields = [
            "id",
            "name",
            "description",
            "kind",
            "is_private",
            "capacity",
            "member_count",
            "message_count",
            "created_by",
            "created_at",
            "is_member",
            "role",
            "last_message",
            "unread_count",
        ]
        read_only_fields = fields

    def get_name(self, chat) -> str:
        return chat.display_name

    @extend_schema_field(UserRefSerializer(allow_null=True))
    def get_created_by(self, chat):
        # The members of a private group chat are hidden from non-members, its creator too.
        if chat.created_by is None or (chat.passkey and chat.my_role is None):
            return None
        return {"id": chat.created_by.pk, "username": chat.created_by.username}

    def get_is_member(self, chat) -> bool:
        return chat.my_role is not None

    @extend_schema_field(serializers.ChoiceField(choices=Membership.Role.choices, allow_null=True))
    def get_role(self, chat):
        return chat.my_role

    @extend_schema_field(MessageSerializer(allow_null=True))
    def get_last_message(self, chat):
        message = chat.last_message
        if message is None or chat.my_role is None:
            return None
        message.liked_by_me = chat.last_message_liked_by_me
        return message_data(message)

    def to_representation(self, chat) -> dict:
        # The declared fields document the shape (OpenAPI); the body is built directly:
        # DRF's field-by-field walk was a third of a chat list's time.
        if isinstance(chat, dict):
            return chat_row_data(chat)
        return {
            "id": chat.pk,
            "name": self.get_name(chat),
            "description": chat.description,
            "kind": chat.kind,
            "is_private": chat.is_private,
            "capacity": chat.capacity,
            "member_count": chat.member_count,
            "message_count": chat.message_count,
            "created_by": self.get_created_by(chat),
            "created_at": iso_datetime(chat.created_at),
            "is_member": self.get_is_member(chat),
            "role": self.get_role(chat),
            "last_message": self.get_last_message(chat),
            "unread_count": chat.unread_count,
        }


def chat_row_data(row: dict) -> dict:
    """The contract's chat from a row of chats.selectors.my_chat_rows (the caller is a
    member, so creator, last message and unread count are theirs to see)."""
    last_message = None
    if row["last_id"] is not None:
        last_message = message_row_data(
            {
                "id": row["last_id"],
                "chat_id": row["id"],
                "author_id": row["last_author_id"],
                "author__username": row["last_author_username"],
                "body": row["last_body"],
                "created_at": row["last_created_at"],
                "edited_at": row["last_edited_at"],
                "like_count": row["last_like_count"],
                "liked_by_me": row["last_liked_by_me"],
                "client_id": row["last_client_id"],
            }
        )
    created_by = None
    if row["created_by_id"] is not None:
        created_by = {"id": row["created_by_id"], "username": row["created_by_username"]}
    return {
        "id": row["id"],
        "name": row["display_name"],
        "description": row["description"],
        "kind": row["kind"],
        "is_private": row["is_private"],
        "capacity": row["capacity"],
        "member_count": row["member_count"],
        "message_count": row["message_count"],
        "created_by": created_by,
        "created_at": iso_datetime(row["created_at"]),
        "is_member": True,
        "role": row["my_role"],
        "last_message": last_message,
        "unread_count": row["unread_count"],
    }


class ChatCreateSerializer(serializers.Serializer):
    name = StrictCharField(min_length=1, max_length=80)
    description = StrictCharField(max_length=500, required=False, allow_blank=True)
    # Taken as given: spaces are part of a passkey.
    passkey = StrictCharField(
        max_length=128, required=False, allow_blank=True, trim_whitespace=False
    )
    capacity = serializers.IntegerField(
        min_value=2, max_value=10_000, required=False, allow_null=True
    )
    member_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        required=False,
        max_length=10_000,
    )


class ChatUpdateSerializer(serializers.Serializer):
    name = StrictCharField(min_length=1, max_length=80, required=False)
    description = StrictCharField(max_length=500, required=False, allow_blank=True)
    passkey = StrictCharField(
        max_length=128, required=False, allow_blank=True, trim_whitespace=False
    )
    capacity = serializers.IntegerField(
        min_value=2, max_value=10_000, required=False, allow_null=True
    )


class JoinSerializer(serializers.Serializer):
    passkey = StrictCharField(
        max_length=128, required=False, allow_blank=True, allow_null=True, trim_whitespace=False
    )


class PasskeySerializer(serializers.Serializer):
    passkey = serializers.CharField(read_only=True)


class InviteSerializer(serializers.Serializer):
    code = serializers.CharField(read_only=True)
    url = serializers.CharField(read_only=True)


class UserIdSerializer(serializers.Serializer):
    user_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1)


class MembershipSerializer(serializers.ModelSerializer):
    user = UserRefSerializer(read_only=True)

    class Meta:
        model = Membership
        fields = ["user", "role", "joined_at"]
        read_only_fields = fields


# Described by a pattern: a second "role" enum would collide with the membership role enum.
@extend_schema_field(
    {"type": "string", "pattern": "^(admin|member)$", "description": "`admin` or `member`"}
)
class AssignableRoleField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=[Membership.Role.ADMIN, Membership.Role.MEMBER], **kwargs)


class RoleSerializer(serializers.Serializer):
    role = AssignableRoleField()
