"""The Attachment row: a file uploaded to a chat, used by at most one message."""

from django.conf import settings
from django.db import models

NAME_MAX_LENGTH = 255


class Attachment(models.Model):
    chat = models.ForeignKey("chats.Chat", on_delete=models.CASCADE, related_name="attachments")
    uploader = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="attachments"
    )
    # Null until a send claims it (messaging.attachments.services.attachments_claim); then
    # `position` keeps the order the sender gave.
    message = models.ForeignKey(
        "messaging.Message",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="attachments",
    )
    position = models.PositiveSmallIntegerField(default=0)
    name = models.CharField(max_length=NAME_MAX_LENGTH)
    size = models.PositiveBigIntegerField()
    content_type = models.CharField(max_length=100)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    # Storage names chosen by the server (never the client's name): see files.storage_name.
    file = models.FileField(max_length=255)
    thumbnail = models.FileField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            # A page's attachments: WHERE message_id IN (...) ORDER BY message_id, position.
            models.Index(fields=["message", "position"], name="attachment_message_idx"),
            # The purge: unused uploads by age.
            models.Index(
                fields=["created_at"],
                condition=models.Q(message__isnull=True),
                name="attachment_unused_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"attachment {self.pk} ({self.name}) in chat {self.chat_id}"
