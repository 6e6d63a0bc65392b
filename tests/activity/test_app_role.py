"""The application's PostgreSQL role (``db_grant_app_role``): it appends to and reads the
activity log, writes every other table, and cannot rewrite, truncate or alter the log.

Roles are cluster-wide, but CREATE ROLE and GRANT are transactional: the test's rolled-back
transaction takes the role with it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from koastops.activity.models import ActivityEntry
from koastops.activity.services import activity_record, activity_verify
from koastops.catalog.models import Brand

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="database roles exist on PostgreSQL only"
)

ROLE = "koastops_test_app"
TABLE = "activity_activityentry"


@pytest.fixture
def app_role(db) -> Iterator[str]:
    call_command("db_grant_app_role", role=ROLE)
    call_command("db_grant_app_role", role=ROLE)  # idempotent: a second run changes nothing
    with connection.cursor() as cursor:
        cursor.execute(f"SET ROLE {ROLE}")
    try:
        yield ROLE
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")


def _refused(sql: str, params: list | None = None) -> str:
    with pytest.raises(DatabaseError) as info, transaction.atomic(), connection.cursor() as c:
        c.execute(sql, params)
    return str(info.value)


def test_app_role_appends_to_and_reads_the_log(admin_user, brand, app_role):
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        assert cursor.fetchone()[0] == ROLE
    with transaction.atomic():
        entry = activity_record(verb="brand.updated", actor=admin_user, target=brand, brand=brand)
    assert ActivityEntry.objects.get(pk=entry.pk).hash == entry.hash
    assert activity_verify().ok


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ("UPDATE activity_activityentry SET verb = 'x'", "permission denied"),
        ("DELETE FROM activity_activityentry", "permission denied"),
        ("TRUNCATE activity_activityentry", "permission denied"),
        (f"ALTER TABLE {TABLE} DISABLE TRIGGER USER", "must be owner"),
        (f"ALTER TABLE {TABLE} ADD COLUMN note text", "must be owner"),
        (f"DROP TABLE {TABLE}", "must be owner"),
    ],
)
def test_app_role_cannot_rewrite_or_alter_the_log(admin_user, brand, app_role, statement, message):
    with transaction.atomic():
        entry = activity_record(verb="brand.updated", actor=admin_user, target=brand, brand=brand)
    # Refused for lack of privilege, before the append-only trigger is even reached.
    assert message in _refused(statement)
    assert ActivityEntry.objects.filter(pk=entry.pk, verb="brand.updated").exists()


def test_app_role_still_writes_the_other_tables(brand, app_role):
    Brand.objects.filter(pk=brand.pk).update(name="Renamed")
    assert Brand.objects.get(pk=brand.pk).name == "Renamed"
    other = Brand.objects.create(name="Temporary", slug="temporary")
    Brand.objects.filter(pk=other.pk).delete()
    assert not Brand.objects.filter(slug="temporary").exists()


def test_tables_created_later_are_granted_by_default(db):
    call_command("db_grant_app_role", role=ROLE)
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE koastops_later (id serial PRIMARY KEY, note text)")
        cursor.execute(f"SET ROLE {ROLE}")
        try:
            cursor.execute("INSERT INTO koastops_later (note) VALUES ('x')")
            cursor.execute("UPDATE koastops_later SET note = 'y'")
            cursor.execute("DELETE FROM koastops_later")
        finally:
            cursor.execute("RESET ROLE")


def test_the_owner_itself_is_refused_as_app_role(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        owner = cursor.fetchone()[0]
    with pytest.raises(CommandError, match=r"different role|superuser"):
        call_command("db_grant_app_role", role=owner)


def test_a_role_name_that_is_not_an_identifier_is_refused(db):
    with pytest.raises(CommandError, match="--role"):
        call_command("db_grant_app_role", role='x"; DROP TABLE y; --')
