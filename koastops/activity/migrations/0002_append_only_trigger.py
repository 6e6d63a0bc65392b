"""On PostgreSQL, make the activity table append-only: UPDATE, DELETE and TRUNCATE
raise. (SQLite, used only for the local quickstart, has no such guard.)"""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION activity_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'activity_activityentry is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER activity_no_update_delete
    BEFORE UPDATE OR DELETE ON activity_activityentry
    FOR EACH ROW EXECUTE FUNCTION activity_append_only();

CREATE TRIGGER activity_no_truncate
    BEFORE TRUNCATE ON activity_activityentry
    FOR EACH STATEMENT EXECUTE FUNCTION activity_append_only();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS activity_no_truncate ON activity_activityentry;
DROP TRIGGER IF EXISTS activity_no_update_delete ON activity_activityentry;
DROP FUNCTION IF EXISTS activity_append_only();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        # A raw cursor without parameters, so the "%" of RAISE is not a placeholder.
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("activity", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
