"""Usernames and emails unique under identity_key (NFKC + case folding), not Lower().

Existing rows get their keys here. Two old rows that collide under the new normalisation
(possible only for look-alikes such as `i`/`ı`) keep working: the later one's key gets its
id appended, so it stays unique and the earlier account owns the shared name.
"""

from django.db import migrations, models


def fill_keys(apps, schema_editor):
    from accounts.models import identity_key

    User = apps.get_model("accounts", "User")
    seen_usernames: set[str] = set()
    seen_emails: set[str] = set()
    batch = []
    for user in User.objects.order_by("id").only("id", "username", "email").iterator():
        user.username_key = identity_key(user.username)
        user.email_key = identity_key(user.email)
        if user.username_key in seen_usernames:
            user.username_key = f"{user.username_key}#{user.pk}"
        if user.email_key in seen_emails:
            user.email_key = f"{user.email_key}#{user.pk}"
        seen_usernames.add(user.username_key)
        seen_emails.add(user.email_key)
        batch.append(user)
        if len(batch) >= 1000:
            User.objects.bulk_update(batch, ["username_key", "email_key"])
            batch = []
    if batch:
        User.objects.bulk_update(batch, ["username_key", "email_key"])


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="username_key",
            field=models.TextField(default="", editable=False),
        ),
        migrations.AddField(
            model_name="user",
            name="email_key",
            field=models.TextField(default="", editable=False),
        ),
        migrations.RunPython(fill_keys, migrations.RunPython.noop),
        migrations.RemoveConstraint(model_name="user", name="user_username_ci_unique"),
        migrations.RemoveConstraint(model_name="user", name="user_email_ci_unique"),
        migrations.AddConstraint(
            model_name="user",
            constraint=models.UniqueConstraint(
                fields=("username_key",), name="user_username_key_unique"
            ),
        ),
        migrations.AddConstraint(
            model_name="user",
            constraint=models.UniqueConstraint(fields=("email_key",), name="user_email_key_unique"),
        ),
    ]
