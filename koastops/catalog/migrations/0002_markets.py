"""Ships ISO 3166-1 countries as markets, each with its privacy regime.

The list lives in ``catalog/data/markets.json`` (generated once from ISO 3166-1 data);
the migration upserts by code, so running it on a database that already has markets
only fills the gaps."""

import json
from pathlib import Path

from django.db import migrations

DATA = Path(__file__).resolve().parent.parent / "data" / "markets.json"


def load_markets(apps, schema_editor):
    Market = apps.get_model("catalog", "Market")
    rows = json.loads(DATA.read_text(encoding="utf-8"))
    existing = set(Market.objects.values_list("code", flat=True))
    Market.objects.bulk_create(
        [Market(**row) for row in rows if row["code"] not in existing], batch_size=500
    )


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]

    operations = [migrations.RunPython(load_markets, migrations.RunPython.noop)]
