"""Full-text search index on message bodies, PostgreSQL only (SQLite uses a substring match).

The expression is exactly what `SearchVector("body", config="simple")` compiles to, so the
planner can use the index for `?search=`.
"""

from django.db import migrations

INDEX_SQL = (
    "CREATE INDEX IF NOT EXISTS message_body_search_idx ON messaging_message "
    "USING gin (to_tsvector('simple'::regconfig, COALESCE(body, '')))"
)


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(INDEX_SQL)


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS message_body_search_idx")


class Migration(migrations.Migration):
    dependencies = [("messaging", "0001_initial")]

    operations = [migrations.RunPython(create_index, drop_index)]
