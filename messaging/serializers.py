"""Message input validation, and the schema of message bodies.

The bodies themselves are built by messaging.rows.message_body; the read-only serializers
here only describe them for OpenAPI, and chitchat/tests/test_schema.py checks real bodies
against these components.
"""

import emoji as emoji_library
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from chats.serializers import UserRefSerializer
from chitchat.fields import StrictCharField, is_blank_text
from messaging.attachments.serializers import AttachmentSerializer
from messaging.models import (
    MESSAGE_MAX_LENGTH,
    REACTION_EMOJI_MAX_LENGTH,
    REPORT_NOTE_MAX_LENGTH,
    Message,
    Report,
)
from messaging.rows import MESSAGE_FIELDS

# Inline, nullable object schemas (no $ref): OAS 3.0 `nullable` beside `allOf` is ignored by
# validators, and a reply preview is nested in every message (also a chat's last_message).
_USER_REF_OR_NULL = {
    "type": "object",
    "nullable": True,
    "properties": {"id": {"type": "integer"}, "username": {"type": "string"}},
    "required": ["id", "username"],
}
REPLY_PREVIEW_SCHEMA = {
    "type": "object",
    "nullable": True,
    "description": "The message this one answers; once it is deleted, `author` and `body` "
    "are null and `deleted` is true.",
    "properties": {
        "id": {"type": "integer"},
        "author": _USER_REF_OR_NULL,
        "body": {"type": "string", "nullable": True, "description": "Its first 200 characters."},
        "deleted": {"type": "boolean"},
    },
    "required": ["id", "author", "body"],
}


@extend_schema_field(REPLY_PREVIEW_SCHEMA)
class ReplyPreviewField(serializers.JSONField):
    pass


class ReactionSummarySerializer(serializers.Serializer):
    emoji = serializers.CharField(read_only=True)
    count = serializers.IntegerField(read_only=True)
    me = serializers.BooleanField(
        read_only=True, help_text="The caller reacted with it (absent in live events)."
    )


class MessageSerializer(serializers.ModelSerializer):
    """The contract's message (schema only: see messaging.rows.message_body)."""

    author = UserRefSerializer(read_only=True)
    liked_by_me = serializers.BooleanField(read_only=True)
    reply_to = ReplyPreviewField(read_only=True, allow_null=True)
    reply_count = serializers.IntegerField(read_only=True)
    reactions = ReactionSummarySerializer(
        many=True, read_only=True, help_text="In the order each emoji was first used."
    )
    mentions = UserRefSerializer(
        many=True, read_only=True, help_text="Members mentioned, in order of first appearance."
    )
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
    reply_to = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=2**63 - 1,
        help_text="The id of the message of the same chat this one answers.",
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


class ReactionAddSerializer(serializers.Serializer):
    """Input of a reaction: exactly one emoji (skin-tone and ZWJ sequences included)."""

    emoji = serializers.CharField(
        max_length=REACTION_EMOJI_MAX_LENGTH,
        trim_whitespace=False,
        help_text="One emoji, such as 👍, 👍🏽 or 👨‍👩‍👧.",
    )

    def validate_emoji(self, value: str) -> str:
        # The `emoji` library follows the Unicode emoji data (RGI sequences included).
        if not emoji_library.is_emoji(value):
            raise serializers.ValidationError("Must be one emoji.", code="invalid")
        return value


class ReactionGroupSerializer(serializers.Serializer):
    """One emoji on a message: how many reacted with it, and the first 100 of them."""

    emoji = serializers.CharField(read_only=True)
    count = serializers.IntegerField(read_only=True)
    users = UserRefSerializer(many=True, read_only=True, help_text="The first 100, oldest first.")


class MessageVersionSerializer(serializers.Serializer):
    """An earlier body of a message and when an edit replaced it."""

    body = serializers.CharField(read_only=True)
    replaced_at = serializers.DateTimeField(read_only=True)


class ReportCreateSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=Report.Reason.choices)
    note = serializers.CharField(
        max_length=REPORT_NOTE_MAX_LENGTH, required=False, allow_blank=True, default=""
    )


class ReportSerializer(serializers.Serializer):
    """A report as its reporter sees it (built by messaging.views.report_body)."""

    id = serializers.IntegerField(read_only=True)
    message_id = serializers.IntegerField(read_only=True)
    reason = serializers.ChoiceField(choices=Report.Reason.choices, read_only=True)
    note = serializers.CharField(read_only=True)
    status = serializers.ChoiceField(choices=Report.Status.choices, read_only=True)
    created_at = serializers.DateTimeField(read_only=True)


class ChatReportSerializer(ReportSerializer):
    """An open report with the message it is about (GET chats/{id}/reports/)."""

    message = MessageSerializer(read_only=True)
