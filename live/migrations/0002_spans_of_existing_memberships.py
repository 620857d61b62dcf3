"""Open a membership span for every membership that exists when the event log arrives, so
current members read their chats' events from the first one stored."""

from django.db import migrations


def open_spans(apps, schema_editor):
    Membership = apps.get_model("chats", "Membership")
    MembershipSpan = apps.get_model("live", "MembershipSpan")
    rows = Membership.objects.values_list("user_id", "chat_id").iterator(chunk_size=2000)
    batch = []
    for user_id, chat_id in rows:
        batch.append(MembershipSpan(user_id=user_id, chat_id=chat_id, start_id=1))
        if len(batch) == 2000:
            MembershipSpan.objects.bulk_create(batch)
            batch = []
    MembershipSpan.objects.bulk_create(batch)


class Migration(migrations.Migration):
    dependencies = [
        ("live", "0001_initial"),
        ("chats", "0003_last_message_id_plain_column"),
    ]

    operations = [migrations.RunPython(open_spans, migrations.RunPython.noop)]
