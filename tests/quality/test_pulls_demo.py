"""The demo provider: deterministic from the external id, plausible, with its built-in
problems on the documented demo pixels."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from koastops.quality.platforms.base import Connector
from koastops.quality.platforms.demo import DemoConnector, profile_for

NOW = dt.datetime(2026, 11, 30, 12, 20, tzinfo=dt.UTC)
DAY_AGO = dt.datetime(2026, 11, 29, 12, tzinfo=dt.UTC)
HOUR_NOW = dt.datetime(2026, 11, 30, 12, tzinfo=dt.UTC)


def counts(external_id: str, start=DAY_AGO, end=HOUR_NOW) -> list:
    return list(DemoConnector(external_id, now=NOW).event_counts(start, end))


def test_the_demo_connector_implements_the_interface():
    connector: Connector = DemoConnector("123", now=NOW)
    assert connector.provider == "demo"


def test_the_same_pixel_gets_the_same_figures_every_time():
    assert counts("410000000000101") == counts("410000000000101")
    assert DemoConnector("42", now=NOW).quality() == DemoConnector("42", now=NOW).quality()
    assert counts("410000000000101") != counts("420000000000101")


def test_counts_cover_each_hour_and_event_of_the_range_and_split_by_source():
    rows = counts("430000000000102")
    assert len(rows) == 24 * 6
    assert {row.event for row in rows} == {
        "PageView",
        "ViewContent",
        "AddToCart",
        "InitiateCheckout",
        "Lead",
        "Purchase",
    }
    for row in rows:
        assert DAY_AGO <= row.hour < HOUR_NOW
        assert row.hour.minute == 0
        assert row.total > 0 or row.event in {"Lead", "Purchase"}
        assert row.browser + row.server >= row.total >= 0
    views = sum(row.total for row in rows if row.event == "PageView")
    buys = sum(row.total for row in rows if row.event == "Purchase")
    assert views > 20 * buys  # a funnel, not noise


def test_the_current_hour_is_not_reported_yet():
    rows = counts("1", start=HOUR_NOW - dt.timedelta(hours=2), end=HOUR_NOW + dt.timedelta(hours=3))
    assert {row.hour for row in rows} == {
        HOUR_NOW - dt.timedelta(hours=2),
        HOUR_NOW - dt.timedelta(hours=1),
    }


def test_the_demo_pixels_have_the_documented_problems():
    assert profile_for("410000000000101") == "volume_dip"
    assert profile_for("420000000000101") == "dedup_problem"
    assert profile_for("430000000000101") == "low_emq"
    assert profile_for("430000000000102") == "healthy"


def test_the_volume_dip_drops_to_about_a_fifth_for_a_few_hours_yesterday():
    yesterday = dt.datetime(2026, 11, 29, tzinfo=dt.UTC)
    rows = counts("410000000000101", start=yesterday - dt.timedelta(days=1), end=HOUR_NOW)
    page_views = {row.hour: row.total for row in rows if row.event == "PageView"}

    def hours(day, first, last):
        return sum(page_views[day + dt.timedelta(hours=h)] for h in range(first, last))

    dip = hours(yesterday, 16, 20)
    day_before = hours(yesterday - dt.timedelta(days=1), 16, 20)
    assert 0.15 * day_before < dip < 0.3 * day_before
    assert hours(yesterday, 12, 16) > 0.8 * hours(yesterday - dt.timedelta(days=1), 12, 16)
    # A later hourly pull (another "now" the same day) reads the same values.
    later = DemoConnector("410000000000101", now=NOW + dt.timedelta(hours=5))
    again = {
        row.hour: row.total
        for row in later.event_counts(yesterday, yesterday + dt.timedelta(days=1))
        if row.event == "PageView"
    }
    assert all(again[hour] == page_views[hour] for hour in again)


def test_the_dedup_problem_pixel_has_low_dedup_coverage_and_no_event_id_on_server_events():
    quality = DemoConnector("420000000000101", now=NOW).quality()
    for item in quality:
        assert item.dedup_coverage == Decimal("15.0")
        event_id = next(key for key in item.dedupe_keys if key.dedupe_key == "event_id")
        assert event_id.server_percentage == 0
        assert any("deduplication key" in diag.name for diag in item.diagnostics)
    healthy = DemoConnector("430000000000102", now=NOW).quality()
    assert all(item.dedup_coverage > 80 for item in healthy)


def test_the_low_emq_pixel_has_lead_at_3_8_with_a_suggested_fix():
    quality = {item.event: item for item in DemoConnector("430000000000101", now=NOW).quality()}
    assert quality["Lead"].emq == Decimal("3.8")
    assert quality["Lead"].diagnostics[0].solution
    assert all(item.emq >= Decimal("6.8") for name, item in quality.items() if name != "Lead")


def test_pixel_info_says_it_fired_minutes_ago():
    info = DemoConnector("430000000000101", now=NOW).pixel_info()
    assert NOW - dt.timedelta(minutes=16) < info.last_fired_at < NOW
