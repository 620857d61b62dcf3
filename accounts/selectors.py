"""Account reads: the users a signed-in caller may list and look up."""

from django.db.models import Q, QuerySet

from accounts.models import User


def users_visible(*, search: str | None = None) -> QuerySet[User]:
    """Active users, optionally matching `search` in username or name, ignoring case.

    icontains escapes `%` and `_`, so they match literally.
    """
    users = User.objects.filter(is_active=True)
    if search:
        users = users.filter(
            Q(username__icontains=search)
            | Q(first_name__icontains=search)
            | Q(last_name__icontains=search)
        )
    return users
