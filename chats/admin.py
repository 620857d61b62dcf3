"""Admin for moderating chats and memberships.

Every changelist costs a fixed number of queries however many rows there are (joins via
list_select_related, counters read from denormalised columns, no full-table COUNT). Writes
go through chats.services, as the API's do, so live events are sent and rules hold: chat edits
(chat_update), deletion (chat_delete), role changes (member_role_set) and removals
(member_remove). Adding chats or members, and moving ownership, stay with the API.
"""

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import model_ngettext
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from chats.models import Chat, Membership
from chats.services import (
    UPDATABLE_FIELDS,
    chat_delete,
    chat_update,
    member_remove,
    member_role_set,
)

# The chat page shows this many memberships inline; the membership changelist (linked from
# the page, filtered on the chat) pages through the rest.
INLINE_MEMBERSHIPS = 50


class PrivacyFilter(admin.SimpleListFilter):
    """Private = non-empty passkey (the model has no is_private column)."""

    title = "privacy"
    parameter_name = "privacy"

    def lookups(self, request, model_admin):
        return (("private", "Private (passkey)"), ("public", "Public"))

    def queryset(self, request, queryset):
        if self.value() == "private":
            return queryset.exclude(passkey="")
        if self.value() == "public":
            return queryset.filter(passkey="")
        return queryset


class FirstMembershipsFormSet(BaseInlineFormSet):
    """Only the first INLINE_MEMBERSHIPS memberships (owner, admins, members), users joined."""

    def get_queryset(self):
        if not hasattr(self, "_first_memberships"):
            rank = Case(
                When(role=Membership.Role.OWNER, then=Value(0)),
                When(role=Membership.Role.ADMIN, then=Value(1)),
                default=Value(2),
                output_field=IntegerField(),
            )
            qs = super().get_queryset().select_related("user").order_by(rank, "id")
            self._first_memberships = list(qs[:INLINE_MEMBERSHIPS])
        return self._first_memberships

    def clean(self):
        super().clean()
        for form in self.initial_forms:
            if self._should_delete_form(form) and form.instance.role == Membership.Role.OWNER:
                raise forms.ValidationError("The owner cannot be removed from the chat.")


class MembershipRoleForm(forms.ModelForm):
    """Only the role of a membership changes here, and never to or from owner (ownership
    passes only when the owner leaves)."""

    class Meta:
        model = Membership
        fields = ("role",)

    def clean_role(self):
        role = self.cleaned_data["role"]
        current = self.instance.role
        if role != current and Membership.Role.OWNER in (role, current):
            raise forms.ValidationError("The owner's role cannot be changed, nor given.")
        return role


def membership_save(membership: Membership, changed: list[str]) -> None:
    """Role changes go through the service that the API uses."""
    if "role" in changed:
        member_role_set(chat=membership.chat, user=membership.user, role=membership.role)


def membership_delete(membership: Membership) -> None:
    """Removal goes through the service: the member gets member.left and stops hearing."""
    member_remove(chat=membership.chat, user=membership.user)


class MembershipInline(admin.TabularInline):
    model = Membership
    form = MembershipRoleForm
    formset = FirstMembershipsFormSet
    fields = ("user", "role", "joined_at", "last_read_message_id")
    # The user is shown, not edited: a membership is added through the API (capacity, events).
    readonly_fields = ("user", "joined_at", "last_read_message_id")
    extra = 0
    show_change_link = True
    verbose_name_plural = f"memberships (the first {INLINE_MEMBERSHIPS}; all: link above)"

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class ChatAdminForm(forms.ModelForm):
    class Meta:
        model = Chat
        fields = ("name", "description", "passkey", "capacity")

    def clean_capacity(self):
        # chat_update checks it again under the row lock; this turns it into a form error.
        capacity = self.cleaned_data["capacity"]
        if capacity is not None and self.instance.pk is not None:
            members = self.instance.member_count
            if capacity < members:
                raise forms.ValidationError(
                    f"The chat has {members} members; capacity cannot be lower."
                )
        return capacity


