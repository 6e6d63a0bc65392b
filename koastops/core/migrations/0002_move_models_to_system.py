"""WorkerPing and Heartbeat moved to the ``system`` app (core knows no domain). The
tables are renamed, not recreated, so existing pings and heartbeats are kept."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.AlterModelTable("WorkerPing", "system_workerping"),
                migrations.AlterModelTable("Heartbeat", "system_heartbeat"),
            ],
            state_operations=[
                migrations.DeleteModel("WorkerPing"),
                migrations.DeleteModel("Heartbeat"),
            ],
        )
    ]
