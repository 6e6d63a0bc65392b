"""Pulls write the same rows however often they run, daily rollups are the sums of the
hours, failures write nothing, and the summary figures follow the rows."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum

from koastops.quality import pulling
from koastops.quality.models import (
    DailyStat,
    EventQuality,
    HourlyStat,
    PixelConnection,
    PullRun,
)
from koastops.quality.platforms.base import (
    HourCount,
    MalformedResponse,
    PixelInfo,
    RateLimited,
    TokenError,
)
from koastops.quality.platforms.demo import DemoConnector
from tests.factories import (
    EventDefinitionFactory,
    EventMappingFactory,
    PixelConnectionFactory,
    PixelFactory,
    QualitySettingsFactory,
)

END = pulling.floor_hour(dt.datetime.now(dt.UTC))
START = END - dt.timedelta(days=2)


@pytest.fixture
def demo_pixel(db):
    pixel = PixelFactory(external_id="430000000000101", name="Verde web", capi_enabled=True)
    PixelConnectionFactory(pixel=pixel, provider="demo")
    return pixel


def rows(pixel) -> list[tuple]:
    return sorted(
        HourlyStat.objects.filter(pixel=pixel).values_list("event", "source", "hour", "count")
    )


def daily(pixel) -> list[tuple]:
    return sorted(
        DailyStat.objects.filter(pixel=pixel).values_list("event", "source", "day", "count")
    )


def test_a_pull_writes_every_bucket_for_three_sources(demo_pixel):
    written = pulling.pull_counts(demo_pixel.pk, start=START, end=END)
    assert written == 48 * 6 * 3
    assert HourlyStat.objects.filter(pixel=demo_pixel).count() == written
    total = HourlyStat.objects.get(pixel=demo_pixel, event="Lead", source="total", hour=START)
    expected = next(
        item
        for item in DemoConnector(demo_pixel.external_id).event_counts(
            START, START + dt.timedelta(hours=1)
        )
        if item.event == "Lead"
    )
    assert total.count == expected.total
    conn = PixelConnection.objects.get(pixel=demo_pixel)
    assert conn.status == "ok"
    assert conn.counts_through == END
    assert conn.counts_pulled_at is not None
    assert conn.last_fired_at is not None
    assert conn.events_per_day > 0
    assert Decimal(0) < conn.server_share < Decimal(100)


def test_the_same_pull_twice_gives_the_same_rows(demo_pixel):
    pulling.pull_counts(demo_pixel.pk, start=START, end=END)
    first, first_daily = rows(demo_pixel), daily(demo_pixel)
    pulling.pull_counts(demo_pixel.pk, start=START, end=END)
    assert rows(demo_pixel) == first
    assert daily(demo_pixel) == first_daily


def test_overlapping_pulls_keep_one_row_per_bucket(demo_pixel):
    pulling.pull_counts(demo_pixel.pk, start=START, end=END - dt.timedelta(hours=10))
    pulling.pull_counts(demo_pixel.pk, start=START + dt.timedelta(hours=20), end=END)
    assert HourlyStat.objects.filter(pixel=demo_pixel).count() == 48 * 6 * 3


def test_daily_rollups_equal_the_sums_of_the_hours(demo_pixel):
    pulling.pull_counts(demo_pixel.pk, start=START, end=END)
    sums = {
        (row["event"], row["source"], row["hour__date"]): row["total"]
        for row in HourlyStat.objects.filter(pixel=demo_pixel)
        .values("event", "source", "hour__date")
        .annotate(total=Sum("count"))
    }
    assert sums
    assert {(e, s, d): c for e, s, d, c in daily(demo_pixel)} == sums


class FakeConnector:
    provider = "meta"

    def __init__(self, *, counts=None, error=None, fail_after: int | None = None) -> None:
        self.counts = counts or []
        self.error = error
        self.fail_after = fail_after

    def pixel_info(self) -> PixelInfo:
        if self.error is not None and self.fail_after is None:
            raise self.error
        return PixelInfo(external_id="1", name="x", last_fired_at=None)

    def event_counts(self, start, end):
        for index, item in enumerate(self.counts):
            if self.fail_after is not None and index == self.fail_after:
                raise self.error
            yield item

    def quality(self):
        if self.error is not None:
            raise self.error
        return []


def hour_count(hour, total=5) -> HourCount:
    return HourCount(event="Lead", hour=hour, total=total, browser=3, server=2)


@pytest.fixture
def meta_pixel(db):
    pixel = PixelFactory(name="Meta pixel", with_token=True)
    PixelConnectionFactory(pixel=pixel, provider="meta")
    return pixel


def use(monkeypatch, connector) -> None:
    monkeypatch.setattr(pulling, "connector_for", lambda pixel, provider: connector)


def run_counts(pixel) -> PullRun:
    run = PullRun.objects.create(pixel=pixel, kind="counts", range_start=START, range_end=END)
    pulling.run_pull(run.pk)
    run.refresh_from_db()
    return run


def test_a_token_error_breaks_the_connection_with_its_message_and_writes_nothing(
    meta_pixel, monkeypatch
):
    use(
        monkeypatch, FakeConnector(error=TokenError("The access token has expired: set a new one."))
    )
    run = run_counts(meta_pixel)
    assert run.status == "failed"
    assert run.error == "The access token has expired: set a new one."
    conn = PixelConnection.objects.get(pixel=meta_pixel)
    assert conn.status == "broken"
    assert conn.message == "The access token has expired: set a new one."
    assert {"key": "connection_broken", "message": conn.message} in conn.problems
    assert not HourlyStat.objects.filter(pixel=meta_pixel).exists()


def test_a_malformed_answer_midway_writes_nothing(meta_pixel, monkeypatch):
    good = [hour_count(START + dt.timedelta(hours=h)) for h in range(5)]
    use(monkeypatch, FakeConnector(counts=good, error=MalformedResponse("Bad body."), fail_after=3))
    run = run_counts(meta_pixel)
    assert (run.status, run.error) == ("failed", "Bad body.")
    assert PixelConnection.objects.get(pixel=meta_pixel).status == "error"
    assert not HourlyStat.objects.exists()
    assert not DailyStat.objects.exists()


def test_buckets_outside_the_range_or_negative_counts_are_malformed(meta_pixel, monkeypatch):
    use(monkeypatch, FakeConnector(counts=[hour_count(END + dt.timedelta(hours=1))]))
    assert "outside the asked range" in run_counts(meta_pixel).error
    use(monkeypatch, FakeConnector(counts=[hour_count(START, total=-1)]))
    assert "not a whole number" in run_counts(meta_pixel).error
    assert not HourlyStat.objects.exists()


def test_a_rate_limit_sets_retry_after(meta_pixel, monkeypatch):
    use(monkeypatch, FakeConnector(error=RateLimited("Too many calls.", retry_after=600)))
    run = run_counts(meta_pixel)
    assert run.status == "failed"
    conn = PixelConnection.objects.get(pixel=meta_pixel)
    assert conn.status == "rate_limited"
    assert conn.retry_after > dt.datetime.now(dt.UTC) + dt.timedelta(seconds=500)


def test_buckets_the_platform_no_longer_reports_are_removed(meta_pixel, monkeypatch):
    use(
        monkeypatch,
        FakeConnector(counts=[hour_count(START), hour_count(START + dt.timedelta(hours=1))]),
    )
    run_counts(meta_pixel)
    assert HourlyStat.objects.count() == 6
    use(monkeypatch, FakeConnector(counts=[hour_count(START, total=7)]))
    run_counts(meta_pixel)
    assert HourlyStat.objects.count() == 3
    assert DailyStat.objects.get(source="total").count == 7


def test_a_finished_run_is_skipped_and_a_running_one_restarts(demo_pixel):
    run = PullRun.objects.create(
        pixel=demo_pixel, kind="counts", status="running", range_start=START, range_end=END
    )
    pulling.run_pull(run.pk)
    run.refresh_from_db()
    assert (run.status, run.rows, run.progress) == ("succeeded", 48 * 6 * 3, 100)
    finished = run.finished_at
    pulling.run_pull(run.pk)  # a redelivery
    run.refresh_from_db()
    assert run.finished_at == finished


def test_a_scheduled_counts_run_reads_from_before_where_the_last_ended(demo_pixel):
    PixelConnection.objects.filter(pixel=demo_pixel).update(
        counts_through=END - dt.timedelta(hours=5)
    )
    run = PullRun.objects.create(pixel=demo_pixel, kind="counts")
    pulling.run_pull(run.pk)
    run.refresh_from_db()
    assert run.status == "succeeded"
    assert run.range_start == END - dt.timedelta(hours=8)
    assert run.range_end == pulling.floor_hour(run.started_at)  # the current hour


def test_quality_pull_and_summary_of_key_events(demo_pixel):
    QualitySettingsFactory(brand=demo_pixel.brand, emq_threshold=Decimal("6.0"))
    EventMappingFactory(
        event=EventDefinitionFactory(brand=demo_pixel.brand, name="lead_form"), target="Lead"
    )
    draft = EventDefinitionFactory(brand=demo_pixel.brand, name="buy", status="draft")
    EventMappingFactory(event=draft, target="Purchase")  # not active: not a key event
    assert pulling.pull_quality(demo_pixel.pk) == 6
    assert EventQuality.objects.filter(pixel=demo_pixel, provider="demo").count() == 6
    pulling.pull_counts(demo_pixel.pk, start=START, end=END)
    conn = PixelConnection.objects.get(pixel=demo_pixel)
    assert conn.key_emq == {"Lead": 3.8}
    assert conn.min_key_emq == Decimal("3.8")
    assert conn.freshness == "real_time"
    assert conn.quality_pulled_at is not None
    keys = [problem["key"] for problem in conn.problems]
    assert keys == ["low_emq:Lead"]


def test_without_key_events_every_pulled_event_counts(db):
    pixel = PixelFactory(external_id="420000000000101", capi_enabled=True)
    PixelConnectionFactory(pixel=pixel, provider="demo")
    pulling.pull_quality(pixel.pk)
    conn = PixelConnection.objects.get(pixel=pixel)
    assert len(conn.key_emq) == 6
    assert conn.dedup_coverage == Decimal("15.00")
    assert "low_dedup" in [problem["key"] for problem in conn.problems]


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_rows_land_in_their_months_partition(demo_pixel):
    pulling.pull_counts(demo_pixel.pk, start=START, end=END)
    name = f"quality_hourlystat_y{END.year:04d}m{END.month:02d}"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {name} WHERE pixel_id = %s", [demo_pixel.pk])  # noqa: S608
        in_month = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM quality_hourlystat_default")
        in_default = cursor.fetchone()[0]
    assert (
        in_month
        == HourlyStat.objects.filter(pixel=demo_pixel, hour__gte=END.replace(day=1, hour=0)).count()
    )
    assert in_month > 0
    assert in_default == 0


def test_alerts_are_evaluated_after_each_ended_pull(demo_pixel, meta_pixel, monkeypatch):
    from koastops.quality import alerting

    seen: list[int] = []
    monkeypatch.setattr(alerting, "evaluate_after_pull", seen.append)
    run = PullRun.objects.create(pixel=demo_pixel, kind="counts", range_start=START, range_end=END)
    pulling.run_pull(run.pk)
    use(monkeypatch, FakeConnector(error=TokenError("Expired.")))
    run_counts(meta_pixel)
    assert seen == [demo_pixel.pk, meta_pixel.pk]


def test_a_failing_alert_evaluation_does_not_fail_the_pull(demo_pixel, monkeypatch):
    from koastops.quality import alerting

    def boom(pixel_id: int) -> None:
        raise RuntimeError("alerts broke")

    monkeypatch.setattr(alerting, "evaluate_after_pull", boom)
    run = PullRun.objects.create(pixel=demo_pixel, kind="counts", range_start=START, range_end=END)
    pulling.run_pull(run.pk)
    run.refresh_from_db()
    assert run.status == "succeeded"
