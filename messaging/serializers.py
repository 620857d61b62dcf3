"""Message input validation, and the schema of message bodies.

The bodies themselves are built by messaging.rows.message_body; the read-only serializers
here only describe them for OpenAPI, and chitchat/tests/test_schema.py checks real bodies
against these components.
"""

from rest_framework import serializers

from chats.serializers import UserRefSerializer
from chitchat.fields import StrictCharField, is_blank_text
from messaging.attachments.serializers import AttachmentSerializer
from messaging.models import MESSAGE_MAX_LENGTH, Message
from messaging.rows import MESSAGE_FIELDS


class MessageSerializer(serializers.ModelSerializer):
    """The contract's message (schema only: see messaging.rows.message_body)."""

    author = UserRefSerializer(read_only=True)
    liked_by_me = serializers.BooleanField(read_only=True)
    attachments = AttachmentSerializer(many=True, read_only=True)

    class Meta:
        model = Message
        fields = list(MESSAGE_FIELDS)
        read_only_fields = fields


class ChatRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)


class LatestMessageSerializer(MessageSerializer):
    """A message with its chat's id and name (messages/latest/)."""

    chat = ChatRefSerializer(read_only=True)

    class Meta(MessageSerializer.Meta):
        fields = [*MessageSerializer.Meta.fields, "chat"]
        read_only_fields = fields


def _validate_body(value: str) -> str:
    if is_blank_text(value):  # also zero-width and other invisible characters only
        raise serializers.ValidationError("This field may not be blank.", code="blank")
    return value


class MessageBodySerializer(serializers.Serializer):
    """Input of an edit. The body is stored as written (not trimmed), but must not be blank."""

    body = StrictCharField(min_length=1, max_length=MESSAGE_MAX_LENGTH, trim_whitespace=False)

    def validate_body(self, value: str) -> str:
        return _validate_body(value)


class MessageSendSerializer(MessageBodySerializer):
    """Input of a send; a resent `client_id` returns the first message. With
    `attachment_ids`, `body` may be empty or left out."""

    body = StrictCharField(
        required=False, allow_blank=True, max_length=MESSAGE_MAX_LENGTH, trim_whitespace=False
    )
    client_id = StrictCharField(
        max_length=64, required=False, allow_null=True, trim_whitespace=False
    )
    attachment_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        min_length=1,
        max_length=10,
        required=False,
        help_text="1-10 ids of unused attachments the caller uploaded to this chat.",
    )

    def validate_body(self, value: str) -> str:
        return value  # blank only with attachments: see validate()

    def validate(self, data: dict) -> dict:
        if not data.get("attachment_ids"):
            if "body" not in data:
                raise serializers.ValidationError(
                    {"body": [serializers.ErrorDetail("This field is required.", "required")]}
                )
            try:
                _validate_body(data["body"])
            except serializers.ValidationError as error:
                raise serializers.ValidationError({"body": error.detail}) from error
        data.setdefault("body", "")
        return data


class MarkReadSerializer(serializers.Serializer):
    message_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1)


class LikerSerializer(serializers.Serializer):
    """`{id, username}` of a user who liked a message (from a Like with `user` joined)."""

    id = serializers.IntegerField(source="user_id", read_only=True)
    username = serializers.CharField(source="user.username", read_only=True)


class MessageListQuerySerializer(serializers.Serializer):
    """Query parameters of a chat's message list."""

    after = serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=2**63 - 1,
        help_text="Only newer messages, oldest first.",
    )
    search = serializers.CharField(
        required=False, allow_blank=True, max_length=200, help_text="Words to find, any case."
    )
