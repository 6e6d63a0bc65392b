"""The quality pages' part of ``manage.py bench``.

- ``seed_bench_quality``: a brand of its own (``quality-bench``, outside the ``bench-``
  brands so their rows keep measuring what they measured) with ``pixels`` pixels (2,000),
  each with a connection and summary figures (a tenth with problems, one in fifty broken,
  one in ten demo data), and ``hours`` hours (168: the last 7 days) of counts for two
  events and three sources per pixel — 2,016,000 ``HourlyStat`` rows at the defaults,
  written with PostgreSQL ``COPY`` — plus their daily rollup (one ``INSERT … SELECT``),
  and a quality report per pixel and key event. Idempotent: what exists is kept (a second
  run seeds nothing). The bench's ops lead gets the ops-lead role on the brand.
- ``quality_bench_pages``: the pages measured: the brand's quality table (plain, and
  sorted by the lowest EMQ among the pixels with problems), one pixel's detail (7 days
  hourly, 90 days daily), the cross-brand table, and the API's stats (sums over 7 days,
  the daily series) and quality endpoints.

The tables read one summary row per pixel, so their time must not grow with the stat
rows: targets at most 5 times the floor view, with the same query count as with one pixel.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from koastops.catalog.models import Brand, CatalogStatus, Pixel, Platform

QUALITY_SLUG = "quality-bench"
QUALITY_PIXELS = 2000
QUALITY_HOURS = 168  # 7 days: 2,000 x 168 x 2 events x 3 sources = 2,016,000 rows
EVENTS = ("Purchase", "Lead")
SOURCES = ("total", "browser", "server")
PAGE_TARGET = 5.0  # x the floor view


def _external_id(n: int) -> str:
    return f"8{n:07d}00"


def _summary(n: int, now: dt.datetime) -> dict[str, Any]:
    problems: list[dict[str, str]] = []
    status = "ok"
    if n % 50 == 7:
        status = "broken"
        problems.append({"key": "connection_broken", "message": "The access token expired."})
    if n % 10 == 3:
        problems.append(
            {"key": "low_emq", "message": "Lead: Event Match Quality 4.1 is below 6.0."}
        )
    emq = Decimal(40 + n % 60) / 10
    return {
        "provider": "demo" if n % 10 == 0 else "meta",
        "status": status,
        "message": "Error validating access token." if status == "broken" else "",
        "counts_through": now,
        "counts_pulled_at": now,
        "quality_pulled_at": now,
        "last_fired_at": now - dt.timedelta(minutes=n % 90),
        "events_per_day": 500 + (n * 37) % 20_000,
        "server_share": Decimal(n % 100),
        "dedup_coverage": Decimal((n * 7) % 100),
        "key_emq": {"Purchase": str(emq), "Lead": str(max(Decimal(1), emq - 2))},
        "min_key_emq": max(Decimal(1), emq - 2),
        "freshness": "real_time" if n % 3 else "hourly",
        "problems": problems,
    }


def _copy_hourly(pixel_ids: list[int], hours: int, end: dt.datetime) -> None:
    """``COPY`` the counts of ``pixel_ids`` (psycopg's copy protocol: the fastest way in)."""
    start = end - dt.timedelta(hours=hours)
    with connection.cursor() as wrapper:
        raw = wrapper.cursor  # the psycopg cursor
        statement = (
            "COPY quality_hourlystat (pixel_id, event, source, hour, count, pulled_at) FROM STDIN"
        )
        with raw.copy(statement) as copy:
            for pixel_id in pixel_ids:
                for step in range(hours):
                    hour = start + dt.timedelta(hours=step)
                    for index, event in enumerate(EVENTS):
                        browser = 20 + (pixel_id + step * 7 + index * 13) % 80
                        server = browser * (pixel_id % 5) // 5
                        total = max(browser, server) + (browser + server) // 10
                        copy.write_row((pixel_id, event, "total", hour, total, end))
                        copy.write_row((pixel_id, event, "browser", hour, browser, end))
                        copy.write_row((pixel_id, event, "server", hour, server, end))


def _rollup(brand_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO quality_dailystat (pixel_id, event, source, day, count)
            SELECT h.pixel_id, h.event, h.source, (h.hour AT TIME ZONE 'UTC')::date,
                   SUM(h.count)
              FROM quality_hourlystat h
              JOIN catalog_pixel p ON p.id = h.pixel_id
             WHERE p.brand_id = %s
             GROUP BY 1, 2, 3, 4
            ON CONFLICT DO NOTHING
            """,
            [brand_id],
        )


def _hourly_rows(brand_id: int) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM quality_hourlystat h JOIN catalog_pixel p "
            "ON p.id = h.pixel_id WHERE p.brand_id = %s",
            [brand_id],
        )
        return int(cursor.fetchone()[0])


@transaction.atomic
def seed_bench_quality(
    *, lead: Any = None, pixels: int = QUALITY_PIXELS, hours: int = QUALITY_HOURS
) -> dict[str, int]:
    """Create what is missing of the quality bench data (PostgreSQL only: ``COPY``);
    returns the counts present."""
    from koastops.quality.models import EventQuality, HourlyStat, PixelConnection

    if connection.vendor != "postgresql":
        raise RuntimeError("The quality bench data is written with PostgreSQL COPY.")
    brand, _ = Brand.objects.get_or_create(
        slug=QUALITY_SLUG,
        defaults={"name": "Quality Bench", "description": "Generated by manage.py bench."},
    )
    if lead is not None:
        from koastops.accounts import policies
        from koastops.accounts.models import Role

        if policies.role_for(lead, brand) is None:
            policies.grant_role(lead, brand, Role.OPS_LEAD)
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    Pixel.objects.bulk_create(
        [
            Pixel(
                brand=brand,
                platform=Platform.META,
                external_id=_external_id(n),
                name=f"Quality bench pixel {n:04d}",
                capi_enabled=n % 2 == 0,
                status=CatalogStatus.ACTIVE,
            )
            for n in range(pixels)
        ],
        ignore_conflicts=True,
        batch_size=1000,
    )
    ids = dict(
        Pixel.objects.filter(
            brand=brand, external_id__in=[_external_id(n) for n in range(pixels)]
        ).values_list("external_id", "pk")
    )
    ordered = [ids[_external_id(n)] for n in range(pixels)]
    PixelConnection.objects.bulk_create(
        [PixelConnection(pixel_id=pk, **_summary(n, now)) for n, pk in enumerate(ordered)],
        ignore_conflicts=True,
        batch_size=1000,
    )
    with_counts = set(
        HourlyStat.objects.filter(pixel_id__in=ordered)
        .order_by()
        .values_list("pixel_id", flat=True)
        .distinct()
    )
    missing = [pk for pk in ordered if pk not in with_counts]
    if missing:
        _copy_hourly(missing, hours, now)
        _rollup(brand.pk)
    if not EventQuality.objects.filter(pixel__brand=brand).exists():
        EventQuality.objects.bulk_create(
            [
                EventQuality(
                    pixel_id=pk,
                    event=event,
                    pulled_at=now,
                    provider="demo" if n % 10 == 0 else "meta",
                    emq=Decimal(40 + n % 60) / 10,
                    event_coverage=Decimal(80),
                    dedup_coverage=Decimal((n * 7) % 100),
                    freshness="real_time",
                    match_keys=[{"identifier": "email", "coverage": 91.5}],
                    diagnostics=[],
                )
                for n, pk in enumerate(ordered)
                for event in EVENTS
            ],
            ignore_conflicts=True,
            batch_size=2000,
        )
    with connection.cursor() as cursor:
        # Fresh statistics, as autovacuum would give a real install: without them the
        # planner takes the 2,000 new pixels for a handful.
        cursor.execute(
            "ANALYZE catalog_pixel, quality_pixelconnection, quality_hourlystat, "
            "quality_dailystat, quality_eventquality"
        )
    return {
        f"pixels ({QUALITY_SLUG})": len(ordered),
        f"hourly stat rows ({QUALITY_SLUG})": _hourly_rows(brand.pk),
    }


def quality_bench_pages(*, api_token: str = "") -> list[Any]:
    """The quality pages and API endpoints measured (``bench.Page`` rows)."""
    from koastops.devtools.management.commands.bench import Page

    brand = Brand.objects.filter(slug=QUALITY_SLUG).first()
    if brand is None:
        return []
    pixel = Pixel.objects.filter(brand=brand).order_by("external_id").first()
    table = reverse("quality:pixels", args=[QUALITY_SLUG])
    pages = [
        Page("quality table (2,000 pixels, 2M stat rows)", table),
        Page("quality table, problems by lowest EMQ", table + "?show=problems&sort=emq"),
        Page("quality table, every brand", reverse("quality_all:pixels")),
    ]
    if pixel is not None:
        detail = reverse("quality:pixel", args=[QUALITY_SLUG, pixel.pk])
        pages += [
            Page("quality pixel detail (7 days hourly)", detail),
            Page("quality pixel detail (90 days daily)", detail + "?range=90d"),
        ]
        if api_token:
            auth = (("HTTP_AUTHORIZATION", f"Bearer {api_token}"),)
            end = timezone.now().replace(minute=0, second=0, microsecond=0)
            start = end - dt.timedelta(days=7)
            span = f"start={start:%Y-%m-%dT%H:%M:%SZ}&end={end:%Y-%m-%dT%H:%M:%SZ}"
            stats = reverse("api-v1:quality_stats", args=[QUALITY_SLUG, pixel.pk])
            pages += [
                Page("API: pixel stats (7-day sums)", f"{stats}?{span}", auth),
                Page("API: pixel stats (daily series)", f"{stats}?{span}&granularity=day", auth),
                Page(
                    "API: pixel quality",
                    reverse("api-v1:quality_detail", args=[QUALITY_SLUG, pixel.pk]),
                    auth,
                ),
            ]
    return pages
