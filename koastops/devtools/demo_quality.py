"""The event-quality stats of the demo data (``seed_demo``): every Meta pixel of the demo
brands reads from the demo provider (``koastops.quality.platforms.demo``, labelled "demo
data" wherever it shows) and gets 30 days of hourly counts and a quality pull, through the
same ``koastops.quality.pulling`` code as the scheduled pulls (bulk upserts: a re-run
rewrites the same buckets, it does not add rows), plus a daily quality snapshot for each
of those days (the EMQ and dedup history the charts draw). Each pull leaves a succeeded backfill
``PullRun`` row, so the pixel pages show when the numbers were pulled."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.utils import timezone

from koastops.catalog.models import Brand, CatalogStatus, Pixel, Platform
from koastops.quality import alerting, pulling
from koastops.quality.models import (
    EventQuality,
    PixelConnection,
    Provider,
    PullKind,
    PullRun,
    PullStatus,
)
from koastops.quality.platforms.demo import DemoConnector

DEMO_DAYS = 30


def seed_demo_stats(*, brands: Iterable[Brand], days: int = DEMO_DAYS) -> int:
    """Pull ``days`` of demo counts and one quality pull for the brands' Meta pixels; the
    number of hourly rows written."""
    end = pulling.floor_hour(timezone.now())
    start = end - dt.timedelta(days=days)
    pixels = Pixel.objects.filter(
        brand__in=list(brands), platform=Platform.META, status=CatalogStatus.ACTIVE
    ).order_by("pk")
    written = 0
    for pixel in pixels:
        connection, _created = PixelConnection.objects.get_or_create(pixel=pixel)
        if connection.provider != Provider.DEMO:
            PixelConnection.objects.filter(pk=connection.pk).update(provider=Provider.DEMO)
        started = timezone.now()
        # A daily quality snapshot for the history charts, then today's pull.
        history = []
        for days_ago in range(days, 0, -1):
            moment = end - dt.timedelta(days=days_ago)
            snapshot = DemoConnector(pixel.external_id, now=moment).quality()
            history += pulling.quality_rows(
                pixel, snapshot, pulled_at=moment, provider=Provider.DEMO
            )
        EventQuality.objects.bulk_create(history, ignore_conflicts=True)
        rows = pulling.pull_counts(pixel.pk, start=start, end=end)
        rows += pulling.pull_quality(pixel.pk)
        finished = timezone.now()
        PullRun.objects.create(
            pixel=pixel,
            kind=PullKind.BACKFILL,
            status=PullStatus.SUCCEEDED,
            range_start=start,
            range_end=end,
            started_at=started,
            heartbeat_at=finished,
            finished_at=finished,
            progress=100,
            rows=rows,
        )
        written += rows
        alerting.evaluate_after_pull(pixel.pk)  # as after every pull: the demo's alerts
    return written
