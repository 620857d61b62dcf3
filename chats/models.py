"""Chats (group or direct) and memberships with roles and read markers."""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q


def new_invite_code() -> str:
    return secrets.token_urlsafe(24)


class Chat(models.Model):
    class Kind(models.TextChoices):
        GROUP = "group"
        DIRECT = "direct"

    kind = models.CharField(max_length=6, choices=Kind.choices, default=Kind.GROUP)
    name = models.CharField(max_length=80, blank=True, default="")
    description = models.CharField(max_length=500, blank=True, default="")
    # Empty passkey = public chat. Never serialized except by the passkey endpoint.
    passkey = models.CharField(max_length=128, blank=True, default="")
    capacity = models.PositiveIntegerField(null=True, blank=True)
    invite_code = models.CharField(max_length=64, unique=True, default=new_invite_code)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Bumped under the chat row lock by every message send; `mine=true` orders by it.
    last_activity_at = models.DateTimeField(auto_now_add=True)
    # One direct chat per pair of users: "<smaller id>:<larger id>", null for group chats.
    direct_key = models.CharField(max_length=41, null=True, blank=True, unique=True)
    # Owned by messaging (this app knows nothing of messages): kept under the chat row lock
    # by messaging.services on every send, delete and purge. `last_message_id` is the id of
    # the chat's newest message (null when it has none), a plain column rather than a foreign
    # key so that chats does not depend on messaging.
    message_count = models.PositiveIntegerField(default=0)
    last_message_id = models.BigIntegerField(null=True, blank=True)
    # The number of memberships, kept by chats.services under the chat row lock wherever a
    # membership is created or deleted: the capacity check and the chat body read it.
    member_count = models.PositiveIntegerField(default=0, db_default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(capacity__isnull=True) | Q(capacity__gte=2, capacity__lte=10_000),
                name="chat_capacity_range",
            ),
            models.CheckConstraint(
                condition=Q(kind="group", direct_key__isnull=True)
                | Q(kind="direct", direct_key__isnull=False),
                name="chat_direct_key_iff_direct",
            ),
        ]
        indexes = [models.Index(fields=["-last_activity_at", "-id"], name="chat_activity_idx")]

    def __str__(self) -> str:
        return self.name or f"chat {self.pk}"

    @property
    def is_private(self) -> bool:
        return bool(self.passkey)

    @staticmethod
    def direct_key_for(user_a_id: int, user_b_id: int) -> str:
        low, high = sorted((user_a_id, user_b_id))
        return f"{low}:{high}"


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner"
        ADMIN = "admin"
        MEMBER = "member"

    chat = models.ForeignKey(Chat, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=6, choices=Role.choices, default=Role.MEMBER)
    joined_at = models.DateTimeField(auto_now_add=True)
    # Id of the newest message the member has read; starts at the chat's newest on join.
    last_read_message_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["chat", "user"], name="membership_unique"),
            models.UniqueConstraint(
                fields=["chat"], condition=Q(role="owner"), name="membership_one_owner"
            ),
        ]
        indexes = [models.Index(fields=["user", "chat"], name="membership_user_chat_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.chat_id} ({self.role})"
