"""The CRM pages: upload, imports, one import, the template, reconciliation and export."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from koastops.accounts.models import Role
from koastops.quality import conversion_services as services
from koastops.quality.models import ConversionImport
from tests.factories import (
    AdAccountFactory,
    ConversionFactory,
    ConversionImportFactory,
    EventDefinitionFactory,
    EventMappingFactory,
    HourlyStatFactory,
    PixelFactory,
    RoleGrantFactory,
    UserFactory,
)

HEADER = "event,occurred_at,external_id,value,currency,ad_account,campaign\n"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def member(brand, role) -> tuple[object, Client]:
    user = UserFactory()
    RoleGrantFactory(user=user, content_object=brand, role=role)
    client = Client()
    client.force_login(user)
    return user, client


@pytest.fixture
def analyst(brand):
    return member(brand, Role.ANALYST)


@pytest.fixture
def plan(brand):
    event = EventDefinitionFactory(brand=brand, name="Purchase", status="active")
    EventMappingFactory(event=event, target="Purchase")


@pytest.mark.django_db
def test_analyst_uploads_and_is_sent_to_the_import(
    brand, analyst, plan, enqueued, django_capture_on_commit_callbacks
):
    _user, client = analyst
    url = reverse("quality:conversions", args=[brand.slug])
    response = client.get(url)
    assert response.status_code == 200
    assert b"Upload a CSV" in response.content and b"occurred_at" in response.content
    body = HEADER + "Purchase,2026-11-30T14:05:00+01:00,o-1,49.90,EUR,,\n"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url,
            {"file": SimpleUploadedFile("shop.csv", body.encode()), "mode": "all", "source": "crm"},
        )
    record = ConversionImport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("quality:import", args=[brand.slug, record.pk])
    assert enqueued.names == ["koastops.quality.conversion_import"]
    page = client.get(response["Location"])
    assert b'hx-trigger="every 1s"' in page.content  # queued: the page polls
    services.conversion_import_run(record.pk)
    page = client.get(response["Location"], headers={"HX-Request": "true"})
    assert b"every 1s" not in page.content and b"1 created" in page.content
    assert b'id="import-status"' in page.content and b"<html" not in page.content


@pytest.mark.django_db
def test_upload_errors_show_by_the_field(brand, analyst, settings):
    _, client = analyst
    settings.CONVERSIONS_UPLOAD_MAX_BYTES = 10
    url = reverse("quality:conversions", args=[brand.slug])
    response = client.post(
        url, {"file": SimpleUploadedFile("a.csv", b"x" * 50), "mode": "all", "source": "crm"}
    )
    assert response.status_code == 200
    assert "the limit is 10 bytes" in response.content.decode()
    response = client.post(url, {"mode": "nope", "source": ""})
    text = response.content.decode()
    assert 'id="id_file_error"' in text or "This field is required" in text
    assert ConversionImport.objects.count() == 0


@pytest.mark.django_db
def test_readers_see_imports_but_only_analysts_upload(brand):
    _, ops = member(brand, Role.OPS_LEAD)
    url = reverse("quality:conversions", args=[brand.slug])
    ConversionImportFactory(brand=brand, filename="marker-file.csv")
    response = ops.get(url)
    assert response.status_code == 200
    assert b"marker-file.csv" in response.content and b"Upload a CSV" not in response.content
    response = ops.post(url, {"mode": "all", "source": "crm"})
    assert response.status_code == 403


@pytest.mark.django_db
def test_an_import_of_another_brand_is_404(brand, foreign_brand, analyst):
    _, client = analyst
    other = ConversionImportFactory(brand=foreign_brand)
    assert client.get(reverse("quality:import", args=[brand.slug, other.pk])).status_code == 404
    assert (
        client.get(reverse("quality:import", args=[foreign_brand.slug, other.pk])).status_code
        == 404
    )


@pytest.mark.django_db
def test_import_errors_are_listed_by_row_and_column(brand, analyst):
    _, client = analyst
    record = ConversionImportFactory(
        brand=brand,
        status="rejected",
        error_rows=1,
        errors=[{"row": 3, "column": "occurred_at", "message": "<b>has no time zone</b>"}],
    )
    text = client.get(reverse("quality:import", args=[brand.slug, record.pk])).content.decode()
    assert "<code>occurred_at</code>" in text and "&lt;b&gt;has no time zone" in text
    assert "Fix and upload again" in text


@pytest.mark.django_db
def test_the_template_downloads(brand, analyst):
    _, client = analyst
    response = client.get(reverse("quality:conversions_template", args=[brand.slug]))
    assert response["Content-Type"].startswith("text/csv")
    assert b"".join(response.streaming_content).startswith(b"event,occurred_at,external_id")


@pytest.mark.django_db
def test_imports_list_has_constant_queries(brand, analyst, django_assert_max_num_queries):
    _, client = analyst
    url = reverse("quality:conversions", args=[brand.slug])
    ConversionImportFactory(brand=brand)
    client.get(url)
    with django_assert_max_num_queries(12) as one:
        client.get(url)
    ConversionImportFactory.create_batch(30, brand=brand, uploaded_by=UserFactory())
    with django_assert_max_num_queries(len(one.captured_queries)):
        client.get(url)


def _recon_world(brand, pixels: int):
    account = AdAccountFactory(brand=brand, time_zone="America/Los_Angeles", name="LA account")
    for i in range(pixels):
        pixel = PixelFactory(brand=brand, name=f"pix-{i}")
        pixel.ad_accounts.add(account)
        HourlyStatFactory(
            pixel=pixel,
            event="Purchase",
            hour=dt.datetime(2026, 11, 10, 20, tzinfo=dt.UTC),
            count=10,
        )
    ConversionFactory(
        brand=brand, event="Purchase", occurred_at=dt.datetime(2026, 11, 10, 20, tzinfo=dt.UTC)
    )
    return account


@pytest.mark.django_db
def test_reconciliation_page_shows_chart_and_table(brand, analyst, plan):
    _, client = analyst
    account = _recon_world(brand, 2)
    url = reverse("quality:reconciliation", args=[brand.slug])
    response = client.get(url, {"account": account.pk, "start": "2026-11-09", "end": "2026-11-11"})
    text = response.content.decode()
    assert response.status_code == 200
    assert "<svg" in text and 'stroke-dasharray="6 3"' in text  # CRM: dashed, squares
    assert "America/Los_Angeles" in text and "The chart as a table" in text
    assert "Outside" in text  # 1 against 20
    export = client.get(
        reverse("quality:reconciliation_export", args=[brand.slug]),
        {"account": account.pk, "start": "2026-11-09", "end": "2026-11-11"},
    )
    lines = b"".join(export.streaming_content).decode().splitlines()
    assert lines[0].startswith("event,day,time_zone")
    assert lines[2].startswith("Purchase,2026-11-10,America/Los_Angeles")
    assert ",20,1,-19,-95.0,yes," in lines[2]


@pytest.mark.django_db
def test_reconciliation_bad_filters_are_shown_not_500(brand, analyst, plan):
    _, client = analyst
    _recon_world(brand, 1)
    url = reverse("quality:reconciliation", args=[brand.slug])
    for params in (
        {"start": "2026-11-12", "end": "2026-11-01"},
        {"start": "0001-01-01"},
        {"end": "9999-12-31"},
        {"account": "99999999999999999999"},
        {"account": "x", "event": "<script>"},
        {"start": "garbage"},
    ):
        response = client.get(url, params)
        assert response.status_code == 200, params
        assert b"<script>" not in response.content


@pytest.mark.django_db
def test_reconciliation_constant_queries_with_1_and_100_pixels(
    brand, analyst, plan, django_assert_max_num_queries
):
    _, client = analyst
    account = _recon_world(brand, 1)
    url = reverse("quality:reconciliation", args=[brand.slug])
    params = {"account": account.pk, "start": "2026-11-09", "end": "2026-11-11"}
    client.get(url, params)
    with django_assert_max_num_queries(30) as one:
        client.get(url, params)
    for _i in range(99):
        pixel = PixelFactory(brand=brand)
        pixel.ad_accounts.add(account)
        HourlyStatFactory(
            pixel=pixel,
            event="Purchase",
            hour=dt.datetime(2026, 11, 10, 20, tzinfo=dt.UTC),
            count=1,
        )
    with django_assert_max_num_queries(len(one.captured_queries)):
        response = client.get(url, params)
    assert b"109" in response.content


@pytest.mark.django_db
def test_a_narrowed_media_buyer_sees_only_their_account(brand, plan):
    from koastops.accounts import policies

    user, client = member(brand, Role.MEDIA_BUYER)
    mine = AdAccountFactory(brand=brand, name="Mine-marker")
    AdAccountFactory(brand=brand, name="Hidden-marker")
    policies.set_ad_account_narrowing(user, brand, [mine])
    text = client.get(reverse("quality:reconciliation", args=[brand.slug])).content.decode()
    assert "Mine-marker" in text and "Hidden-marker" not in text
