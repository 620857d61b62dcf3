"""`manage.py purge_events`: delete stored events older than EVENT_RETENTION_DAYS.

Safe from cron, any number of times, while the server runs: each batch is its own short
transaction deleting the oldest rows in position order (index-served), so writers (who only
insert new rows) are never held up, and readers whose `since` falls before the purged
horizon get resync_required.
"""

from datetime import timedelta

from django.core.management.base import BaseCommand
from django.utils import timezone

from live import log


class Command(BaseCommand):
    help = "Delete stored live events older than EVENT_RETENTION_DAYS, in small batches."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=1000)

    def handle(self, *args, batch_size: int, **options):
        before = timezone.now() - timedelta(days=log.retention_days())
        events = spans = 0
        more = True
        while more:
            deleted, more = log.purge_batch(before=before, batch_size=batch_size)
            events += deleted
        while True:
            deleted = log.purge_spans(before=before, batch_size=batch_size)
            spans += deleted
            if deleted < batch_size:
                break
        self.stdout.write(f"Deleted {events} events and {spans} ended memberships.")
