"""The quality pages with data in every column (long names, problems, charts, match keys
and diagnostics, a broken connection) fit the viewport at 1280 and 390 px and pass axe,
for an ops lead and a narrowed media buyer (the layout test of every page sees them
nearly empty)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from koastops.accounts.models import Role
from tests.browser.test_layout_a11y import Visit, check_pages
from tests.factories import BrandFactory, EventQualityFactory, HourlyStatFactory
from tests.quality.pages_support import member, narrowed_buyer, pixel_with_summary

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LONG = "Nordwind Outdoor web pixel (shop.nordwind-outdoor.example, checkout and all pages)"


def _seed():
    brand = BrandFactory(name="Nordwind Outdoor", slug="nordwind")
    rich = pixel_with_summary(
        brand,
        LONG,
        provider="demo",
        key_emq={"Purchase": "7.4", "Lead": "4.2", "AddToCart": "6.9", "CompleteRegistration": "5"},
        problems=[
            {
                "key": "low_emq",
                "message": "Lead: Event Match Quality 4.2 is below the threshold 6.0",
            },
            {"key": "low_dedup", "message": "Dedup coverage 41 % is below the threshold 75 %"},
        ],
    )
    broken = pixel_with_summary(
        brand,
        "Broken pixel",
        status="broken",
        message="Error validating access token: Session has expired",
    )
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    for hours in range(1, 7 * 24, 3):
        for source, count in (
            ("browser", 100 + hours),
            ("server", 40 + hours % 17),
            ("total", 120 + hours),
        ):
            HourlyStatFactory(
                pixel=rich, hour=now - dt.timedelta(hours=hours), source=source, count=count
            )
    for hours in (6, 30, 54, 78):
        for event, emq in (("Purchase", "7.4"), ("Lead", "4.2")):
            EventQualityFactory(
                pixel=rich,
                event=event,
                pulled_at=now - dt.timedelta(hours=hours),
                emq=Decimal(emq),
                provider="demo",
                match_keys=[
                    {"identifier": "email", "coverage": 91.5},
                    {"identifier": "external_id", "coverage": 12},
                ],
                dedupe_keys=[
                    {
                        "dedupe_key": "event_id",
                        "browser_percentage": 98,
                        "server_percentage": 41,
                        "overall_browser_coverage": 41,
                    }
                ],
                diagnostics=[
                    {
                        "name": "Send hashed email addresses with your server events",
                        "description": "62 % of Lead events sent from your server are "
                        "missing a customer email address.",
                        "solution": "Add the em parameter (SHA-256 of the lower-cased "
                        "email) to the server events' user_data.",
                        "percentage": 62,
                        "affected_event_count": 6200,
                        "total_event_count": 10000,
                    }
                ],
            )
    return brand, rich, broken


def _visits(brand, pixel, *, settings_page=True):
    visits = [
        Visit("quality:pixels", reverse("quality:pixels", args=[brand.slug])),
        Visit(
            "quality:pixels problems",
            reverse("quality:pixels", args=[brand.slug]) + "?show=problems&sort=-emq",
        ),
        Visit("quality:pixel", reverse("quality:pixel", args=[brand.slug, pixel.pk])),
        Visit(
            "quality:pixel 30d",
            reverse("quality:pixel", args=[brand.slug, pixel.pk]) + "?range=30d",
        ),
        Visit("quality_all:pixels", reverse("quality_all:pixels")),
    ]
    if settings_page:
        visits.append(Visit("quality:settings", reverse("quality:settings", args=[brand.slug])))
    return visits


def test_quality_pages_with_data_fit_and_pass_axe(chromium_browser, live_server):
    brand, rich, broken = _seed()
    lead = member(brand, Role.OPS_LEAD)
    findings = check_pages(
        chromium_browser,
        live_server,
        lead,
        "ops_lead",
        [
            *_visits(brand, rich),
            Visit("quality:pixel broken", reverse("quality:pixel", args=[brand.slug, broken.pk])),
        ],
    )
    buyer = narrowed_buyer(brand, rich, broken)
    findings += check_pages(
        chromium_browser, live_server, buyer, "narrowed_buyer", _visits(brand, rich)
    )
    assert not findings, "\n".join(findings)
