"""Account reads: the users a signed-in caller may list and look up."""

from django.db.models import Q, QuerySet

from accounts.models import User, identity_key


def users_visible(*, search: str | None = None) -> QuerySet[User]:
    """Active users, optionally matching `search` in username or name, ignoring case.

    First and last names are matched only for users who are not private: a private
    user's names are hidden, so a search must not reveal them either. icontains escapes
    `%` and `_`, so they match literally.
    """
    users = User.objects.filter(is_active=True)
    if search:
        users = users.filter(
            Q(username__icontains=search)
            | Q(is_private=False)
            & (Q(first_name__icontains=search) | Q(last_name__icontains=search))
        )
    return users


def user_for_login(identifier: str, *, email_only: bool = False) -> User | None:
    """The account a login identifier names, under identity_key; None if none.

    An identifier with `@` that is an account's email is that account (a username can
    never capture logins by someone's email); otherwise it names a username. The keys are
    unique, so there is at most one of each.
    """
    key = identity_key(identifier)
    if email_only or "@" in identifier:
        user = User.objects.filter(email_key=key).first()
        if user is not None or email_only:
            return user
    return User.objects.filter(username_key=key).first()
