"""Permission rules of the accounts endpoints."""

from rest_framework.permissions import BasePermission


class CanSeeFullProfile(BasePermission):
    """The full profile is for the user themself, or for anyone when it is not private.

    Used as a predicate by the user viewset to pick the serializer: a private profile is
    still visible, in its public view, so this never turns into a 403.
    """

    def has_object_permission(self, request, view, obj) -> bool:
        return not obj.is_private or obj.pk == request.user.pk
