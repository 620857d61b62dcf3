"""PostgreSQL only: a statement-level trigger on live_event NOTIFYs `live_event`, so every
process's live hub (live/hub.py) wakes when events commit. PostgreSQL delivers a
notification at commit and folds a transaction's identical ones into one: the writer pays no
round trip for it. Other databases: nothing (the hub is woken in-process on commit)."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION live_event_notify() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('live_event', '');
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER live_event_notify AFTER INSERT ON live_event
    FOR EACH STATEMENT EXECUTE FUNCTION live_event_notify();
"""

DROP = """
DROP TRIGGER IF EXISTS live_event_notify ON live_event;
DROP FUNCTION IF EXISTS live_event_notify();
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("live", "0002_spans_of_existing_memberships")]

    operations = [migrations.RunPython(create, drop)]
