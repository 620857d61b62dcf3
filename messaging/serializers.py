"""Message representations and input validation."""

from rest_framework import serializers

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


def _validate_body(value: str) -> str:
    if not value.strip():
        raise serializers.ValidationError("This field may not be blank.", code="blank")
    return value


class MessageBodySerializer(serializers.Serializer):
    """Input of an edit. The body is stored as written (not trimmed), but must not be blank."""

    body = serializers.CharField(min_length=1, max_length=MESSAGE_MAX_LENGTH, trim_whitespace=False)

    def validate_body(self, value: str) -> str:
        return _validate_body(value)


class MessageSendSerializer(MessageBodySerializer):
    """Input of a send; a resent `client_id` returns the first message."""

    client_id = serializers.CharField(
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
