"""Chat.member_count, the number of the chat's memberships, counted from the rows."""

from django.db import migrations, models
from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce


def count_members(apps, schema_editor):
    Chat = apps.get_model("chats", "Chat")
    Membership = apps.get_model("chats", "Membership")
    counted = (
        Membership.objects.filter(chat=OuterRef("pk"))
        .order_by()
        .annotate(_group=Value(1))
        .values("_group")
        .annotate(n=Count("*"))
        .values("n")
    )
    Chat.objects.update(member_count=Coalesce(Subquery(counted, output_field=IntegerField()), 0))


class Migration(migrations.Migration):
    dependencies = [("chats", "0003_last_message_id_plain_column")]

    operations = [
        migrations.AddField(
            model_name="chat",
            name="member_count",
            field=models.PositiveIntegerField(db_default=0, default=0),
        ),
        migrations.RunPython(count_members, migrations.RunPython.noop, elidable=True),
    ]
