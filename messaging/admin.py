"""Admin for moderating messages and likes.

Deleting a message here (the delete page or the bulk action) goes through
messaging.services.message_delete, and deleting a like through message_unlike: the same code
as the API, so live events are sent and the counters stay right. Changelists cost a fixed
number of queries with millions of rows: joins via list_select_related, the chat filter takes
an id rather than listing every chat, and the unfiltered row count comes from PostgreSQL's
estimate instead of a full COUNT.
"""

from django.contrib import admin
from django.contrib.admin.utils import model_ngettext
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import (
    Case,
    Count,
    Exists,
    IntegerField,
    Min,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.text import Truncator

from chats.models import Chat
from messaging.models import Like, Message, Report
from messaging.services import (
    message_delete,
    message_unlike,
    reported_messages_delete,
    reported_messages_dismiss,
)

# Below this many rows an exact COUNT is cheap enough.
EXACT_COUNT_LIMIT = 100_000


class EstimatedCountPaginator(Paginator):
    """Exact counts, except an unfiltered PostgreSQL table, counted from its statistics."""

    @cached_property
    def count(self) -> int:
        qs = self.object_list
        if isinstance(qs, QuerySet) and not qs.query.where and qs.db:
            connection = connections[qs.db]
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
                        [qs.model._meta.db_table],
                    )
                    row = cursor.fetchone()
                if row and row[0] > EXACT_COUNT_LIMIT:
                    return row[0]
        return super().count


def _is_chat_id(value: str) -> bool:
    """ASCII digits within a bigint: `str.isdigit()` also accepts "²", which int() refuses."""
    return value.isascii() and value.isdigit() and int(value) < 2**63


class RecentChatFilter(admin.SimpleListFilter):
    """Filter by chat without listing every chat: the 20 most recently active ones are offered,
    and any chat is reachable with ?chat=<id> (the chat column links there)."""

    title = "chat"
    parameter_name = "chat"
    recent = 20

    def lookups(self, request, model_admin):
        choices = [
            (str(chat.pk), str(chat))
            for chat in Chat.objects.order_by("-last_activity_at", "-id").only("id", "name")[
                : self.recent
            ]
        ]
        value = self.value()
        if value and _is_chat_id(value) and value not in {pk for pk, _ in choices}:
            chat = Chat.objects.filter(pk=value).only("id", "name").first()
            if chat is not None:
                choices.insert(0, (value, str(chat)))
        return choices

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        if not _is_chat_id(value):
            return queryset.none()
        return queryset.filter(chat_id=int(value))


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ("id", "excerpt", "chat_link", "author", "created_at", "edited_at", "like_count")
    list_display_links = ("id", "excerpt")
    list_filter = (RecentChatFilter, "created_at")
    list_select_related = ("chat", "author")
    search_fields = ("body",)
    search_help_text = "Message text contains"
    ordering = ("-id",)
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    raw_id_fields = ("chat", "author")
    # Moderation reads and deletes; writing a message goes through the API's services.
    fields = ("chat", "author", "body", "created_at", "edited_at", "client_id", "like_count")
    readonly_fields = fields

    @admin.display(description="body", ordering="body")
    def excerpt(self, message: Message) -> str:
        return Truncator(message.body).chars(80)

    @admin.display(description="chat", ordering="chat_id")
    def chat_link(self, message: Message) -> str:
        return format_html(
            '<a href="?chat={}" title="Messages of this chat only">{}</a>',
            message.chat_id,
            message.chat,
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def get_deleted_objects(self, objs, request):
        # The stock page lists every like of every message; a summary is enough here.
        messages = list(objs)
        likes = sum(message.like_count for message in messages)
        perms_needed = set()
        if not self.has_delete_permission(request):
            perms_needed.add(Message._meta.verbose_name)
        model_count = {model_ngettext(Message, len(messages)): len(messages), "likes": likes}
        return [str(message) for message in messages], model_count, perms_needed, []

    def delete_model(self, request: HttpRequest, obj: Message) -> None:
        message_delete(message=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Message]) -> None:
        for message in queryset.select_related("chat", "author").order_by("pk"):
            message_delete(message=message)


