"""The user: Django's user with the contract's profile fields, unique ignoring case.

Usernames and emails are unique under one normalisation, `identity_key` (NFKC, then case
folding that also maps the dotless i U+0131 and the long s U+017F onto i and s). The keys are
stored in `username_key` and `email_key`, filled by `save()`, and unique in the database;
every lookup (login, registration checks, password reset) and the login lockout use them.
"""

import unicodedata

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import DEFAULT_DB_ALIAS, models


def identity_key(value: str) -> str:
    """The form under which two usernames (or two emails) are the same.

    NFKC folds compatibility characters (full-width letters, ligatures, U+017F long s to s); upper-
    then lower-casing folds what `casefold()` alone leaves apart (U+0131 dotless i to I to i), as
    PostgreSQL's `UPPER()` would; `casefold()` then handles `ß` and the like.
    """
    folded = unicodedata.normalize("NFKC", value or "").strip()
    folded = folded.upper().lower().casefold()
    return unicodedata.normalize("NFKC", folded)


class ChitChatUserManager(UserManager):
    def get_by_natural_key(self, username):
        # Logins match usernames under the same normalisation as the unique constraint.
        return self.get(username_key=identity_key(username))

    def bulk_create(self, objs, *args, **kwargs):
        # bulk_create skips save(): fill the keys here too.
        objs = list(objs)
        for user in objs:
            user.fill_identity_keys()
        return super().bulk_create(objs, *args, **kwargs)


class User(AbstractUser):
    email = models.EmailField("email address")
    bio = models.CharField(max_length=500, blank=True, default="")
    location = models.CharField(max_length=100, blank=True, default="")
    birth_date = models.DateField(null=True, blank=True)
    is_private = models.BooleanField(default=False)
    # identity_key(username) and identity_key(email), kept by save(); unique.
    username_key = models.TextField(editable=False, default="")
    email_key = models.TextField(editable=False, default="")

    objects = ChitChatUserManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["username_key"], name="user_username_key_unique"),
            models.UniqueConstraint(fields=["email_key"], name="user_email_key_unique"),
        ]

    def __str__(self) -> str:
        return self.username

    def fill_identity_keys(self) -> None:
        self.username_key = identity_key(self.username)
        self.email_key = identity_key(self.email)

    def save(self, *args, **kwargs):
        self.fill_identity_keys()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            fields = set(update_fields)
            if "username" in fields:
                fields.add("username_key")
            if "email" in fields:
                fields.add("email_key")
            kwargs["update_fields"] = fields
        super().save(*args, **kwargs)

    @classmethod
    def from_token(cls, user_id: int) -> "User":
        """A user known only by id (from a verified token); the rest loads on first use."""
        user = cls.from_db(DEFAULT_DB_ALIAS, ["id"], [user_id])
        user._load_rest_at_once = True
        return user

    def refresh_from_db(self, using=None, fields=None, from_queryset=None):
        # Django loads one deferred field per query; a token user loads all of them in one.
        if fields is not None and getattr(self, "_load_rest_at_once", False):
            self._load_rest_at_once = False
            fields = list({*fields, *self.get_deferred_fields()})
        super().refresh_from_db(using=using, fields=fields, from_queryset=from_queryset)
