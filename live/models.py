"""The event log: every stored frame (one row per chat event, or per user for per-user
events), the membership spans that say whose a chat event is, and the purge horizon.

How positions are kept gap-free is explained in live/log.py.
"""

from django.db import models
from django.db.models import Q


class Event(models.Model):
    """One stored frame. A chat event (`chat_id` set, `user_id` null) is one row however many
    members the chat has; a per-user event (`user_id` set, `chat_id` null) is for that user
    only (chat.read). The frame's `pos` is made from (tx, id), see live/log.py."""

    id = models.BigAutoField(primary_key=True)
    tx = models.BigIntegerField()
    chat_id = models.BigIntegerField(null=True)
    user_id = models.BigIntegerField(null=True)
    frame = models.TextField()  # the frame's JSON, without `pos`
    created_at = models.DateTimeField()

    class Meta:
        db_table = "live_event"
        indexes = [
            # Reading order, the current position and the purge from the front.
            models.Index(fields=["tx", "id"], name="live_event_tx_id"),
            # A chat's events in its order (the span join) and its newest row (the key).
            models.Index(
                fields=["chat_id", "id"], name="live_event_chat", condition=Q(chat_id__isnull=False)
            ),
            models.Index(
                fields=["user_id", "tx", "id"],
                name="live_event_user",
                condition=Q(user_id__isnull=False),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(chat_id__isnull=True, user_id__isnull=False)
                | Q(chat_id__isnull=False, user_id__isnull=True),
                name="live_event_chat_xor_user",
            )
        ]

    def __str__(self) -> str:
        return f"event {self.tx}_{self.pk}"


class MembershipSpan(models.Model):
    """The chat events a user sees: those of `chat_id` with start_id <= id <= end_id (end
    null: still a member). Ids of one chat's events follow its commit order (they are
    written under the chat's row lock), so a span in ids is a span in that chat's history."""

    user_id = models.BigIntegerField()
    chat_id = models.BigIntegerField()
    start_id = models.BigIntegerField()
    end_id = models.BigIntegerField(null=True)
    ended_at = models.DateTimeField(null=True)

    class Meta:
        db_table = "live_membership_span"
        indexes = [models.Index(fields=["user_id", "chat_id"], name="live_span_user_chat")]

    def __str__(self) -> str:
        return f"user {self.user_id} in chat {self.chat_id} from {self.start_id}"


class PurgeHorizon(models.Model):
    """One row: the position of the last purged event. Every event at or before it is gone,
    so a `since` before it is too old (resync_required)."""

    tx = models.BigIntegerField(default=0)
    event_id = models.BigIntegerField(default=0)

    class Meta:
        db_table = "live_purge_horizon"

    def __str__(self) -> str:
        return f"purged up to {self.tx}_{self.event_id}"
