"""Admin for moderating users: search, filters, a deactivate action; deletion through
accounts.services.user_delete, the same code as DELETE /api/v1/users/me/."""

from django.contrib import admin, messages
from django.contrib.admin.utils import model_ngettext
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import ngettext

from accounts.models import User
from accounts.services import user_deactivate, user_delete


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = (
        "username",
        "email",
        "first_name",
        "last_name",
        "is_private",
        "is_active",
        "is_staff",
        "date_joined",
    )
    list_filter = ("is_staff", "is_superuser", "is_private", "is_active")
    search_fields = ("username", "email")
    search_help_text = "Username or email contains"
    ordering = ("-id",)
    # The full-table COUNT is skipped: with many users it costs more than the page itself.
    show_full_result_count = False
    actions = ("deactivate_users",)
    readonly_fields = ("last_login", "date_joined")
    fieldsets = (
        *DjangoUserAdmin.fieldsets[:1],
        (
            "Profile",
            {
                "fields": (
                    "first_name",
                    "last_name",
                    "email",
                    "bio",
                    "location",
                    "birth_date",
                    "is_private",
                )
            },
        ),
        *DjangoUserAdmin.fieldsets[2:],
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "email", "usable_password", "password1", "password2"),
            },
        ),
    )

    def get_deleted_objects(self, objs, request):
        # The stock page lists every message and like of the user (the other apps' rows,
        # which this app does not know); a summary of the accounts is enough.
        users = list(objs)
        model_count = {model_ngettext(User, len(users)): len(users)}
        perms_needed = set()
        if not self.has_delete_permission(request):
            perms_needed.add(User._meta.verbose_name)
        return [str(user) for user in users], model_count, perms_needed, []

    def delete_model(self, request: HttpRequest, obj: User) -> None:
        # As DELETE /users/me/: chats left, messages purged, sockets closed, tokens revoked.
        user_delete(user=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        for user in queryset.order_by("pk"):
            self.delete_model(request, user)

    @admin.action(description="Deactivate selected users (they can no longer sign in)")
    def deactivate_users(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        # A moderator cannot lock themself out by mistake.
        queryset = queryset.exclude(pk=request.user.pk)
        # Through the service, as everywhere: tokens refused, sockets closed (4401).
        count = sum(user_deactivate(user=user) for user in queryset.order_by("pk"))
        self.message_user(
            request,
            ngettext("%d user deactivated.", "%d users deactivated.", count) % count,
            messages.SUCCESS,
        )