@admin.register(Chat)
class ChatAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "name",
        "kind",
        "is_private",
        "capacity",
        "message_count",
        "created_by",
        "created_at",
        "last_activity_at",
    )
    list_display_links = ("id", "name")
    list_filter = ("kind", PrivacyFilter, "created_at")
    list_select_related = ("created_by",)
    search_fields = ("name",)
    search_help_text = "Name contains"
    ordering = ("-id",)
    show_full_result_count = False
    form = ChatAdminForm
    readonly_fields = (
        "kind",
        "direct_key",
        "created_by",
        "invite_code",
        "created_at",
        "last_activity_at",
        "message_count",
        "last_message_id",
        "all_memberships",
        "all_messages",
    )
    fields = (
        "name",
        "description",
        "passkey",
        "capacity",
        "kind",
        "direct_key",
        "created_by",
        "created_at",
        "last_activity_at",
        "message_count",
        "last_message_id",
        "invite_code",
        "all_memberships",
        "all_messages",
    )
    inlines = (MembershipInline,)

    @admin.display(boolean=True, description="private")
    def is_private(self, chat: Chat) -> bool:
        return chat.is_private

    @admin.display(description="memberships")
    def all_memberships(self, chat: Chat) -> str:
        url = reverse("admin:chats_membership_changelist") + f"?chat__id__exact={chat.pk}"
        return format_html('<a href="{}">All memberships of this chat</a>', url)

    @admin.display(description="messages")
    def all_messages(self, chat: Chat) -> str:
        # The message admin (messaging, the app above) filters by ?chat=<id>.
        url = reverse("admin:messaging_message_changelist") + f"?chat={chat.pk}"
        return format_html('<a href="{}">{} messages</a>', url, chat.message_count)

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Chats are created through the API (chat_create makes the owner membership).
        return False

    def save_model(self, request, obj, form, change) -> None:
        fields = {name: form.cleaned_data[name] for name in form.changed_data}
        fields = {name: value for name, value in fields.items() if name in UPDATABLE_FIELDS}
        if fields:
            # chat_update re-reads the row under its lock, compares, saves, sends chat.updated.
            chat_update(chat=obj, **fields)
            obj.refresh_from_db()

    def save_formset(self, request, form, formset, change) -> None:
        if formset.model is not Membership:
            return super().save_formset(request, form, formset, change)
        # What formset.save() would record, for the admin's change message.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for inline_form in formset.initial_forms:
            membership = inline_form.instance
            if formset._should_delete_form(inline_form):
                membership_delete(membership)
                formset.deleted_objects.append(membership)
            elif inline_form.has_changed():
                membership_save(membership, inline_form.changed_data)
                formset.changed_objects.append((membership, inline_form.changed_data))
        return None

    # -- deletion through the service, with a summary instead of a million-row listing --
    def get_deleted_objects(self, objs, request):
        chats = list(objs)
        ids = [chat.pk for chat in chats]
        message_total = sum(chat.message_count for chat in chats)
        membership_total = Membership.objects.filter(chat_id__in=ids).count()
        summary = [str(chat) for chat in chats]
        model_count = {
            model_ngettext(Chat, len(chats)): len(chats),
            "messages": message_total,
            "memberships": membership_total,
        }
        perms_needed = set()
        if not self.has_delete_permission(request):
            perms_needed.add(Chat._meta.verbose_name)
        return summary, model_count, perms_needed, []

    def delete_model(self, request: HttpRequest, obj: Chat) -> None:
        chat_delete(chat=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Chat]) -> None:
        for chat in queryset.order_by("pk"):
            chat_delete(chat=chat)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("id", "chat", "user", "role", "joined_at", "last_read_message_id")
    list_filter = ("role", "joined_at")
    list_select_related = ("chat", "user")
    search_fields = ("user__username", "chat__name")
    search_help_text = "Username or chat name contains"
    form = MembershipRoleForm
    fields = ("chat", "user", "role", "joined_at", "last_read_message_id")
    readonly_fields = ("chat", "user", "joined_at", "last_read_message_id")
    ordering = ("-id",)
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Members join through the API: capacity, passkeys and live events live there.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Membership | None = None) -> bool:
        if obj is not None and obj.role == Membership.Role.OWNER:
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change) -> None:
        membership_save(obj, form.changed_data)

    def delete_model(self, request: HttpRequest, obj: Membership) -> None:
        membership_delete(obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Membership]) -> None:
        # The delete action already refused a selection with an owner (has_delete_permission).
        for membership in queryset.select_related("chat", "user").order_by("pk"):
            membership_delete(membership)
