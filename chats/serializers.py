"""Chat and membership input validation, and the schema of their bodies.

The bodies themselves are built by chats.rows (chat_body, member_body); the read-only
serializers here only describe them for OpenAPI, and chitchat/tests/test_schema.py checks
real bodies against these components. The passkey is never part of a body.
"""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from chats.models import Chat, Membership
from chats.rows import CHAT_FIELDS, MEMBER_FIELDS
from chitchat.fields import StrictCharField

# The message component belongs to messaging (the app above); referenced by name.
NULLABLE_MESSAGE = {"allOf": [{"$ref": "#/components/schemas/Message"}], "nullable": True}


class UserRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    username = serializers.CharField(read_only=True)


@extend_schema_field(NULLABLE_MESSAGE)
class LastMessageField(serializers.DictField):
    pass


class ChatSerializer(serializers.ModelSerializer):
    """The contract's chat, as seen by the caller (schema only: see chats.rows.chat_body)."""

    name = serializers.CharField(read_only=True)
    is_private = serializers.BooleanField(read_only=True)
    member_count = serializers.IntegerField(read_only=True)
    created_by = UserRefSerializer(read_only=True, allow_null=True)
    is_member = serializers.BooleanField(read_only=True)
    role = serializers.ChoiceField(choices=Membership.Role.choices, read_only=True, allow_null=True)
    last_message = LastMessageField(read_only=True, allow_null=True)
    unread_count = serializers.IntegerField(read_only=True, allow_null=True)
    mention_count = serializers.IntegerField(
        read_only=True,
        allow_null=True,
        help_text="Messages after the caller's read marker that mention the caller (members).",
    )

    class Meta:
        model = Chat
        fields = list(CHAT_FIELDS)
        read_only_fields = fields


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
    """The contract's member (schema only: see chats.rows.member_body)."""

    user = UserRefSerializer(read_only=True)

    class Meta:
        model = Membership
        fields = list(MEMBER_FIELDS)
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
