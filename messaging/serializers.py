"""Message representations and input validation."""

from datetime import UTC

from rest_framework import serializers

from chitchat.fields import StrictCharField, is_blank_text
from messaging.models import MESSAGE_MAX_LENGTH, Message


class UserRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    username = serializers.CharField(read_only=True)


class MessageSerializer(serializers.ModelSerializer):
    """The contract's message. Needs `author` loaded (select_related) and, for
    `liked_by_me`, an annotation of that name on the queryset (False when absent)."""

    author = UserRefSerializer(read_only=True)
    liked_by_me = serializers.SerializerMethodField()

    class Meta:
        model = Message
        fields = [
            "id",
            "chat_id",
            "author",
            "body",
            "created_at",
            "edited_at",
            "like_count",
            "liked_by_me",
            "client_id",
        ]
        read_only_fields = fields

    def get_liked_by_me(self, message) -> bool:
        return bool(getattr(message, "liked_by_me", False))

    def to_representation(self, message) -> dict:
        # The declared fields above document the shape (OpenAPI); the body is built by hand:
        # DRF's field-by-field walk was most of a message page's cost.
        if isinstance(message, dict):
            return message_row_data(message)
        return message_data(message)


# Columns of a message row for `.values()` querysets; `liked_by_me` is an annotation.
MESSAGE_ROW_FIELDS = (
    "id",
    "chat_id",
    "author_id",
    "author__username",
    "body",
    "created_at",
    "edited_at",
    "like_count",
    "client_id",
)


def iso_datetime(value) -> str | None:
    """As DRF's DateTimeField renders it: ISO 8601 in UTC with a Z."""
    if value is None:
        return None
    text = value.astimezone(UTC).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def message_row_data(row: dict) -> dict:
    """The contract's message from a `.values(*MESSAGE_ROW_FIELDS, "liked_by_me")` row."""
    return {
        "id": row["id"],
        "chat_id": row["chat_id"],
        "author": {"id": row["author_id"], "username": row["author__username"]},
        "body": row["body"],
        "created_at": iso_datetime(row["created_at"]),
        "edited_at": iso_datetime(row["edited_at"]),
        "like_count": row["like_count"],
        "liked_by_me": bool(row.get("liked_by_me", False)),
        "client_id": row["client_id"],
    }


def message_data(message: Message) -> dict:
    """The contract's message from a model instance (`author` loaded)."""
    return {
        "id": message.pk,
        "chat_id": message.chat_id,
        "author": {"id": message.author_id, "username": message.author.username},
        "body": message.body,
        "created_at": iso_datetime(message.created_at),
        "edited_at": iso_datetime(message.edited_at),
        "like_count": message.like_count,
        "liked_by_me": bool(getattr(message, "liked_by_me", False)),
        "client_id": message.client_id,
    }


class ChatRefSerializer(serializers.Serializer):
    """`{id, name}` of a message's chat; needs the `chat_name` annotation."""

    id = serializers.IntegerField(source="chat_id", read_only=True)
    name = serializers.CharField(source="chat_name", read_only=True)


class LatestMessageSerializer(MessageSerializer):
    """A message with its chat's id and name (messages/latest/)."""

    chat = ChatRefSerializer(source="*", read_only=True)

    class Meta(MessageSerializer.Meta):
        fields = [*MessageSerializer.Meta.fields, "chat"]
        read_only_fields = fields

    def to_representation(self, message) -> dict:
        data = super().to_representation(message)
        name = message["chat_name"] if isinstance(message, dict) else message.chat_name
        data["chat"] = {"id": data["chat_id"], "name": name}
        return data


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
    """Input of a send; a resent `client_id` returns the first message."""

    client_id = StrictCharField(
        max_length=64, required=False, allow_null=True, trim_whitespace=False
    )


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
