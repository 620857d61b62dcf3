"""The one way a password is checked: every login (token endpoint, browsable-API session
login, admin login) goes through `LockoutModelBackend`, so they share one lockout.

The lockout is keyed on the account the identifier resolves to (by username or email,
under `identity_key`), so look-alike spellings of one account share its count; a name
that matches no account is counted under its normalised form. Each attempt takes its
slot before the password is checked (see LoginLockout); a success clears the count.
"""

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from rest_framework.exceptions import Throttled

from accounts.models import User, identity_key
from accounts.selectors import user_for_login
from accounts.throttling import LoginLockout

# Set on the request when a login was refused by the lockout: the seconds to wait.
LOCKED_ATTRIBUTE = "login_locked_wait"


def lockout_for(*, user: User | None, identifier: str) -> LoginLockout:
    if user is not None:
        return LoginLockout(f"user:{user.pk}")
    return LoginLockout(f"name:{identity_key(identifier)}")


class LockoutModelBackend(ModelBackend):
    """ModelBackend with the login lockout, and lookup by username or email.

    `username` may hold an email address: an identifier with `@` that is some account's
    email is that account; otherwise it is a username. `email=` looks up emails only.
    When the account is locked, authentication stops here (PermissionDenied: no other
    backend is tried) and the request remembers the wait, for a 429 with Retry-After.
    """

    def authenticate(self, request, username=None, password=None, email=None, **kwargs):
        identifier = username if username is not None else kwargs.get(User.USERNAME_FIELD)
        email_only = identifier is None
        if email_only:
            identifier = email
        if identifier is None or password is None:
            return None
        user = user_for_login(identifier, email_only=email_only)
        lockout = lockout_for(user=user, identifier=identifier)
        try:
            lockout.attempt()
        except Throttled as exc:
            if request is not None:
                setattr(request, LOCKED_ATTRIBUTE, exc.wait)
            raise PermissionDenied("locked") from None
        if user is None:
            # Run the hasher anyway, so an unknown name takes as long as a wrong password.
            User().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            lockout.reset()
            return user
        return None


def password_confirm(*, user: User, password: str) -> bool:
    """Whether `password` is `user`'s, for a signed-in user confirming a sensitive change
    (password change, email change, account deletion).

    Counted in the same lockout as logins: a stolen access token does not allow unlimited
    password guesses either. Raises Throttled (429) when the account is locked.
    """
    lockout = lockout_for(user=user, identifier="")
    lockout.attempt()
    if user.check_password(password):
        lockout.reset()
        return True
    return False
