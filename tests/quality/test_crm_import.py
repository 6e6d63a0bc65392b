"""Uploading and importing CRM conversions (koastops.quality.conversion_services)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from koastops.accounts.models import Role
from koastops.quality import conversion_services as services
from koastops.quality.models import Conversion, ConversionImport
from tests.factories import EventDefinitionFactory, RoleGrantFactory, UserFactory

HEADER = "event,occurred_at,external_id,value,currency,ad_account,campaign\n"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def analyst(brand):
    user = UserFactory(email="analyst@example.com")
    RoleGrantFactory(user=user, content_object=brand, role=Role.ANALYST)
    return user


@pytest.fixture
def plan(brand):
    EventDefinitionFactory(brand=brand, name="Purchase", status="active")
    EventDefinitionFactory(brand=brand, name="Lead", status="deprecated")
    EventDefinitionFactory(brand=brand, name="Draft", status="draft")


def csv_file(body: str, name: str = "crm.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, (HEADER + body).encode(), content_type="text/csv")


def rows(n: int, *, start: int = 0, value: str = "10.00") -> str:
    return "".join(
        f"Purchase,2026-11-{1 + i % 28:02d}T10:00:00+01:00,o-{i},{value},EUR,,\n"
        for i in range(start, start + n)
    )


def upload_and_run(analyst, brand, body: str, mode: str = "all") -> ConversionImport:
    record = services.conversion_upload(
        actor=analyst, brand=brand, file=csv_file(body), mode=mode, source="crm"
    )
    return services.conversion_import_run(record.pk)


@pytest.mark.django_db
def test_a_clean_file_is_imported_with_counts_and_one_activity_row(
    analyst, brand, plan, ad_account, activity
):
    activity.mark()
    body = rows(3) + f"Lead,2026-11-30T09:00:00Z,l-1,,,{ad_account.external_id},spring\n"
    record = upload_and_run(analyst, brand, body)
    assert record.status == "succeeded"
    assert (record.total_rows, record.created_rows, record.updated_rows) == (4, 4, 0)
    assert record.processed_rows == 4
    lead = Conversion.objects.get(external_id="l-1")
    assert lead.ad_account == ad_account and lead.campaign == "spring" and lead.value is None
    entry = activity.one("conversion_import.finished", actor=analyst, brand=brand)
    assert entry.after["created"] == 4


@pytest.mark.django_db
def test_all_or_nothing_rejects_the_file_on_one_bad_row(analyst, brand, plan):
    body = rows(2) + "Draft,2026-11-30T09:00:00Z,d-1,,,,\n" + rows(1, start=5)
    record = upload_and_run(analyst, brand, body)
    assert record.status == "rejected"
    assert Conversion.objects.count() == 0
    assert record.created_rows == 0 and record.error_rows == 1
    assert record.errors == [
        {
            "row": 4,
            "column": "event",
            "message": "“Draft” is not an active or deprecated event of the tracking plan.",
        }
    ]
    assert "nothing was imported" in record.message


@pytest.mark.django_db
def test_import_the_valid_rows_writes_them_and_reports_the_rest(analyst, brand, plan):
    body = rows(2) + "Purchase,2026-11-30T09:00:00,n-1,,,,\n"
    record = upload_and_run(analyst, brand, body, mode="valid")
    assert record.status == "succeeded"
    assert (record.created_rows, record.error_rows) == (2, 1)
    assert record.errors[0]["row"] == 4 and record.errors[0]["column"] == "occurred_at"
    assert Conversion.objects.count() == 2


@pytest.mark.django_db
def test_the_same_file_twice_creates_nothing_and_a_change_updates(analyst, brand, plan):
    first = upload_and_run(analyst, brand, rows(50))
    assert first.created_rows == 50
    again = upload_and_run(analyst, brand, rows(50))
    assert (again.created_rows, again.updated_rows, again.unchanged_rows) == (0, 0, 50)
    changed = upload_and_run(analyst, brand, rows(10, value="11.00") + rows(40, start=10))
    assert (changed.created_rows, changed.updated_rows, changed.unchanged_rows) == (0, 10, 40)
    assert Conversion.objects.count() == 50


@pytest.mark.django_db
def test_the_portable_upsert_counts_alike(analyst, brand, plan, monkeypatch):
    from koastops.quality import conversions as parsing

    vocabulary = parsing.vocabulary_for(brand)
    import io

    state = parsing.ParseState()
    parsed = [
        r
        for r in parsing.parse_csv(io.BytesIO((HEADER + rows(5)).encode()), vocabulary, state)
        if isinstance(r, parsing.ConversionRow)
    ]
    kw = {"brand_id": brand.pk, "source": "crm", "import_id": None}
    assert services._upsert_portable(rows=parsed, **kw).created == 5
    counts = services._upsert_portable(rows=parsed, **kw)
    assert (counts.created, counts.updated, counts.unchanged) == (0, 0, 5)


@pytest.mark.django_db
def test_a_header_error_rejects_even_in_valid_rows_mode(analyst, brand, plan):
    record = services.conversion_upload(
        actor=analyst,
        brand=brand,
        file=SimpleUploadedFile("x.csv", b"event,external_id\nPurchase,o-1\n"),
        mode="valid",
        source="crm",
    )
    record = services.conversion_import_run(record.pk)
    assert record.status == "rejected"
    assert record.errors[0] == {
        "row": 1,
        "column": "occurred_at",
        "message": "The required column “occurred_at” is missing from the header.",
    }


@pytest.mark.django_db
def test_upload_refuses_a_file_above_the_limit_before_reading_it(analyst, brand, settings):
    settings.CONVERSIONS_UPLOAD_MAX_BYTES = 100
    with pytest.raises(ValidationError) as caught:
        services.conversion_upload(
            actor=analyst, brand=brand, file=csv_file(rows(10)), mode="all", source="crm"
        )
    assert "the limit is 100 bytes" in caught.value.message_dict["file"][0]
    assert ConversionImport.objects.count() == 0


@pytest.mark.django_db
def test_upload_needs_conversions_upload_and_valid_mode_and_source(analyst, brand):
    ops = UserFactory()
    RoleGrantFactory(user=ops, content_object=brand, role=Role.OPS_LEAD)
    with pytest.raises(PermissionDenied):
        services.conversion_upload(
            actor=ops, brand=brand, file=csv_file(rows(1)), mode="all", source="crm"
        )
    with pytest.raises(ValidationError) as caught:
        services.conversion_upload(
            actor=analyst, brand=brand, file=csv_file(rows(1)), mode="maybe", source="crm"
        )
    assert "mode" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        services.conversion_upload(
            actor=analyst, brand=brand, file=csv_file(rows(1)), mode="all", source="<b>"
        )
    assert "source" in caught.value.message_dict


@pytest.mark.django_db
def test_a_finished_import_is_not_run_again(analyst, brand, plan, activity):
    record = upload_and_run(analyst, brand, rows(3))
    activity.mark()
    again = services.conversion_import_run(record.pk)
    assert again.status == "succeeded" and again.created_rows == 3
    activity.none()


@pytest.mark.django_db
def test_awkward_text_survives_the_copy_path_and_nul_is_an_error(analyst, brand, plan):
    body = (
        'Purchase,2026-11-30T09:00:00Z,"a\\b\tc",,,,"line one\nline two \\N"\n'
        "Purchase,2026-11-30T09:00:00Z,nul-1,,,,x\x00y\n"
    )
    record = upload_and_run(analyst, brand, body, mode="valid")
    assert record.created_rows == 1
    assert record.errors == [
        {"row": 3, "column": "campaign", "message": "Contains a NUL character; remove it."}
    ]
    conversion = Conversion.objects.get()
    assert conversion.external_id == "a\\b\tc"
    assert conversion.campaign == "line one\nline two \\N"


@pytest.mark.django_db(transaction=True)
def test_a_live_run_is_left_alone_and_a_dead_one_is_taken_over(analyst, brand, plan):
    from django.db import connections

    record = services.conversion_upload(
        actor=analyst, brand=brand, file=csv_file(rows(3)), mode="all", source="crm"
    )
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:  # another run's transaction holds the import
            cursor.execute("BEGIN")
            cursor.execute(
                "SELECT pg_try_advisory_xact_lock(%s, %s)", [services._LOCK_CLASS, record.pk]
            )
            assert services.conversion_import_run(record.pk).status == "queued"
            cursor.execute("ROLLBACK")  # that run's worker dies
    finally:
        other.close()
    ConversionImport.objects.filter(pk=record.pk).update(status="running")
    taken_over = services.conversion_import_run(record.pk)
    assert taken_over.status == "succeeded" and taken_over.created_rows == 3
    assert taken_over.started_at is not None


@pytest.mark.django_db(transaction=True)
def test_two_runs_of_one_import_at_once_write_it_once(analyst, brand, plan):
    import threading

    from django.db import connection

    from koastops.activity.models import ActivityEntry

    record = services.conversion_upload(
        actor=analyst, brand=brand, file=csv_file(rows(200)), mode="all", source="crm"
    )
    for _attempt in range(3):
        ConversionImport.objects.filter(pk=record.pk).update(status="queued")
        Conversion.objects.all().delete()
        before = ActivityEntry.objects.filter(verb="conversion_import.finished").count()
        barrier = threading.Barrier(2)
        results: list[str] = []

        def run(barrier: threading.Barrier = barrier, results: list[str] = results) -> None:
            try:
                barrier.wait()
                results.append(services.conversion_import_run(record.pk).status)
            finally:
                connection.close()

        threads = [threading.Thread(target=run) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(results) in (
            ["queued", "succeeded"],
            ["running", "succeeded"],
            ["succeeded", "succeeded"],
        )
        after = ActivityEntry.objects.filter(verb="conversion_import.finished").count()
        assert after - before == 1
        assert Conversion.objects.count() == 200
