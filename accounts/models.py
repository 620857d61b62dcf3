"""The user: Django's user with the contract's profile fields, unique ignoring case."""

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import DEFAULT_DB_ALIAS, models
from django.db.models.functions import Lower


class ChitChatUserManager(UserManager):
    def get_by_natural_key(self, username):
        # Logins match usernames ignoring case, as the unique constraint does.
        return self.get(username__iexact=username)


class User(AbstractUser):
    email = models.EmailField("email address")
    bio = models.CharField(max_length=500, blank=True, default="")
    location = models.CharField(max_length=100, blank=True, default="")
    birth_date = models.DateField(null=True, blank=True)
    is_private = models.BooleanField(default=False)

    objects = ChitChatUserManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("username"), name="user_username_ci_unique"),
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.username

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
