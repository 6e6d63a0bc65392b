"""CRM conversions in a real browser, with a real Celery worker: an analyst uploads a CSV
with one bad row, sees that row and its column, fixes it, uploads again and sees the
reconciliation chart. Then the CRM pages (with data, chart included) pass the layout and
axe checks of tests/browser/test_layout_a11y.py. No console error (a CSP violation would
be one)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from koastops.accounts import policies
from koastops.accounts.models import Role
from koastops.quality.models import ConversionImport
from tests.browser.test_layout_a11y import Visit, check_pages
from tests.browser.test_walkthrough import sign_in
from tests.factories import (
    DEFAULT_PASSWORD,
    AdAccountFactory,
    BrandFactory,
    EventDefinitionFactory,
    EventMappingFactory,
    HourlyStatFactory,
    PixelConnectionFactory,
    PixelFactory,
    UserFactory,
)
from tests.system.test_worker import running_worker

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

HEADER = "event,occurred_at,external_id,value,currency,ad_account,campaign\n"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def crm_world():
    brand = BrandFactory(name="Nordwind Outdoor", slug="nordwind-outdoor")
    account = AdAccountFactory(
        brand=brand, name="US shop", external_id="act_7770001", time_zone="America/Los_Angeles"
    )
    pixel = PixelFactory(brand=brand, name="US pixel")
    pixel.ad_accounts.add(account)
    PixelConnectionFactory(pixel=pixel, provider="demo", counts_pulled_at=timezone.now())
    event = EventDefinitionFactory(brand=brand, name="Purchase", status="active")
    EventMappingFactory(event=event, target="Purchase")
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    for days in range(1, 6):
        HourlyStatFactory(
            pixel=pixel, event="Purchase", hour=now - dt.timedelta(days=days), count=4
        )
    analyst = UserFactory(email="analyst@example.com")
    policies.grant_role(analyst, brand, Role.ANALYST)
    return brand, account, analyst


def _csv(rows: list[str]) -> dict:
    return {"name": "shop.csv", "mimeType": "text/csv", "buffer": (HEADER + "".join(rows)).encode()}


def _rows(bad: bool) -> list[str]:
    today = timezone.now()
    rows = [
        f"Purchase,{(today - dt.timedelta(days=d)).isoformat()},o-{d},19.90,USD,act_7770001,\n"
        for d in range(1, 5)
    ]
    when = (
        (today - dt.timedelta(days=2)).replace(tzinfo=None).isoformat()
        if bad
        else ((today - dt.timedelta(days=2)).isoformat())
    )
    rows.insert(1, f"Purchase,{when},o-x,5,USD,,\n")
    return rows


def test_analyst_fixes_a_bad_row_and_sees_the_reconciliation(
    browser_page, crm_world, console_errors
):
    brand, _, _ = crm_world
    page = browser_page
    with running_worker():
        sign_in(page, email="analyst@example.com", password=DEFAULT_PASSWORD)
        page.goto(reverse("quality:conversions", args=[brand.slug]))
        page.get_by_label("CSV file").set_input_files(_csv(_rows(bad=True)))
        page.get_by_role("button", name="Upload and import").click()

        expect(page).to_have_url(re.compile(r"/conversions/imports/\d+/$"))
        status = page.locator("#import-status")
        expect(status).to_contain_text("Rejected: nothing imported", timeout=20_000)
        errors = page.get_by_role("region", name="Errors")
        row = errors.get_by_role("row", name=re.compile(r"^3 occurred_at"))
        expect(row).to_contain_text("has no time zone")

        page.get_by_role("link", name="Upload the fixed file").click()
        page.get_by_label("CSV file").set_input_files(_csv(_rows(bad=False)))
        page.get_by_role("button", name="Upload and import").click()
        expect(page.locator("#import-status")).to_contain_text("Imported", timeout=20_000)
        expect(page.locator("#import-status")).to_contain_text("5 created")

        page.get_by_role("link", name="See the reconciliation").click()
        expect(page).to_have_url(re.compile(r"/quality/reconciliation/$"))
        expect(
            page.get_by_role("img", name=re.compile("Platform and CRM conversions per day"))
        ).to_be_visible()
        expect(page.locator("#recon-results")).to_contain_text("Days in America/Los_Angeles")
        expect(page.get_by_role("region", name="By event and day")).to_contain_text("Purchase")
    assert ConversionImport.objects.filter(status="succeeded").count() == 1
    assert console_errors == []


def test_crm_pages_fit_the_viewport_and_pass_axe(chromium_browser, live_server, crm_world):
    brand, account, analyst = crm_world
    from koastops.quality import conversion_services as services

    services.conversions_api_ingest(
        actor=analyst,
        brand=brand,
        source="crm",
        items=[
            {"event": "Purchase", "occurred_at": timezone.now().isoformat(), "external_id": "a"},
            {"event": "Nope", "occurred_at": "2026-01-01", "external_id": "b"},
        ],
        partial=True,
    )
    record = ConversionImport.objects.get()
    slug = brand.slug
    visits = [
        Visit("quality:conversions", reverse("quality:conversions", args=[slug])),
        Visit("quality:import", reverse("quality:import", args=[slug, record.pk])),
        Visit(
            "quality:reconciliation",
            reverse("quality:reconciliation", args=[slug]) + f"?account={account.pk}",
        ),
    ]
    findings = check_pages(chromium_browser, live_server, analyst, "analyst", visits)
    assert not findings, "\n".join(findings)
