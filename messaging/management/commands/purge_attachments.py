"""`python manage.py purge_attachments`: remove uploads no message uses after
ATTACHMENT_ORPHAN_HOURS (safe from cron, any number of times, beside live sends)."""

from django.core.management.base import BaseCommand

from messaging.attachments.services import attachments_purge


class Command(BaseCommand):
    help = "Remove attachments that no message uses, older than ATTACHMENT_ORPHAN_HOURS."

    def add_arguments(self, parser):
        parser.add_argument(
            "--hours",
            type=int,
            default=None,
            help="Age in hours (default: the ATTACHMENT_ORPHAN_HOURS setting).",
        )

    def handle(self, *args, hours=None, **options):
        removed = attachments_purge(older_than_hours=hours)
        self.stdout.write(f"Removed {removed} unused attachment(s).")
