"""The user: Django's user with the contract's profile fields, unique ignoring case."""

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
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
