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


def identity_taken(*, field: str, value: str, exclude_pk: int | None = None) -> bool:
    """Whether `value` is taken as a username or email under identity_key (the database's
    unique rule). A username with `@` is also taken when it is another account's email:
    logins by email would otherwise be ambiguous."""
    key = identity_key(value)
    others = User.objects.filter(**{f"{field}_key": key})
    if field == "username" and "@" in value:
        others = User.objects.filter(Q(username_key=key) | Q(email_key=key))
    if exclude_pk is not None:
        others = others.exclude(pk=exclude_pk)
    return others.exists()
