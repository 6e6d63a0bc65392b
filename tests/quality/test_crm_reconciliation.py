"""Reconciliation numbers, flags and causes (koastops.quality.reconciliation)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from koastops.catalog.models import Market, Pixel
from koastops.consent.models import ConsentConfig
from koastops.quality.reconciliation import reconcile
from tests.factories import (
    AdAccountFactory,
    ConversionFactory,
    EventDefinitionFactory,
    EventMappingFactory,
    EventQualityFactory,
    HourlyStatFactory,
    PixelConnectionFactory,
    PixelFactory,
    QualitySettingsFactory,
)

UTC = dt.UTC
NOV9, NOV10 = dt.date(2026, 11, 9), dt.date(2026, 11, 10)


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


@pytest.fixture
def la(brand):
    account = AdAccountFactory(brand=brand, time_zone="America/Los_Angeles", currency="USD")
    pixel = PixelFactory(brand=brand, capi_enabled=False)
    pixel.ad_accounts.add(account)
    event = EventDefinitionFactory(brand=brand, name="Order", sources="browser")
    EventMappingFactory(event=event, target="Purchase")
    return account, pixel


def stat(pixel, hour: str, count: int, source: str = "total", event: str = "Purchase"):
    HourlyStatFactory(pixel=pixel, event=event, source=source, hour=at(hour), count=count)


def run(brand, account):
    return reconcile(
        brand, ad_account=account, start=NOV9, end=NOV10, pixels=Pixel.objects.filter(brand=brand)
    )


@pytest.mark.django_db
def test_days_are_the_ad_accounts_local_days_across_utc_midnight(brand, la):
    account, pixel = la
    stat(pixel, "2026-11-10T07:00:00+00:00", 5)  # 23:00 on 9 Nov in Los Angeles
    stat(pixel, "2026-11-10T08:00:00+00:00", 7)  # 00:00 on 10 Nov
    stat(pixel, "2026-11-11T08:00:00+00:00", 99)  # 11 Nov: outside the range
    for i in range(5):
        ConversionFactory(
            brand=brand, event="Order", occurred_at=at(f"2026-11-09T12:0{i}:00-08:00")
        )
    for i in range(7):
        ConversionFactory(
            brand=brand,
            event="Order",
            occurred_at=at(f"2026-11-10T08:0{i}:00+00:00"),
            ad_account=account,
        )
    other = AdAccountFactory(brand=brand)
    ConversionFactory(
        brand=brand, event="Order", occurred_at=at("2026-11-10T12:00:00Z"), ad_account=other
    )
    rows = run(brand, account)
    assert [(r.event, r.day, r.platform, r.crm, r.diff, r.flagged) for r in rows] == [
        ("Order", NOV9, 5, 5, 0, False),
        ("Order", NOV10, 7, 7, 0, False),
    ]
    assert rows[0].pct == Decimal("0.0")


@pytest.mark.django_db
def test_a_gap_outside_the_band_is_flagged_with_its_causes(brand, la):
    account, pixel = la
    pixel.capi_enabled = True
    pixel.save()
    QualitySettingsFactory(brand=brand, tolerance_pct=Decimal("10"), dedup_threshold=Decimal("75"))
    EventQualityFactory(pixel=pixel, event="Purchase", dedup_coverage=Decimal("40"))
    market = Market.objects.get(code="DE")
    account.markets.add(market)
    ConsentConfig.objects.create(
        brand=brand,
        market=market,
        content={"pixels": [{"id": pixel.external_id, "category": "marketing"}], "events": []},
        content_hash="x" * 64,
    )
    stat(pixel, "2026-11-09T20:00:00+00:00", 100)
    for _i in range(89):  # 11 % below the platform
        ConversionFactory(brand=brand, event="Order", occurred_at=at("2026-11-09T12:00:00-08:00"))
    stat(pixel, "2026-11-10T20:00:00+00:00", 100)
    for _i in range(95):
        ConversionFactory(brand=brand, event="Order", occurred_at=at("2026-11-10T12:00:00-08:00"))
    day9, day10 = run(brand, account)
    assert (day9.diff, day9.pct, day9.flagged) == (-11, Decimal("-11.0"), True)
    assert (day10.pct, day10.flagged, day10.causes) == (Decimal("-5.0"), False, [])
    text = " | ".join(day9.causes)
    assert "Dedup coverage low: 40" in text
    assert "Consent gating: the consent config of DE" in text
    assert "Server events missing" not in text  # CRM below the platform


@pytest.mark.django_db
def test_server_missing_time_zone_and_attribution_causes(brand, la):
    account, pixel = la
    pixel.capi_enabled = True
    pixel.save()
    PixelConnectionFactory(pixel=pixel, counts_through=at("2026-11-10T16:00:00+00:00"))
    stat(pixel, "2026-11-10T10:00:00+00:00", 10)
    stat(pixel, "2026-11-10T10:00:00+00:00", 10, source="browser")
    for _i in range(10):
        ConversionFactory(brand=brand, event="Order", occurred_at=at("2026-11-10T02:00:00-08:00"))
    for _i in range(20):  # late in the local evening and after the last pulled hour
        ConversionFactory(brand=brand, event="Order", occurred_at=at("2026-11-10T22:30:00-08:00"))
    rows = run(brand, account)
    day10 = rows[1]
    assert (day10.platform, day10.crm, day10.flagged) == (10, 30, True)
    text = " | ".join(day10.causes)
    assert "Server events missing" in text
    assert "Time-zone difference: 20 of the CRM conversions" in text
    assert "America/Los_Angeles, UTC-8" in text
    assert "Attribution window: 20 CRM conversions" in text


@pytest.mark.django_db
def test_nothing_on_the_platform_and_crm_conversions_is_flagged(brand, la):
    account, _ = la
    ConversionFactory(brand=brand, event="Order", occurred_at=at("2026-11-09T12:00:00-08:00"))
    day9, day10 = run(brand, account)
    assert (day9.platform, day9.crm, day9.pct, day9.flagged) == (0, 1, None, True)
    assert day10.flagged is False


@pytest.mark.django_db
def test_only_visible_pixels_linked_to_the_account_count(brand, la):
    account, pixel = la
    hidden = PixelFactory(brand=brand)
    hidden.ad_accounts.add(account)
    unlinked = PixelFactory(brand=brand)
    stat(pixel, "2026-11-09T20:00:00+00:00", 3)
    stat(hidden, "2026-11-09T20:00:00+00:00", 30)
    stat(unlinked, "2026-11-09T20:00:00+00:00", 300)
    rows = reconcile(
        brand, ad_account=account, start=NOV9, end=NOV9, pixels=Pixel.objects.exclude(pk=hidden.pk)
    )
    assert [r.platform for r in rows] == [3]


@pytest.mark.django_db
def test_constant_queries_with_1_and_100_pixels(brand, la, django_assert_max_num_queries):
    account, pixel = la
    stat(pixel, "2026-11-09T20:00:00+00:00", 3)
    with django_assert_max_num_queries(9):
        run(brand, account)
    for _i in range(99):
        extra = PixelFactory(brand=brand, capi_enabled=True)
        extra.ad_accounts.add(account)
        stat(extra, "2026-11-09T20:00:00+00:00", 1)
        EventQualityFactory(pixel=extra, event="Purchase")
    with django_assert_max_num_queries(9):
        rows = run(brand, account)
    assert rows[0].platform == 102
