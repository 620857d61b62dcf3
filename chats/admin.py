"""Admin for moderating chats and memberships.

Every changelist costs a fixed number of queries however many rows there are (joins via
list_select_related, counters read from denormalised columns, no full-table COUNT), and a
deleted chat goes through chats.services.chat_delete so that its live events are sent.
"""

from django.contrib import admin
from django.contrib.admin.utils import model_ngettext
from django.contrib.admin.widgets import ForeignKeyRawIdWidget
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.text import Truncator

from chats.models import Chat, Membership

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


class PrefetchedRawIdWidget(ForeignKeyRawIdWidget):
    """A raw-id widget that labels an already loaded object instead of querying for it.

    The stock widget runs one query per form to print the object's name next to the id,
    which makes an inline of N rows cost N queries.
    """

    known: dict = {}  # the form sets {str(id): object} per instance

    def label_and_url_for_value(self, value):
        obj = self.known.get(str(value))
        if obj is None:
            return super().label_and_url_for_value(value)
        opts = obj._meta
        try:
            url = reverse(
                f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_change", args=(obj.pk,)
            )
        except NoReverseMatch:
            url = ""
        return Truncator(obj).words(14), url


class FirstMembershipsFormSet(BaseInlineFormSet):
    """Only the first INLINE_MEMBERSHIPS memberships (owner and admins first), users joined."""

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

    def _construct_form(self, i, **kwargs):
        form = super()._construct_form(i, **kwargs)
        field = form.fields.get("user")
        if field is not None and form.instance.pk is not None:
            widget = field.widget
            inner = getattr(widget, "widget", widget)  # RelatedFieldWidgetWrapper or not
            if isinstance(inner, PrefetchedRawIdWidget):
                inner.known = {str(form.instance.user_id): form.instance.user}
        return form


class MembershipInline(admin.TabularInline):
    model = Membership
    formset = FirstMembershipsFormSet
    fields = ("user", "role", "joined_at", "last_read_message_id")
    readonly_fields = ("joined_at",)
    raw_id_fields = ("user",)
    extra = 0
    show_change_link = True
    verbose_name_plural = f"memberships (the first {INLINE_MEMBERSHIPS}; all: link above)"

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":
            kwargs["widget"] = PrefetchedRawIdWidget(db_field.remote_field, self.admin_site)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


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
    raw_id_fields = ("created_by", "last_message")
    readonly_fields = (
        "kind",
        "direct_key",
        "created_at",
        "last_activity_at",
        "message_count",
        "last_message",
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
        "last_message",
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
        url = reverse("admin:messaging_message_changelist") + f"?chat={chat.pk}"
        return format_html('<a href="{}">{} messages</a>', url, chat.message_count)

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Chats are created through the API (chat_create makes the owner membership).
        return False

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
        from chats.services import chat_delete

        chat_delete(chat=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Chat]) -> None:
        from chats.services import chat_delete

        for chat in queryset.order_by("pk"):
            chat_delete(chat=chat)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("id", "chat", "user", "role", "joined_at", "last_read_message_id")
    list_filter = ("role", "joined_at")
    list_select_related = ("chat", "user")
    search_fields = ("user__username", "chat__name")
    search_help_text = "Username or chat name contains"
    raw_id_fields = ("chat", "user")
    readonly_fields = ("joined_at",)
    ordering = ("-id",)
    show_full_result_count = False
