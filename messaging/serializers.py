"""Message representations and input validation."""

from rest_framework import serializers

from messaging.models import Message


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
