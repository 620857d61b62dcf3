"""Account writes: registration, profile updates, passwords, token revocation, deletion."""

import logging
import smtplib

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from rest_framework.exceptions import ValidationError
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts.authentication import user_access_lock
from accounts.models import User
from accounts.signals import user_deleting
from live.events import close_user_sockets

logger = logging.getLogger(__name__)

USERNAME_TAKEN = "A user with that username already exists."
EMAIL_TAKEN = "A user with that email already exists."


def _unique_violation(exc: IntegrityError) -> ValidationError:
    """Turn a lost race on a case-insensitive unique constraint into a 400 on that field."""
    message = str(exc)
    if "user_email_ci_unique" in message:
        return ValidationError({"email": [EMAIL_TAKEN]}, code="unique")
    if "user_username_ci_unique" in message or "username" in message:
        return ValidationError({"username": [USERNAME_TAKEN]}, code="unique")
    return ValidationError({"non_field_errors": ["That user already exists."]}, code="unique")


def user_register(
    *, username: str, email: str, password: str, first_name: str = "", last_name: str = ""
) -> User:
    """Create a user. The serializer checks uniqueness first; the database decides races."""
    try:
        with transaction.atomic():
            return User.objects.create_user(
                username=username,
                email=email,
                password=password,
                first_name=first_name,
                last_name=last_name,
            )
    except IntegrityError as exc:
        raise _unique_violation(exc) from None


def user_update(*, user: User, **fields) -> User:
    """Update profile fields (already validated) of `user`."""
    for name, value in fields.items():
        setattr(user, name, value)
    if fields:
        try:
            with transaction.atomic():
                user.save(update_fields=list(fields))
        except IntegrityError as exc:
            raise _unique_violation(exc) from None
    return user


def user_refresh_tokens_revoke(*, user: User) -> None:
    """Blacklist every refresh token the user holds, so none of them can be used again."""
    outstanding = OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True)
    BlacklistedToken.objects.bulk_create(
        [
            BlacklistedToken(token_id=token_id)
            for token_id in outstanding.values_list("id", flat=True)
        ],
        ignore_conflicts=True,
    )


def user_password_set(*, user: User, password: str) -> None:
    """Set a new password and revoke the user's refresh tokens, in one transaction.

    Changing the password hash also invalidates any password-reset token already issued
    (Django's token generator hashes the password into the token).
    """
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        user_refresh_tokens_revoke(user=user)
        # Sockets opened with the old credentials close (4401) once this commits.
        close_user_sockets(user_id=user.pk)


def user_password_reset_confirm(*, user_id: int, token: str, password: str) -> User:
    """Check a reset token and set the password; the row lock makes the token single-use."""
    with transaction.atomic():
        user = User.objects.select_for_update().filter(pk=user_id, is_active=True).first()
        if user is None or not default_token_generator.check_token(user, token):
            raise ValidationError(
                {"token": ["The reset link is invalid or has already been used."]}
            )
        user_password_set(user=user, password=password)
    return user


def password_reset_request(*, email: str) -> None:
    """Email a reset link to the active account with that address, if there is one.

    The caller answers the same way whether or not an account exists (no enumeration).
    """
    user = User.objects.filter(email__iexact=email, is_active=True).first()
    if user is None or not user.has_usable_password():
        return
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    link = f"{settings.FRONTEND_URL.rstrip('/')}/reset-password?uid={uid}&token={token}"
    try:
        _send_reset_mail(user=user, link=link, uid=uid, token=token)
    except (OSError, smtplib.SMTPException):
        # The answer must not depend on whether an account exists, so a mail failure is
        # logged rather than surfaced.
        logger.exception("password-reset email to user %s failed", user.pk)


def _send_reset_mail(*, user: User, link: str, uid: str, token: str) -> None:
    send_mail(
        subject="Reset your Chit-Chat password",
        message=(
            f"Hello {user.username},\n\n"
            f"Someone asked to reset your Chit-Chat password. To choose a new one, open\n{link}\n"
            f"or POST uid={uid} token={token} and new_password to "
            f"/api/v1/auth/password/reset/confirm/.\n\n"
            f"If it was not you, ignore this email; the link expires on its own.\n"
        ),
        from_email=None,
        recipient_list=[user.email],
    )


def user_deactivate(*, user: User) -> bool:
    """Deactivate an account: no more sign-ins, tokens refused at once, refresh tokens
    revoked, open sockets closed with 4401 in every process. False if already inactive."""
    with transaction.atomic():
        if not User.objects.filter(pk=user.pk, is_active=True).update(is_active=False):
            return False
        user.is_active = False
        user_refresh_tokens_revoke(user=user)
        # update() sends no post_save: lock the tokens and close the sockets here.
        user_access_lock(user_id=user.pk)
        close_user_sockets(user_id=user.pk)
    return True


def user_delete(*, user: User) -> None:
    """Delete a user with everything that is theirs, in one transaction.

    The other apps do their part on `user_deleting` (chitchat.lifecycle: every chat left
    with its member.left, ownership passed on, messages and likes purged with their events,
    sockets closed); then the refresh tokens are revoked and the row goes.
    """
    with transaction.atomic():
        user_deleting.send(sender=User, user=user)
        user_refresh_tokens_revoke(user=user)
        user.delete()
