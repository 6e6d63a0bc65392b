"""A person's API tokens that are not revoked have distinct names, whatever their case.

Existing namesakes are renamed, not revoked (something may still use them): the newest
keeps its name, older ones get " (2)", " (3)", … appended."""

import django.db.models.functions.text
from django.db import migrations, models


def rename_namesakes(apps, schema_editor):
    token_model = apps.get_model("accounts", "ApiToken")
    taken: dict[tuple[int, str], int] = {}
    rows = token_model.objects.filter(revoked_at__isnull=True).order_by("-created_at", "-pk")
    for token in rows:
        key = (token.user_id, token.name.lower())
        count = taken.get(key, 0) + 1
        taken[key] = count
        if count == 1:
            continue
        suffix = f" ({count})"
        name = token.name[: 100 - len(suffix)] + suffix
        while (token.user_id, name.lower()) in taken:
            count += 1
            suffix = f" ({count})"
            name = token.name[: 100 - len(suffix)] + suffix
        taken[(token.user_id, name.lower())] = 1
        token_model.objects.filter(pk=token.pk).update(name=name)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0006_user_email_case_insensitive"),
    ]

    operations = [
        migrations.RunPython(rename_namesakes, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="apitoken",
            constraint=models.UniqueConstraint(
                models.F("user"),
                django.db.models.functions.text.Lower("name"),
                condition=models.Q(("revoked_at__isnull", True)),
                name="accounts_apitoken_name_ci_unique",
            ),
        ),
    ]
