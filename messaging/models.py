"""Messages, likes (and attachments, defined in messaging.attachments.models)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual

MESSAGE_MAX_LENGTH = 5000


class Message(models.Model):
    # No single-column FK indexes: (chat, id) and (author, id) below serve every lookup by
    # chat or author, and a bare chat_id index lets the planner pick it plus a sort of the
    # whole chat for a page instead of walking (chat, id) (see selectors.chat_messages).
    chat = models.ForeignKey(
        "chats.Chat", on_delete=models.CASCADE, related_name="messages", db_index=False
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="messages", db_index=False
    )
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    edited_at = models.DateTimeField(null=True, blank=True)
    client_id = models.CharField(max_length=64, null=True, blank=True)
    # Denormalised with F() by messaging.services so lists need no COUNT per row.
    like_count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(
                # Not blank unless the message has attachments: services.message_send
                # checks that (a check constraint cannot see the attachment rows).
                condition=LessThanOrEqual(Length("body"), MESSAGE_MAX_LENGTH),
                name="message_body_max_length",
            ),
            models.UniqueConstraint(
                fields=["author", "chat", "client_id"],
                condition=Q(client_id__isnull=False),
                name="message_client_id_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["chat", "id"], name="message_chat_id_idx"),
            models.Index(fields=["author", "id"], name="message_author_id_idx"),
        ]

    def __str__(self) -> str:
        return f"message {self.pk} in chat {self.chat_id}"


class Like(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="likes")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="likes"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["message", "user"], name="like_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} likes {self.message_id}"


from messaging.attachments.models import Attachment  # noqa: E402, F401  (registers the model)
