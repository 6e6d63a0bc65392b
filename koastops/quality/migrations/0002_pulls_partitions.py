"""The monthly partitions of ``quality_hourlystat`` around today (PostgreSQL only): last
month to two months ahead. Beat (``koastops.quality.ensure_partitions``, daily) keeps
creating them ahead; a backfill creates the months of its range."""

from django.db import migrations


def create_partitions(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from koastops.quality import partitions

    partitions.ensure_partitions(months_back=1, months_ahead=2)


class Migration(migrations.Migration):
    dependencies = [("quality", "0001_initial")]

    operations = [migrations.RunPython(create_partitions, migrations.RunPython.noop)]
