"""The stats pull bench (``koastops.devtools.bench_quality_pull``) at a tiny size."""

from __future__ import annotations

import sys
import types

import pytest
from django.utils import timezone

from koastops.catalog.models import Pixel
from koastops.devtools import bench_quality_pull as bench
from koastops.quality.connectors import connector_for
from koastops.quality.models import HourlyStat, PixelConnection

pytestmark = pytest.mark.django_db

SMALL = {"pixels": 3, "days": 1, "page_size": 10}


def throwaway_pull_counts(pixel_id: int, *, start, end, provider_override=None) -> int:
    """A stand-in for the pulls part's ``pulling.pull_counts`` (not in this branch): fetch
    with the pixel's connector, upsert the three sources of every bucket."""
    pixel = Pixel.objects.get(pk=pixel_id)
    connection = PixelConnection.objects.get(pixel=pixel)
    now = timezone.now()
    rows = [
        HourlyStat(
            pixel=pixel, event=c.event, source=source, hour=c.hour, count=count, pulled_at=now
        )
        for c in connector_for(pixel, connection.provider).event_counts(start, end)
        for source, count in (("total", c.total), ("browser", c.browser), ("server", c.server))
    ]
    HourlyStat.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["pixel", "event", "source", "hour"],
        update_fields=["count", "pulled_at"],
    )
    return len(rows)


def test_without_the_pulling_module_the_pull_row_says_it_was_not_measured(monkeypatch):
    monkeypatch.setitem(sys.modules, "koastops.quality.pulling", None)  # import fails

    connector, pull = bench.measure_pull(**SMALL)

    # 3 pixels x (aggregation=event + 3 event_source queries) x 3 pages of 10 hours.
    assert connector.requests == 3 * 4 * 3
    assert connector.rows > 0
    assert connector.ratio is not None and connector.raw_seconds > 0
    assert pull.seconds is None
    assert "not installed" in pull.note
    assert bench.pull_problems([connector, pull]) == []
    text = "\n".join(bench.pull_markdown([connector, pull]))
    assert "| — | — | — |" in text
    assert "not measured" in text


def test_the_pull_row_times_pull_counts_against_the_replay_of_its_requests(monkeypatch):
    module = types.ModuleType("koastops.quality.pulling")
    module.pull_counts = throwaway_pull_counts  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "koastops.quality.pulling", module)

    connector, pull = bench.measure_pull(runs=2, **SMALL)

    assert not pull.failed, pull.note
    assert pull.requests == connector.requests
    assert pull.rows == 3 * connector.rows  # total, browser and server
    assert HourlyStat.objects.count() == pull.rows  # the second run upserted the same rows
    assert pull.ratio is not None
    assert PixelConnection.objects.filter(pixel__brand__slug=bench.PULL_BRAND_SLUG).count() == 3


def test_a_failing_pull_is_reported_not_raised(monkeypatch):
    def broken(pixel_id, *, start, end, provider_override=None):
        raise RuntimeError("boom")

    module = types.ModuleType("koastops.quality.pulling")
    module.pull_counts = broken  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "koastops.quality.pulling", module)

    _, pull = bench.measure_pull(**SMALL)

    assert pull.failed
    assert bench.pull_problems([pull]) == [pull]
    assert "boom" in pull.note


def test_without_encryption_keys_the_bench_uses_its_own(monkeypatch, settings):
    # make bench runs with DEBUG off and no FIELD_ENCRYPTION_KEYS.
    settings.FIELD_ENCRYPTION_KEYS = []
    module = types.ModuleType("koastops.quality.pulling")
    module.pull_counts = throwaway_pull_counts  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "koastops.quality.pulling", module)

    connector, pull = bench.measure_pull(pixels=1, days=1, page_size=24)

    assert not pull.failed, pull.note
    assert pull.rows == 3 * connector.rows > 0


def test_seeding_twice_adds_nothing():
    first = bench.seed_pull_pixels(pixels=2)
    assert bench.seed_pull_pixels(pixels=2) == first
    assert Pixel.objects.filter(brand__slug=bench.PULL_BRAND_SLUG).count() == 2


def test_the_section_goes_before_the_dataset():
    page = "# Benchmarks\n\n| a |\n\n## Dataset\n\n- x\n"
    out = bench.with_pull_section(page, ["## Stats pulls", "", "| b |"])
    assert out.index("## Stats pulls") < out.index("## Dataset")
    assert bench.with_pull_section("# B\n", ["## Stats pulls"]).endswith("## Stats pulls\n\n")
