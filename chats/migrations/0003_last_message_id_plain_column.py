"""Chat.last_message becomes the plain column last_message_id (same column, same values):
chats no longer depends on messaging. The foreign-key constraint and its index go."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("chats", "0002_initial"),
        ("messaging", "0003_drop_single_column_fk_indexes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.AlterField(
                    model_name="chat",
                    name="last_message",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        db_constraint=False,
                        db_index=False,
                        on_delete=models.DO_NOTHING,
                        related_name="+",
                        to="messaging.message",
                    ),
                ),
            ],
            state_operations=[
                migrations.RemoveField(model_name="chat", name="last_message"),
                migrations.AddField(
                    model_name="chat",
                    name="last_message_id",
                    field=models.BigIntegerField(blank=True, null=True),
                ),
            ],
        ),
    ]
