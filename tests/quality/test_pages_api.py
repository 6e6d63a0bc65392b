"""The stats and quality API: sums over UTC ranges (crossing days, the daily rollup for
whole days), hourly and daily series, 422 naming the field for bad ranges, 404 for
foreign or hidden pixels, constant queries."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from koastops.accounts.models import Role
from tests.api.conftest import ApiClient, token_for
from tests.factories import (
    DailyStatFactory,
    EventQualityFactory,
    HourlyStatFactory,
    PixelFactory,
)
from tests.quality.pages_support import member, narrowed_buyer, pixel_with_summary

pytestmark = pytest.mark.django_db

UTC = dt.UTC
DAY = dt.datetime(2026, 10, 10, tzinfo=UTC)


def stats_path(pixel) -> str:
    return f"/brands/{pixel.brand.slug}/pixels/{pixel.pk}/stats"


@pytest.fixture
def api(brand) -> ApiClient:
    return ApiClient(token_for(member(brand, Role.ANALYST)))


@pytest.fixture
def stats_pixel(brand):
    pixel = pixel_with_summary(brand, "ApiPixel")
    # Two hours on either side of midnight, two events, three sources.
    for hour in (DAY - dt.timedelta(hours=1), DAY, DAY + dt.timedelta(hours=1)):
        for event, base in (("Purchase", 10), ("Lead", 100)):
            HourlyStatFactory(pixel=pixel, event=event, hour=hour, source="browser", count=base)
            HourlyStatFactory(pixel=pixel, event=event, hour=hour, source="server", count=base // 2)
            HourlyStatFactory(pixel=pixel, event=event, hour=hour, source="total", count=base + 1)
    return pixel


def test_sums_over_a_range_crossing_midnight(api, stats_pixel):
    response = api.get(
        stats_path(stats_pixel),
        {
            "start": "2026-10-09T23:00:00Z",
            "end": "2026-10-10T02:00:00+00:00",
        },
    )
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["pulled_at"] is not None
    assert data["events"] == [
        {"event": "Lead", "total": 303, "browser": 300, "server": 150},
        {"event": "Purchase", "total": 33, "browser": 30, "server": 15},
    ]
    # end is exclusive, and an offset is honoured (00:30+01:00 is 23:30Z: the 23:00 bucket
    # starts before it and is left out)
    data = api.get(
        stats_path(stats_pixel),
        {
            "start": "2026-10-10T00:30:00+01:00",
            "end": "2026-10-10T01:00:00Z",
        },
    ).json()
    assert data["events"][0] == {"event": "Lead", "total": 101, "browser": 100, "server": 50}


def test_long_ranges_read_the_daily_rollup_between_partial_days(api, brand):
    pixel = PixelFactory(brand=brand)
    for offset in range(5):
        DailyStatFactory(
            pixel=pixel,
            event="Purchase",
            day=(DAY + dt.timedelta(days=offset)).date(),
            source="total",
            count=1000,
        )
    # the partial first day (from 12:00 on the 9th) comes from the hourly rows
    HourlyStatFactory(
        pixel=pixel, event="Purchase", hour=DAY - dt.timedelta(hours=2), source="total", count=7
    )
    HourlyStatFactory(
        pixel=pixel,
        event="Purchase",
        hour=DAY - dt.timedelta(hours=20),
        source="total",
        count=10_000,
    )  # before the range
    HourlyStatFactory(
        pixel=pixel,
        event="Purchase",
        hour=DAY + dt.timedelta(days=5, hours=3),
        source="total",
        count=5,
    )
    data = api.get(
        stats_path(pixel),
        {
            "start": "2026-10-09T12:00:00Z",
            "end": "2026-10-15T06:00:00Z",
        },
    ).json()
    assert data["events"] == [{"event": "Purchase", "total": 5012, "browser": 0, "server": 0}]
    assert data["pulled_at"] is None


def test_hourly_and_daily_series(api, stats_pixel):
    data = api.get(
        stats_path(stats_pixel),
        {
            "start": "2026-10-09T23:00:00Z",
            "end": "2026-10-10T01:00:00Z",
            "granularity": "hour",
        },
    ).json()
    assert data["granularity"] == "hour"
    assert [(row["bucket"], row["event"]) for row in data["series"]] == [
        ("2026-10-09T23:00:00Z", "Lead"),
        ("2026-10-09T23:00:00Z", "Purchase"),
        ("2026-10-10T00:00:00Z", "Lead"),
        ("2026-10-10T00:00:00Z", "Purchase"),
    ]
    assert data["series"][0] | {} == {
        "event": "Lead",
        "bucket": "2026-10-09T23:00:00Z",
        "total": 101,
        "browser": 100,
        "server": 50,
    }
    DailyStatFactory(pixel=stats_pixel, event="Lead", day=DAY.date(), source="browser", count=9)
    DailyStatFactory(
        pixel=stats_pixel,
        event="Lead",
        day=(DAY - dt.timedelta(days=1)).date(),
        source="browser",
        count=4,
    )
    data = api.get(
        stats_path(stats_pixel),
        {
            "start": "2026-10-09T00:00:00Z",
            "end": "2026-10-11T00:00:00Z",
            "granularity": "day",
        },
    ).json()
    assert [(row["bucket"], row["browser"]) for row in data["series"]] == [
        ("2026-10-09T00:00:00Z", 4),
        ("2026-10-10T00:00:00Z", 9),
    ]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start": "2026-10-09T00:00:00", "end": "2026-10-10T00:00:00Z"}, "start"),
        ({"start": "2026-10-09T00:00:00Z", "end": "2026-10-10T00:00:00"}, "end"),
        ({"start": "2026-10-10T00:00:00Z", "end": "2026-10-09T00:00:00Z"}, "end"),
        ({"start": "2026-10-10T00:00:00Z", "end": "2026-10-10T00:00:00Z"}, "end"),
        ({"start": "2024-01-01T00:00:00Z", "end": "2026-01-01T00:00:00Z"}, "end"),
        (
            {"start": "2026-01-01T00:00:00Z", "end": "2026-03-01T00:00:00Z", "granularity": "hour"},
            "end",
        ),
        ({"start": "yesterday", "end": "2026-10-10T00:00:00Z"}, "start"),
        ({"end": "2026-10-10T00:00:00Z"}, "start"),
        (
            {"start": "2026-10-09T00:00:00Z", "end": "2026-10-10T00:00:00Z", "granularity": "week"},
            "granularity",
        ),
        ({"start": "\x00", "end": "2026-10-10T00:00:00Z"}, "start"),
    ],
)
def test_bad_ranges_are_422_naming_the_field(api, stats_pixel, params, field):
    response = api.get(stats_path(stats_pixel), params)
    assert response.status_code == 422, response.content
    assert any(field in error["loc"] for error in response.json()["detail"])


def test_foreign_hidden_and_missing_pixels_are_404(api, brand, foreign_brand):
    foreign = PixelFactory(brand=foreign_brand)
    params = {"start": "2026-10-09T00:00:00Z", "end": "2026-10-10T00:00:00Z"}
    assert api.get(stats_path(foreign), params).status_code == 404
    assert api.get(f"/brands/{brand.slug}/pixels/{foreign.pk}/stats", params).status_code == 404
    assert api.get(f"/brands/{brand.slug}/pixels/999999999/quality").status_code == 404
    visible, hidden = PixelFactory(brand=brand), PixelFactory(brand=brand)
    buyer = narrowed_buyer(brand, visible, hidden)
    buyer_api = ApiClient(token_for(buyer))
    assert buyer_api.get(stats_path(hidden), params).status_code == 404
    assert buyer_api.get(f"/brands/{brand.slug}/pixels/{hidden.pk}/quality").status_code == 404
    assert buyer_api.get(stats_path(visible), params).status_code == 200
    assert ApiClient(None).get(stats_path(visible), params).status_code == 401


def test_quality_endpoint(api, brand):
    pixel = pixel_with_summary(
        brand, "QualityPixel", problems=[{"key": "low_emq", "message": "EMQ low"}]
    )
    now = dt.datetime.now(UTC)
    EventQualityFactory(
        pixel=pixel, event="Purchase", pulled_at=now - dt.timedelta(hours=6), emq=Decimal("5.0")
    )
    EventQualityFactory(pixel=pixel, event="Purchase", pulled_at=now, emq=Decimal("7.7"))
    EventQualityFactory(
        pixel=pixel,
        event="Lead",
        pulled_at=now,
        emq=None,
        diagnostics=[{"name": "x", "description": "d", "solution": "s"}],
    )
    response = api.get(f"/brands/{brand.slug}/pixels/{pixel.pk}/quality")
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["connection"]["status"] == "ok"
    assert data["summary"]["problems"] == [{"key": "low_emq", "message": "EMQ low"}]
    assert data["summary"]["events_per_day"] == 1200
    assert [(e["event"], e["emq"]) for e in data["events"]] == [
        ("Lead", None),
        ("Purchase", "7.70"),
    ]
    assert data["events"][0]["diagnostics"][0]["solution"] == "s"
    never = PixelFactory(brand=brand)
    data = api.get(f"/brands/{brand.slug}/pixels/{never.pk}/quality").json()
    assert data["connection"]["status"] == "unknown" and data["events"] == []


@pytest.mark.parametrize("events", [1, 15])
def test_queries_are_constant(api, brand, events):
    pixel = pixel_with_summary(brand, "Many")
    for index in range(events):
        for hours in range(0, 48, 6):
            HourlyStatFactory(pixel=pixel, event=f"E{index}", hour=DAY + dt.timedelta(hours=hours))
        EventQualityFactory(pixel=pixel, event=f"E{index}")
    params = {"start": "2026-10-01T00:00:00Z", "end": "2026-10-20T00:00:00Z"}
    assert api.count_queries(stats_path(pixel), params) <= 8
    assert api.count_queries(stats_path(pixel), params | {"granularity": "day"}) <= 6
    assert api.count_queries(f"/brands/{brand.slug}/pixels/{pixel.pk}/quality") <= 6
