"""The summary figures of a pixel's connection, recomputed after every pull, so the quality
table reads one row per pixel however many stat rows there are.

- ``events_per_day``: the average per UTC day of the total counts of every event over the
  7 days before ``counts_through`` (fewer days if fewer were pulled);
- ``server_share``: server / (browser + server) over the same 7 days, in percent;
- ``key_emq`` / ``min_key_emq`` / ``dedup_coverage`` (the lowest of the key events) /
  ``freshness`` (the slowest upload frequency) from the latest quality pull, for the
  brand's *key events*: the Meta targets of its active tracking-plan events, or every
  pulled event when the plan maps none;
- ``problems``: ``[{"key", "message"}]`` for a broken or failing connection, a silent
  pixel (> 24 h since it last fired), a key event below the brand's EMQ threshold, dedup
  coverage below the dedup threshold or no server events on a pixel with the Conversions
  API enabled.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db.models import Max, Q, Sum
from django.utils import timezone

from koastops.catalog.models import Platform
from koastops.quality.models import (
    ConnectionStatus,
    EventQuality,
    HourlyStat,
    PixelConnection,
    Source,
)
from koastops.taxonomy.models import EventMapping, EventStatus

SILENT_AFTER = dt.timedelta(hours=24)
# Slowest last: the pixel's freshness is its slowest key event's.
FRESHNESS_ORDER = ("real_time", "hourly", "daily", "weekly")


def key_events(brand_id: int) -> list[str]:
    """The Meta event names of the brand's active tracking-plan events (may be empty)."""
    return sorted(
        set(
            EventMapping.objects.filter(
                brand_id=brand_id, platform=Platform.META, event__status=EventStatus.ACTIVE
            ).values_list("target", flat=True)
        )
    )


def _slowest(values: list[str]) -> str:
    known = [value for value in values if value]
    if not known:
        return ""
    return max(
        known,
        key=lambda value: FRESHNESS_ORDER.index(value) if value in FRESHNESS_ORDER else 99,
    )


def _fmt(value: Decimal | float) -> str:
    return f"{Decimal(str(value)).normalize():f}"


def refresh_summary(pixel_id: int) -> None:
    connection = PixelConnection.objects.select_related("pixel").get(pixel_id=pixel_id)
    pixel = connection.pixel
    now = timezone.now()

    through = connection.counts_through or now
    week = HourlyStat.objects.filter(
        pixel_id=pixel_id, hour__gte=through - dt.timedelta(days=7), hour__lt=through
    ).aggregate(
        total=Sum("count", filter=Q(source=Source.TOTAL)),
        browser=Sum("count", filter=Q(source=Source.BROWSER)),
        server=Sum("count", filter=Q(source=Source.SERVER)),
    )
    events_per_day: int | None = None
    server_share: Decimal | None = None
    has_counts = week["total"] is not None
    if has_counts:
        first_hour = (
            HourlyStat.objects.filter(
                pixel_id=pixel_id, hour__gte=through - dt.timedelta(days=7), hour__lt=through
            )
            .order_by("hour")
            .values_list("hour", flat=True)
            .first()
        )
        hours = max(1.0, (through - first_hour).total_seconds() / 3600) if first_hour else 1.0
        days = min(7.0, max(1.0, hours / 24))
        events_per_day = round(week["total"] / days)
        sent = (week["browser"] or 0) + (week["server"] or 0)
        if sent:
            server_share = (Decimal(week["server"] or 0) * 100 / sent).quantize(Decimal("0.01"))

    latest = EventQuality.objects.filter(pixel_id=pixel_id).aggregate(at=Max("pulled_at"))["at"]
    rows = list(EventQuality.objects.filter(pixel_id=pixel_id, pulled_at=latest)) if latest else []
    wanted = set(key_events(pixel.brand_id))
    key_rows = [row for row in rows if row.event in wanted] if wanted else rows
    if wanted and not key_rows:
        key_rows = rows
    key_emq = {row.event: float(row.emq) for row in key_rows if row.emq is not None}
    emqs = [row.emq for row in key_rows if row.emq is not None]
    dedups = [(row.dedup_coverage, row.event) for row in key_rows if row.dedup_coverage is not None]

    from koastops.quality.selectors import settings_for

    settings = settings_for(pixel.brand_id)
    emq_threshold, dedup_threshold = settings.emq_threshold, settings.dedup_threshold

    problems: list[dict[str, Any]] = []
    if connection.status == ConnectionStatus.BROKEN:
        problems.append(
            {"key": "connection_broken", "message": connection.message or "Connection broken."}
        )
    elif connection.status == ConnectionStatus.ERROR:
        problems.append(
            {"key": "connection_error", "message": connection.message or "The last pull failed."}
        )
    fired = connection.last_fired_at
    if fired is None or now - fired > SILENT_AFTER:
        since = f"since {fired:%Y-%m-%d %H:%M} UTC" if fired else "as far as the platform knows"
        problems.append({"key": "silent", "message": f"The pixel has not fired {since}."})
    problems.extend(
        {
            "key": f"low_emq:{row.event}",
            "message": (
                f"{row.event}: Event Match Quality {_fmt(row.emq)} is below the "
                f"brand's threshold of {_fmt(emq_threshold)}."
            ),
        }
        for row in sorted(key_rows, key=lambda row: row.event)
        if row.emq is not None and row.emq < emq_threshold
    )
    if pixel.capi_enabled and dedups:
        lowest, event = min(dedups)
        if lowest < dedup_threshold:
            problems.append(
                {
                    "key": "low_dedup",
                    "message": (
                        f"{event}: dedup coverage {_fmt(lowest)} % is below the brand's "
                        f"threshold of {_fmt(dedup_threshold)} %."
                    ),
                }
            )
    if pixel.capi_enabled and has_counts and not week["server"]:
        problems.append(
            {
                "key": "no_server_events",
                "message": "The Conversions API is enabled but no server events arrived in 7 days.",
            }
        )

    PixelConnection.objects.filter(pk=connection.pk).update(
        events_per_day=events_per_day,
        server_share=server_share,
        dedup_coverage=min(dedups)[0] if dedups else None,
        key_emq=key_emq,
        min_key_emq=min(emqs) if emqs else None,
        freshness=_slowest([row.freshness for row in key_rows]),
        problems=problems,
    )
