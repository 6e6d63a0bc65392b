"""The PostgreSQL trigger: the activity table accepts INSERT and nothing else."""

import pytest
from django.db import DatabaseError, connection, transaction

from koastops.activity.models import ActivityEntry
from koastops.activity.services import activity_record

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the append-only trigger exists on PostgreSQL only"
)


@pytest.fixture
def entry(admin_user, brand):
    with transaction.atomic():
        return activity_record(verb="brand.updated", actor=admin_user, target=brand, brand=brand)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE activity_activityentry SET verb = 'x'",
        "DELETE FROM activity_activityentry",
        "TRUNCATE activity_activityentry",
        "TRUNCATE activity_activityentry CASCADE",
    ],
)
def test_rewriting_the_log_fails(entry, statement):
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)
    assert ActivityEntry.objects.filter(pk=entry.pk, verb="brand.updated").exists()


def test_orm_delete_fails_too(entry):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        ActivityEntry.objects.all().delete()