@admin.register(Like)
class LikeAdmin(admin.ModelAdmin):
    list_display = ("id", "user", "message_excerpt", "message_chat", "created_at")
    list_select_related = ("user", "message")
    list_filter = ("created_at",)
    search_fields = ("user__username",)
    search_help_text = "Username contains"
    ordering = ("-id",)
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    raw_id_fields = ("message", "user")
    fields = ("message", "user", "created_at")
    readonly_fields = fields

    @admin.display(description="message")
    def message_excerpt(self, like: Like) -> str:
        return Truncator(like.message.body).chars(60)

    @admin.display(description="chat id")
    def message_chat(self, like: Like) -> int:
        return like.message.chat_id

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def delete_model(self, request: HttpRequest, obj: Like) -> None:
        # Through the service: the message's like_count follows and message.liked is sent.
        message_unlike(message=obj.message, user=obj.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Like]) -> None:
        for like in queryset.select_related("message", "user").order_by("pk"):
            self.delete_model(request, like)


# ---------------------------------------------------------------------------------------
# 1.1 the moderation queue of reports
# ---------------------------------------------------------------------------------------
class ReportStatusFilter(admin.SimpleListFilter):
    """Messages with open reports (the default view), or those already handled."""

    title = "status"
    parameter_name = "handled"

    def lookups(self, request, model_admin):
        return [("no", "open"), ("yes", "handled")]

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(has_open=True)
        if self.value() == "yes":
            return queryset.filter(has_open=False)
        return queryset


@admin.register(Report)
class ReportQueueAdmin(admin.ModelAdmin):
    """One row per reported message (its first report stands for it): open first, then
    oldest first, with the number of reports, their reasons, and the message's text and
    author as reported (kept after the message is deleted). Actions go through
    messaging.services, as the API does."""

    list_display = (
        "message_id",
        "excerpt",
        "message_author_username",
        "chat_id",
        "queue_status",
        "report_count",
        "reasons",
        "created_at",
    )
    list_display_links = ("excerpt",)
    list_filter = (ReportStatusFilter,)
    actions = ("delete_reported_messages", "dismiss_reports")
    show_full_result_count = False
    fields = (
        "message_id",
        "chat",
        "message_author_username",
        "message_body",
        "reporter",
        "reason",
        "note",
        "status",
        "created_at",
    )
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Report]:
        same_message = Report.objects.filter(message_id=OuterRef("message_id")).order_by()
        firsts = Report.objects.values("message_id").annotate(first=Min("id")).values("first")

        def counted(**filters):
            rows = same_message.filter(**filters).values("message_id")
            return Coalesce(
                Subquery(rows.annotate(n=Count("id")).values("n"), output_field=IntegerField()),
                0,
            )

        return (
            Report.objects.filter(pk__in=firsts)
            .annotate(
                has_open=Exists(same_message.filter(status=Report.Status.OPEN)),
                report_count=counted(),
                spam=counted(reason=Report.Reason.SPAM),
                abuse=counted(reason=Report.Reason.ABUSE),
                other=counted(reason=Report.Reason.OTHER),
                open_first=Case(When(has_open=True, then=Value(0)), default=Value(1)),
            )
            .order_by("open_first", "id")
        )

    @admin.display(description="message")
    def excerpt(self, report: Report) -> str:
        return Truncator(report.message_body).chars(80)

    @admin.display(description="status")
    def queue_status(self, report: Report) -> str:
        return "open" if report.has_open else report.status

    @admin.display(description="reports")
    def report_count(self, report: Report) -> int:
        return report.report_count

    @admin.display(description="reasons")
    def reasons(self, report: Report) -> str:
        counts = (("spam", report.spam), ("abuse", report.abuse), ("other", report.other))
        return ", ".join(f"{reason}: {n}" for reason, n in counts if n)

    @admin.action(description="Delete the reported messages")
    def delete_reported_messages(self, request: HttpRequest, queryset: QuerySet[Report]) -> None:
        ids = sorted({report.message_id for report in queryset})
        reported_messages_delete(message_ids=ids)
        self.message_user(request, f"{len(ids)} reported message(s) handled as deleted.")

    @admin.action(description="Dismiss the reports")
    def dismiss_reports(self, request: HttpRequest, queryset: QuerySet[Report]) -> None:
        ids = sorted({report.message_id for report in queryset})
        reported_messages_dismiss(message_ids=ids)
        self.message_user(request, f"Reports of {len(ids)} message(s) dismissed.")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # reports are closed by the actions, never deleted by hand
