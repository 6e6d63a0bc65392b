"""The whole launch journey in a real browser, with a real Celery worker on the broker and
landing pages on a local HTTPS server (tests/launches/landing_server.py: the only fake is
the world outside the machine):

a media buyer drafts a launch for Germany and France and submits it → the checks run
live on the worker → the French market has no consent sign-off, which blocks approval →
the ops lead's approval without an override is refused by the field → the legal reviewer
signs France off → the ops lead re-runs the checks and approves → the media buyer exports
the Ads Manager sheet. No console error (a CSP violation would be one)."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from koastops.accounts import policies
from koastops.accounts.models import Role
from koastops.consent import services as consent_services
from koastops.consent.content import defaults_for
from koastops.launches.export import COLUMNS
from koastops.launches.models import Launch
from koastops.quality.models import PixelConnection
from tests.browser.test_walkthrough import sign_in
from tests.factories import (
    DEFAULT_PASSWORD,
    AdAccountFactory,
    BrandFactory,
    ConsentConfigFactory,
    ConsentSignOffFactory,
    EventDefinitionFactory,
    EventQualityFactory,
    HourlyStatFactory,
    PixelConnectionFactory,
    PixelFactory,
    UserFactory,
    _hour,
    _market,
)
from tests.launches import landing_server
from tests.system.test_worker import running_worker

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

SLUG = "nordwind-outdoor"
CHECKS_TIMEOUT_MS = 30_000


@pytest.fixture
def landing(tmp_path, monkeypatch, settings):
    yield from landing_server.serve(tmp_path, monkeypatch, settings)


@pytest.fixture
def journey_world():
    brand = BrandFactory(name="Nordwind Outdoor", slug=SLUG)
    germany, france = _market("DE", "gdpr"), _market("FR", "gdpr")
    brand.markets.set([germany, france])
    account = AdAccountFactory(brand=brand, name="Nordwind EU", time_zone="Europe/Berlin")
    pixel = PixelFactory(brand=brand, name="Shop pixel")
    pixel.ad_accounts.add(account)
    EventDefinitionFactory(
        brand=brand,
        name="Purchase",
        content={
            "parameters": [{"name": "value", "type": "number", "required": True}],
            "mappings": [{"platform": "meta", "target": "Purchase", "parameters": ["value"]}],
        },
    )
    connection = PixelConnectionFactory(pixel=pixel)
    PixelConnection.objects.filter(pk=connection.pk).update(
        status="ok", last_fired_at=timezone.now()
    )
    HourlyStatFactory(pixel=pixel, event="Purchase", count=500, hour=_hour(2))
    EventQualityFactory(pixel=pixel, event="Purchase", emq=Decimal("8.2"))
    people = {}
    for name, role in (
        ("buyer", Role.MEDIA_BUYER),
        ("ops", Role.OPS_LEAD),
        ("legal", Role.LEGAL_REVIEWER),
    ):
        people[name] = UserFactory(email=f"{name}@example.com")
        policies.grant_role(people[name], brand, role)
    other_legal = UserFactory(email="legal.two@example.com")
    policies.grant_role(other_legal, brand, Role.LEGAL_REVIEWER)
    # Germany is signed off; France has a config nobody has signed yet.
    ConsentSignOffFactory(config=ConsentConfigFactory(brand=brand, market=germany))
    consent_services.config_save(
        user=people["ops"],
        brand=brand,
        market=france,
        content=defaults_for("gdpr", "FR"),
        expected_version=0,
    )
    return brand, pixel, people


def _signed_in(chromium_browser, live_server, console_errors, email):
    context = chromium_browser.new_context(base_url=live_server.url, accept_downloads=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.on(
        "console",
        lambda m: m.type == "error" and console_errors.append(f"{email}: {m.text}"),
    )
    page.on("pageerror", lambda error: console_errors.append(f"{email}: {error}"))
    sign_in(page, email=email, password=DEFAULT_PASSWORD)
    expect(page).to_have_url(re.compile(r"//[^/]+/$"))
    return context, page


def _draft(page, landing_url):
    page.goto(f"/brands/{SLUG}/launches/new/")
    page.get_by_label("Ad account", exact=True).select_option(
        label="Nordwind EU (EUR, Europe/Berlin)"
    )
    page.get_by_label("Pixel", exact=True).select_option(label="Shop pixel — linked to Nordwind EU")
    page.get_by_label("Objective", exact=True).select_option("OUTCOME_SALES")
    page.get_by_label("Optimization event", exact=True).select_option(label="Purchase")
    page.get_by_label(re.compile(r"\(DE\)")).check()
    page.get_by_label(re.compile(r"\(FR\)")).check()
    page.get_by_label(re.compile(r"^Budget amount")).fill("250")
    page.get_by_label(re.compile(r"^Start \(in the ad account's time zone")).fill(
        f"{timezone.now().year + 1}-03-01T09:00"
    )
    page.get_by_label("Campaign name", exact=True).fill("nordwind_eu_conv_spring")
    page.locator("#id_ad_sets-0-name").fill("Prospecting DE")
    page.locator("#id_ad_sets-0-market").select_option("DE")
    page.locator("#id_ad_sets-0-ads-0-name").fill("Video 1")
    page.locator("#id_ad_sets-0-ads-0-landing_url").fill(landing_url)
    page.locator("#id_ad_sets-0-ads-0-utm_campaign").fill("nordwind_eu_conv_spring")
    page.get_by_role("button", name="Save draft").click()
    expect(page).to_have_url(re.compile(rf"/brands/{SLUG}/launches/\d+/$"))


def test_draft_submit_block_sign_approve_export(
    chromium_browser, live_server, landing, journey_world, console_errors
):
    _brand, pixel, people = journey_world
    contexts = []
    try:
        with running_worker():
            # The media buyer drafts and submits; the checks run live on the worker.
            context, buyer = _signed_in(
                chromium_browser, live_server, console_errors, "buyer@example.com"
            )
            contexts.append(context)
            _draft(buyer, f"{landing.base}/pixel/{pixel.external_id}")
            launch = Launch.objects.get()
            buyer.get_by_role("button", name="Submit for approval").click()
            checklist = buyer.locator("#checklist")
            expect(buyer.locator("#launch-state")).to_contain_text(
                "In review", timeout=CHECKS_TIMEOUT_MS
            )
            consent_row = checklist.locator('[data-check="consent.signed_off"]')
            expect(consent_row).to_have_attribute("data-status", "fail")
            expect(consent_row).to_contain_text("FR")
            expect(checklist.locator('[data-check="landing.reachable"]')).to_have_attribute(
                "data-status", "pass"
            )

            # The ops lead finds it in the queue; approving without an override is refused
            # by the field of the failed check.
            context, ops = _signed_in(
                chromium_browser, live_server, console_errors, "ops@example.com"
            )
            contexts.append(context)
            ops.goto("/launches/review/")
            ops.get_by_role("link", name=re.compile("nordwind_eu_conv_spring")).click()
            expect(ops).to_have_url(re.compile(rf"/launches/{launch.pk}/review/$"))
            ops.get_by_role("radio", name="Approve").check()
            ops.get_by_role("button", name="Record decision").click()
            override = ops.locator("#id_overrides\\.consent\\.signed_off_error")
            expect(override).to_contain_text("blocks approval")
            launch.refresh_from_db()
            assert launch.state == "in_review"

            # The legal reviewer signs France off.
            context, legal = _signed_in(
                chromium_browser, live_server, console_errors, "legal@example.com"
            )
            contexts.append(context)
            legal.goto(f"/brands/{SLUG}/consent/fr/review/")
            legal.get_by_role("radio", name="Approve").check()
            legal.get_by_role("button", name="Record decision").click()
            expect(legal.get_by_text(re.compile(r"\(FR\): signed off until"))).to_be_visible()

            # The ops lead re-runs the checks, which now pass, and approves.
            ops.goto(f"/brands/{SLUG}/launches/{launch.pk}/review/")
            ops.get_by_role("button", name="Re-run checks").click()
            expect(ops.locator("#launch-state")).to_contain_text(
                "In review", timeout=CHECKS_TIMEOUT_MS
            )
            expect(ops.locator('#checklist [data-check="consent.signed_off"]')).to_have_attribute(
                "data-status", "pass"
            )
            ops.goto(f"/brands/{SLUG}/launches/{launch.pk}/review/")
            ops.get_by_role("radio", name="Approve").check()
            ops.get_by_role("button", name="Record decision").click()
            expect(ops.locator("#launch-state")).to_contain_text("Approved")

        # The media buyer exports the Ads Manager sheet: one row for the one ad.
        buyer.goto(f"/brands/{SLUG}/launches/{launch.pk}/")
        with buyer.expect_download() as download:
            buyer.get_by_role("link", name="Export sheet").click()
        text = download.value.path().read_text(encoding="utf-8-sig")
        rows = list(csv.reader(io.StringIO(text)))
        assert rows[0] == list(COLUMNS)
        assert len(rows) == 2
        sheet = dict(zip(rows[0], rows[1], strict=True))
        assert sheet["Campaign Name"] == "nordwind_eu_conv_spring"
        assert sheet["Ad Name"] == "Video 1"
        assert sheet["Link"] == f"{landing.base}/pixel/{pixel.external_id}"
    finally:
        for context in contexts:
            context.close()
    launch.refresh_from_db()
    assert launch.state == "approved" and launch.approved_by == people["ops"]
    assert launch.approved_hash == launch.content_hash
    assert launch.overrides.count() == 0
    # The refused approval answers 422 on purpose (Chromium logs it); nothing else may show.
    assert [e for e in console_errors if "status of 422" not in e] == []
