import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction

from koastops.activity.models import ActivityEntry
from koastops.activity.services import GENESIS_HASH, activity_record, activity_verify
from koastops.activity.verbs import UnknownVerb
from koastops.catalog import services as catalog
from tests.factories import market


def _record(user, target, verb="brand.updated", **kwargs):
    with transaction.atomic():
        return activity_record(verb=verb, actor=user, target=target, **kwargs)


def test_rows_are_chained_from_genesis(admin_user, brand):
    first = _record(admin_user, brand, brand=brand, before={"name": "A"}, after={"name": "B"})
    second = _record(admin_user, brand, brand=brand)
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.hash
    assert len(first.hash) == 64
    result = activity_verify()
    assert (result.ok, result.checked) == (True, 2)


def test_unregistered_verb_is_refused_and_nothing_written(admin_user, brand):
    with pytest.raises(UnknownVerb):
        _record(admin_user, brand, verb="brand.exploded")
    assert ActivityEntry.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_recording_outside_a_transaction_is_an_error(admin_user, brand):
    with pytest.raises(RuntimeError, match="inside the transaction"):
        activity_record(verb="brand.updated", actor=admin_user, target=brand)


def test_actor_label_survives_the_users_deletion(admin_user, brand):
    entry = _record(admin_user, brand, brand=brand)
    admin_user.delete()
    entry = ActivityEntry.objects.get(pk=entry.pk)
    assert entry.actor_label == "admin@example.com"
    assert activity_verify().ok


def test_failed_change_leaves_no_activity_row(admin_user):
    with pytest.raises(Exception, match="slug"):
        catalog.brand_create(user=admin_user, name="Bad", slug="not a slug!")
    assert ActivityEntry.objects.count() == 0


def test_catalog_changes_write_one_row_each_with_before_and_after(admin_user):
    brand = catalog.brand_create(
        user=admin_user, name="Nordwind", slug="nordwind", markets=[market("DE")]
    )
    brand = catalog.brand_update(
        user=admin_user, brand=brand, expected_version=1, name="Nordwind Outdoor"
    )
    catalog.brand_update(  # no change
        user=admin_user, brand=brand, expected_version=2, name="Nordwind Outdoor"
    )
    catalog.brand_archive(user=admin_user, brand=brand)
    with pytest.raises(catalog.AlreadyInState):  # already archived: no change
        catalog.brand_archive(user=admin_user, brand=brand)
    verbs = list(ActivityEntry.objects.order_by("id").values_list("verb", flat=True))
    assert verbs == ["brand.created", "brand.updated", "brand.archived"]
    updated = ActivityEntry.objects.get(verb="brand.updated")
    assert updated.before == {"name": "Nordwind"}
    assert updated.after == {"name": "Nordwind Outdoor"}
    assert updated.brand_id == brand.pk
    assert updated.actor_id == admin_user.pk


def test_token_change_is_logged_without_the_token(admin_user, pixel):
    catalog.pixel_set_access_token(user=admin_user, pixel=pixel, access_token="EAAB-secret-123")
    entry = ActivityEntry.objects.get(verb="pixel.token_changed")
    assert "EAAB-secret-123" not in str(entry.before) + str(entry.after)
    assert entry.after == {"access_token": "set"}


def test_verify_command_passes_on_clean_data(admin_user, brand, capsys):
    _record(admin_user, brand, brand=brand)
    call_command("verify_activity_log")
    assert "1 rows verified" in capsys.readouterr().out


@pytest.mark.django_db(transaction=True)
def test_verify_command_names_the_first_tampered_row(admin_user, brand):
    entries = [_record(admin_user, brand, brand=brand, after={"n": n}) for n in range(3)]
    tampered = entries[1]
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The append-only trigger must be switched off to tamper at all.
            cursor.execute("ALTER TABLE activity_activityentry DISABLE TRIGGER USER")
        cursor.execute(
            "UPDATE activity_activityentry SET target_label = %s WHERE id = %s",
            ["rewritten", tampered.pk],
        )
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE activity_activityentry ENABLE TRIGGER USER")
    with pytest.raises(CommandError, match=f"broken at row {tampered.pk}"):
        call_command("verify_activity_log")
