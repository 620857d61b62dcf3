"""Admin for moderating users: search, filters, and a deactivate action."""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import ngettext

from accounts.models import User


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

    @admin.action(description="Deactivate selected users (they can no longer sign in)")
    def deactivate_users(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        # A moderator cannot lock themself out by mistake.
        queryset = queryset.exclude(pk=request.user.pk)
        count = queryset.filter(is_active=True).update(is_active=False)
        self.message_user(
            request,
            ngettext("%d user deactivated.", "%d users deactivated.", count) % count,
            messages.SUCCESS,
        )
