"""The demo stats: 30 days for every demo Meta pixel, through the pull code, with the
built-in problems visible in the summary figures; a re-run adds no rows."""

from __future__ import annotations

import time

from koastops.devtools.demo_quality import seed_demo_stats
from koastops.quality.models import DailyStat, EventQuality, HourlyStat, PixelConnection, PullRun
from tests.factories import BrandFactory, PixelFactory

DEMO_IDS = ("410000000000101", "420000000000101", "430000000000101", "430000000000102")


def test_seed_demo_stats_pulls_30_days_per_demo_pixel_and_is_repeatable(db):
    brand = BrandFactory()
    pixels = {
        external_id: PixelFactory(brand=brand, external_id=external_id, capi_enabled=True)
        for external_id in DEMO_IDS
    }
    PixelFactory(brand=brand, platform="google", external_id="AW-1")  # not a Meta pixel

    started = time.perf_counter()
    written = seed_demo_stats(brands=[brand])
    elapsed = time.perf_counter() - started
    per_pixel = 30 * 24 * 6 * 3
    assert written == 4 * (per_pixel + 6)
    assert HourlyStat.objects.count() == 4 * per_pixel
    assert DailyStat.objects.count() >= 4 * 30 * 6 * 3
    assert elapsed < 60, f"seeding took {elapsed:.1f} s"  # ~2 s on an idle machine

    connections = {
        conn.pixel.external_id: conn
        for conn in PixelConnection.objects.select_related("pixel").filter(
            pixel__in=pixels.values()
        )
    }
    assert {conn.provider for conn in connections.values()} == {"demo"}
    keys = {
        external_id: {p["key"] for p in conn.problems} for external_id, conn in connections.items()
    }
    assert "low_dedup" in keys["420000000000101"]
    assert "low_emq:Lead" in keys["430000000000101"]
    assert keys["430000000000102"] == set()
    assert all(conn.events_per_day > 0 for conn in connections.values())
    assert PullRun.objects.filter(status="succeeded", kind="backfill").count() == 4
    # A quality snapshot per day for the charts, and today's pull.
    snapshots = EventQuality.objects.filter(pixel=pixels["430000000000102"])
    assert snapshots.values("pulled_at").distinct().count() == 31
    assert len(set(snapshots.filter(event="Purchase").values_list("emq", flat=True))) > 2

    seed_demo_stats(brands=[brand])
    # The same buckets again (one more hour per pixel if the clock passed an hour meanwhile).
    assert 4 * per_pixel <= HourlyStat.objects.count() <= 4 * (per_pixel + 18)
