from django.db import migrations, models
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce


def count_attachments(apps, schema_editor):
    """Messages sent with attachments before the column existed get their count."""
    Message = apps.get_model("messaging", "Message")
    Attachment = apps.get_model("messaging", "Attachment")
    used = Attachment.objects.filter(message__isnull=False)
    counts = (
        used.filter(message=OuterRef("pk"))
        .order_by()
        .values("message")
        .annotate(n=Count("id"))
        .values("n")
    )
    Message.objects.filter(pk__in=used.values("message")).update(
        attachment_count=Coalesce(Subquery(counts), 0)
    )


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0009_attachments"),
    ]

    operations = [
        migrations.AddField(
            model_name="message",
            name="attachment_count",
            field=models.PositiveIntegerField(db_default=0, default=0),
        ),
        migrations.RunPython(count_attachments, migrations.RunPython.noop),
    ]
