"""Email addresses are one per person whatever their case: stored lower-cased, and unique
on ``lower(email)``. Two accounts whose addresses differ only in case must be merged by
hand first (the migration stops and names them)."""

import django.db.models.functions.text
from django.db import migrations, models
from django.db.models.functions import Lower


def lower_case_emails(apps, schema_editor):
    user_model = apps.get_model("accounts", "User")
    seen: dict[str, str] = {}
    for email in user_model.objects.values_list("email", flat=True):
        other = seen.setdefault(email.lower(), email)
        if other != email:
            raise RuntimeError(
                f"Users {other!r} and {email!r} differ only in case: deactivate and rename "
                "one of them (admin site) before migrating."
            )
    user_model.objects.exclude(email=Lower("email")).update(email=Lower("email"))


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_membership_from_role_grants"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.RunPython(lower_case_emails, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="user",
            constraint=models.UniqueConstraint(
                django.db.models.functions.text.Lower("email"),
                name="accounts_user_email_ci_unique",
            ),
        ),
    ]
