"""Messages, likes, and (1.1) reactions, replies, pins, edits, mentions and reports
(attachments are defined in messaging.attachments.models)."""

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
    # 1.1 replies: no database constraint, so a reply keeps the id of a deleted parent (shown
    # as `{id, author: null, body: null, deleted: true}`). reply_count counts live replies.
    reply_to = models.ForeignKey(
        "self",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,  # the partial (reply_to, id) index below serves every lookup
        null=True,
        blank=True,
        related_name="replies",
    )
    # Database defaults too: bulk loaders writing raw rows (seed_chitchat) need not name them.
    reply_count = models.PositiveIntegerField(default=0, db_default=0)
    # 1.1 reactions: how many Reaction rows the message has, so a page only looks reactions
    # up for the messages that have some.
    reaction_count = models.PositiveIntegerField(default=0, db_default=0)
    # 1.1 pins: true while a Pin row exists (both written by messaging.services, under the
    # chat lock); the column lets a page show `pinned` without a lookup per row.
    pinned = models.BooleanField(default=False, db_default=False)
    # 1.1 mentions: how many users the body mentions (Mention rows), so a page only looks
    # mentions up for the messages that have some.
    mention_count = models.PositiveIntegerField(default=0, db_default=0)
    # 1.1 attachments: how many Attachment rows the message has (set at send, the only time
    # a message gets attachments), so a page only looks attachments up for those that have.
    attachment_count = models.PositiveIntegerField(default=0, db_default=0)

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
            models.Index(
                fields=["reply_to", "id"],
                condition=Q(reply_to__isnull=False),
                name="message_reply_to_id_idx",
            ),
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


REACTION_EMOJI_MAX_LENGTH = 32  # code points: the longest ZWJ and tag sequences are ~10
REACTIONS_MAX_DISTINCT = 20  # distinct emoji on one message (a 21st is a 409)
PINS_MAX = 50  # pinned messages in one chat (a 51st is a 409)


class Reaction(models.Model):
    """A user's reaction with one emoji to a message (1.1)."""

    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, related_name="reactions", db_index=False
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reactions"
    )
    emoji = models.CharField(max_length=REACTION_EMOJI_MAX_LENGTH)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["message", "user", "emoji"], name="reaction_unique"),
        ]
        # A message's reactions in first-use order, and each emoji's users oldest first.
        indexes = [models.Index(fields=["message", "emoji", "id"], name="reaction_emoji_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} reacts {self.emoji} to {self.message_id}"


class Pin(models.Model):
    """A pinned message (1.1). Its id orders a chat's pins: most recently pinned first."""

    chat = models.ForeignKey(
        "chats.Chat", on_delete=models.CASCADE, related_name="pins", db_index=False
    )
    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="pin")
    pinned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["chat", "id"], name="pin_chat_id_idx")]

    def __str__(self) -> str:
        return f"message {self.message_id} pinned in chat {self.chat_id}"


class MessageEdit(models.Model):
    """An earlier version of a message's body, kept when an edit replaced it (1.1)."""

    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, related_name="edits", db_index=False
    )
    body = models.TextField()
    replaced_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["message", "id"], name="message_edit_idx")]

    def __str__(self) -> str:
        return f"earlier body of message {self.message_id}"


class Mention(models.Model):
    """A member named as @username in a message's body (1.1); `position` is the order of
    first appearance."""

    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, related_name="mentions", db_index=False
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mentions", db_index=False
    )
    position = models.PositiveSmallIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["message", "user"], name="mention_unique"),
        ]
        # A user's mentions newest first (GET messages/mentions/, mention_count).
        indexes = [models.Index(fields=["user", "message"], name="mention_user_message_idx")]

    def __str__(self) -> str:
        return f"message {self.message_id} mentions {self.user_id}"


REPORT_NOTE_MAX_LENGTH = 500


class Report(models.Model):
    """A member's report of a message (1.1). The message's text and author are copied in,
    so the moderation queue still shows them once the message is deleted (`message` has
    no database constraint: the report keeps its id)."""

    class Reason(models.TextChoices):
        SPAM = "spam"
        ABUSE = "abuse"
        OTHER = "other"

    class Status(models.TextChoices):
        OPEN = "open"
        ACTIONED = "actioned"  # the message was deleted
        DISMISSED = "dismissed"

    message = models.ForeignKey(
        Message,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="reports",
        db_index=False,
    )
    chat = models.ForeignKey(
        "chats.Chat", on_delete=models.CASCADE, related_name="reports", db_index=False
    )
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reports_made"
    )
    reason = models.CharField(max_length=8, choices=Reason.choices)
    note = models.CharField(max_length=REPORT_NOTE_MAX_LENGTH, blank=True, default="")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    message_body = models.TextField()
    message_author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    message_author_username = models.CharField(max_length=150)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["message", "reporter"], name="report_unique"),
        ]
        indexes = [
            models.Index(fields=["chat", "status", "id"], name="report_chat_status_idx"),
            models.Index(fields=["status", "id"], name="report_status_idx"),
        ]

    def __str__(self) -> str:
        return f"report {self.pk} of message {self.message_id}"


from messaging.attachments.models import Attachment  # noqa: E402, F401  (registers the model)
