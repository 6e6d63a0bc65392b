"""Pulling stats from a pixel's platform: the same code for the Celery task, the backfill
command and the demo seeding.

A pull fetches everything of its range first (``connector_for(pixel, provider)``), checks
it, and only then opens ONE transaction that upserts the hourly rows (``INSERT ... ON
CONFLICT (pixel_id, event, source, hour) DO UPDATE``, one statement per 10,000 rows),
removes the range's rows the platform no longer reports, rewrites the daily rollups of the
UTC days touched (``INSERT ... SELECT sum(...) GROUP BY``) and updates the connection and
its summary figures. A worker killed at any point leaves either the whole range or none of
it; pulling the same range twice gives the same rows.

Errors: a token error marks the connection broken (its message visible, no retry); a rate
limit marks it rate limited until ``retry_after`` (beat skips it until then); a malformed
answer or any other platform error marks the connection's last pull failed. In each case
the run fails with the message and nothing of the pull is written.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import asdict
from decimal import Decimal
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.db import connection as db_connection
from django.db import transaction
from django.utils import timezone

from koastops.catalog.models import Pixel
from koastops.quality import alerting, health, partitions
from koastops.quality.connectors import connector_for
from koastops.quality.models import (
    ConnectionStatus,
    EventQuality,
    PixelConnection,
    PullKind,
    PullRun,
    PullStatus,
    Source,
)
from koastops.quality.platforms.base import (
    EventQualityData,
    HourCount,
    MalformedResponse,
    PixelInfo,
    PlatformError,
    RateLimited,
    TokenError,
)

logger = logging.getLogger("koastops.quality.pulling")

CHUNK_ROWS = 10_000
#: Meta keeps about 7 days of hourly stats and closes buckets with up to 3 h of lag: a
#: scheduled pull re-reads the last few hours and never reaches further back than a week.
LOOKBACK = dt.timedelta(hours=3)
FIRST_PULL = dt.timedelta(days=7)

Progress = Callable[[int], None]


def floor_hour(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)


def _connection(pixel: Pixel) -> PixelConnection:
    found, _created = PixelConnection.objects.get_or_create(pixel=pixel)
    return found


def scheduled_range(
    connection: PixelConnection, now: dt.datetime
) -> tuple[dt.datetime, dt.datetime]:
    """The range a scheduled counts pull reads: from a little before where the last pull
    ended (buckets close late), at most a week back, to the current hour."""
    end = floor_hour(now)
    oldest = end - FIRST_PULL
    start = connection.counts_through - LOOKBACK if connection.counts_through else oldest
    return max(oldest, min(start, end - LOOKBACK)), end


# --- fetching and checking ------------------------------------------------------------------


def _check_counts(
    items: Iterable[HourCount], start: dt.datetime, end: dt.datetime
) -> list[HourCount]:
    counts: list[HourCount] = []
    seen: set[tuple[str, dt.datetime]] = set()
    for item in items:
        if not isinstance(item, HourCount):
            raise MalformedResponse("The platform answered counts in an unexpected shape.")
        hour = item.hour
        if (
            hour.tzinfo is None
            or hour != floor_hour(hour)
            or not start <= hour < end
            or not item.event
            or len(item.event) > 100
        ):
            raise MalformedResponse(
                f"The platform answered a bucket outside the asked range or not on the hour "
                f"({item.event!r} at {hour.isoformat()})."
            )
        for value in (item.total, item.browser, item.server):
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise MalformedResponse(
                    f"The platform answered a count that is not a whole number for {item.event}."
                )
        key = (item.event, hour)
        if key in seen:
            raise MalformedResponse(
                f"The platform answered {item.event} at {hour.isoformat()} twice."
            )
        seen.add(key)
        counts.append(item)
    return counts


def _fetch_counts(
    pixel: Pixel, provider: str, start: dt.datetime, end: dt.datetime, progress: Progress | None
) -> tuple[PixelInfo, list[HourCount]]:
    connector = connector_for(pixel, provider)
    info = connector.pixel_info()
    total_hours = max(1, int((end - start).total_seconds() // 3600))
    items: list[HourCount] = []
    last_day: dt.date | None = None
    for item in connector.event_counts(start, end):
        items.append(item)
        hour = getattr(item, "hour", None)
        if progress is not None and isinstance(hour, dt.datetime) and hour.date() != last_day:
            last_day = hour.date()
            done = (hour - start).total_seconds() / 3600
            progress(min(90, int(90 * done / total_hours)))
    return info, _check_counts(items, start, end)


# --- writing ---------------------------------------------------------------------------------

# The rows travel as one JSON document (``jsonb_to_recordset``): psycopg quotes one string
# instead of four arrays element by element, several times faster for 10,000 rows.
_UPSERT_PG = """
INSERT INTO quality_hourlystat (pixel_id, event, source, hour, count, pulled_at)
SELECT %s, t.e, t.s, t.h, t.c, %s
FROM jsonb_to_recordset(%s::jsonb) AS t(e varchar, s varchar, h timestamptz, c bigint)
ON CONFLICT (pixel_id, event, source, hour)
DO UPDATE SET count = EXCLUDED.count, pulled_at = EXCLUDED.pulled_at
"""
_UPSERT_SQLITE = """
INSERT INTO quality_hourlystat (pixel_id, event, source, hour, count, pulled_at)
VALUES (%s, %s, %s, %s, %s, %s)
ON CONFLICT (pixel_id, event, source, hour)
DO UPDATE SET count = excluded.count, pulled_at = excluded.pulled_at
"""
_ROLLUP = """
INSERT INTO quality_dailystat (pixel_id, event, source, day, count)
SELECT pixel_id, event, source, {day}, SUM(count)
FROM quality_hourlystat
WHERE pixel_id = %s AND hour >= %s AND hour < %s
GROUP BY pixel_id, event, source, {day}
ON CONFLICT (pixel_id, event, source, day) DO UPDATE SET count = EXCLUDED.count
"""


def _rows(counts: list[HourCount]) -> list[tuple[str, str, dt.datetime, int]]:
    rows: list[tuple[str, str, dt.datetime, int]] = []
    for item in counts:
        rows.append((item.event, Source.TOTAL, item.hour, item.total))
        rows.append((item.event, Source.BROWSER, item.hour, item.browser))
        rows.append((item.event, Source.SERVER, item.hour, item.server))
    return rows


def _write_counts(
    pixel_id: int,
    rows: list[tuple[str, str, dt.datetime, int]],
    start: dt.datetime,
    end: dt.datetime,
    pulled_at: dt.datetime,
) -> None:
    ops = db_connection.ops
    with db_connection.cursor() as cursor:
        for offset in range(0, len(rows), CHUNK_ROWS):
            chunk = rows[offset : offset + CHUNK_ROWS]
            if db_connection.vendor == "postgresql":
                document = json.dumps(
                    [
                        {"e": event, "s": source, "h": hour.isoformat(), "c": count}
                        for event, source, hour, count in chunk
                    ]
                )
                cursor.execute(_UPSERT_PG, [pixel_id, pulled_at, document])
            else:
                stamp = ops.adapt_datetimefield_value(pulled_at)
                cursor.executemany(
                    _UPSERT_SQLITE,
                    [
                        (pixel_id, event, source, ops.adapt_datetimefield_value(hour), count, stamp)
                        for event, source, hour, count in chunk
                    ],
                )
        # Buckets of the range the platform no longer reports (every row this pull wrote
        # carries its pulled_at).
        cursor.execute(
            "DELETE FROM quality_hourlystat WHERE pixel_id = %s AND hour >= %s AND hour < %s"
            " AND pulled_at <> %s",
            [
                pixel_id,
                ops.adapt_datetimefield_value(start),
                ops.adapt_datetimefield_value(end),
                ops.adapt_datetimefield_value(pulled_at),
            ],
        )
        first_day = floor_hour(start).replace(hour=0)
        last_day = floor_hour(end - dt.timedelta(microseconds=1)).replace(hour=0) + dt.timedelta(
            days=1
        )
        cursor.execute(
            "DELETE FROM quality_dailystat WHERE pixel_id = %s AND day >= %s AND day < %s",
            [
                pixel_id,
                ops.adapt_datefield_value(first_day.date()),
                ops.adapt_datefield_value(last_day.date()),
            ],
        )
        day_sql = (
            "(hour AT TIME ZONE 'UTC')::date"
            if db_connection.vendor == "postgresql"
            else "date(hour)"
        )
        cursor.execute(
            _ROLLUP.format(day=day_sql),
            [
                pixel_id,
                ops.adapt_datetimefield_value(first_day),
                ops.adapt_datetimefield_value(last_day),
            ],
        )


def _mark_ok(connection: PixelConnection, now: dt.datetime, **fields: Any) -> None:
    changed = connection.status != ConnectionStatus.OK
    PixelConnection.objects.filter(pk=connection.pk).update(
        status=ConnectionStatus.OK,
        message="",
        retry_after=None,
        **({"status_changed_at": now} if changed else {}),
        **fields,
    )


def pull_counts(
    pixel_id: int, *, start: dt.datetime, end: dt.datetime, progress: Progress | None = None
) -> int:
    """Pull the hourly counts of ``start <= hour < end`` (UTC) and write them; the number of
    hourly rows written. Raises ``PlatformError`` (nothing written) when the pull fails."""
    if start >= end:
        raise ValueError("The start of the range must be before its end.")
    pixel = Pixel.objects.get(pk=pixel_id)
    connection = _connection(pixel)
    info, counts = _fetch_counts(pixel, connection.provider, start, end, progress)
    rows = _rows(counts)
    partitions.ensure_partitions_for_range(start, end)
    now = timezone.now()
    with transaction.atomic():
        connection = PixelConnection.objects.select_for_update().get(pk=connection.pk)
        _write_counts(pixel.pk, rows, start, end, now)
        through = min(floor_hour(end), floor_hour(now))
        if connection.counts_through and connection.counts_through > through:
            through = connection.counts_through  # a backfill of an old range
        _mark_ok(
            connection,
            now,
            counts_through=through,
            counts_pulled_at=now,
            last_fired_at=info.last_fired_at or connection.last_fired_at,
        )
        health.refresh_summary(pixel.pk)
    return len(rows)


def _decimal(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {key: _decimal(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_decimal(item) for item in value]
    return value


def _check_quality(items: Any) -> list[EventQualityData]:
    if not isinstance(items, list) or not all(isinstance(item, EventQualityData) for item in items):
        raise MalformedResponse("The platform answered quality in an unexpected shape.")
    names = [item.event for item in items]
    if len(set(names)) != len(names) or not all(name and len(name) <= 100 for name in names):
        raise MalformedResponse("The platform answered an event twice or without a name.")
    for item in items:
        if item.emq is not None and not Decimal(0) <= item.emq <= Decimal(10):
            raise MalformedResponse(f"The platform answered an EMQ outside 0-10 for {item.event}.")
    return items


def quality_rows(
    pixel: Pixel, items: list[EventQualityData], *, pulled_at: dt.datetime, provider: str
) -> list[EventQuality]:
    """The ``EventQuality`` rows of one quality pull (a snapshot at ``pulled_at``), unsaved."""
    return [
        EventQuality(
            pixel=pixel,
            event=item.event,
            pulled_at=pulled_at,
            provider=provider,
            emq=item.emq,
            event_coverage=item.event_coverage,
            event_coverage_goal=item.event_coverage_goal,
            dedup_coverage=item.dedup_coverage,
            freshness=item.freshness[:32],
            acr=item.acr,
            match_keys=[_decimal(asdict(key)) for key in item.match_keys],
            diagnostics=[_decimal(asdict(diag)) for diag in item.diagnostics],
            dedupe_keys=[_decimal(asdict(key)) for key in item.dedupe_keys],
        )
        for item in items
    ]


def write_quality(
    pixel: Pixel, items: list[EventQualityData], *, pulled_at: dt.datetime, provider: str
) -> None:
    """Write one quality snapshot; written twice it stays one (unique per pixel, event and
    time)."""
    EventQuality.objects.bulk_create(
        quality_rows(pixel, items, pulled_at=pulled_at, provider=provider),
        ignore_conflicts=True,
    )


def pull_quality(pixel_id: int, *, progress: Progress | None = None) -> int:
    """Pull the quality per event (one ``EventQuality`` row each); the number written."""
    pixel = Pixel.objects.get(pk=pixel_id)
    connection = _connection(pixel)
    connector = connector_for(pixel, connection.provider)
    info = connector.pixel_info()
    if progress is not None:
        progress(40)
    items = _check_quality(connector.quality())
    now = timezone.now()
    with transaction.atomic():
        connection = PixelConnection.objects.select_for_update().get(pk=connection.pk)
        write_quality(pixel, items, pulled_at=now, provider=connector.provider)
        _mark_ok(
            connection,
            now,
            quality_pulled_at=now,
            last_fired_at=info.last_fired_at or connection.last_fired_at,
        )
        health.refresh_summary(pixel.pk)
    return len(items)


# --- the run wrapper -------------------------------------------------------------------------


def _record_failure(pixel_id: int, error: PlatformError) -> None:
    """The connection's state after a failed pull, with the message users see."""
    now = timezone.now()
    fields: dict[str, Any] = {"message": str(error), "status_changed_at": now}
    if isinstance(error, TokenError):
        fields["status"] = ConnectionStatus.BROKEN
    elif isinstance(error, RateLimited):
        fields["status"] = ConnectionStatus.RATE_LIMITED
        fields["retry_after"] = now + dt.timedelta(seconds=max(1.0, float(error.retry_after)))
    else:
        fields["status"] = ConnectionStatus.ERROR
    with transaction.atomic():
        PixelConnection.objects.get_or_create(pixel_id=pixel_id)
        PixelConnection.objects.filter(pixel_id=pixel_id).update(**fields)
        health.refresh_summary(pixel_id)


def _finish(run_id: int, status: str, *, rows: int = 0, error: str = "") -> None:
    now = timezone.now()
    PullRun.objects.filter(pk=run_id, status=PullStatus.RUNNING).update(
        status=status,
        rows=rows,
        error=error,
        finished_at=now,
        heartbeat_at=now,
        **({"progress": 100} if status == PullStatus.SUCCEEDED else {}),
    )


def _start(run_id: int, task_id: str) -> PullRun | None:
    """Mark the run running (again, after a redelivery); None when it already ended."""
    now = timezone.now()
    with transaction.atomic():
        run = PullRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None or run.status not in (PullStatus.QUEUED, PullStatus.RUNNING):
            return None
        run.status = PullStatus.RUNNING
        run.started_at = now
        run.heartbeat_at = now
        run.progress = 0
        run.error = ""
        if task_id:
            run.task_id = task_id[:64]
        if run.kind == PullKind.COUNTS and (run.range_start is None or run.range_end is None):
            connection = _connection(run.pixel)
            run.range_start, run.range_end = scheduled_range(connection, now)
        run.save(
            update_fields=[
                "status",
                "started_at",
                "heartbeat_at",
                "progress",
                "error",
                "task_id",
                "range_start",
                "range_end",
            ]
        )
        return run


REFRESH_QUALITY_AFTER = dt.timedelta(hours=1)


def _quality_stale(pixel_id: int) -> bool:
    pulled = (
        PixelConnection.objects.filter(pixel_id=pixel_id)
        .values_list("quality_pulled_at", flat=True)
        .first()
    )
    return pulled is None or timezone.now() - pulled > REFRESH_QUALITY_AFTER


def run_pull(run_id: int, *, task_id: str = "") -> None:
    """Run one pull: the task's body, the backfill command's, the demo seeding's. A run that
    already ended is skipped; one left "running" by a lost worker starts over."""
    run = _start(run_id, task_id)
    if run is None:
        return

    def progress(percent: int) -> None:
        PullRun.objects.filter(pk=run_id, status=PullStatus.RUNNING).update(
            progress=percent, heartbeat_at=timezone.now()
        )

    try:
        if run.kind == PullKind.QUALITY:
            rows = pull_quality(run.pixel_id, progress=progress)
        else:
            if run.range_start is None or run.range_end is None:
                raise PlatformError("The pull has no range to read.")
            rows = pull_counts(
                run.pixel_id, start=run.range_start, end=run.range_end, progress=progress
            )
            if run.kind == PullKind.COUNTS and run.requested_by_id and _quality_stale(run.pixel_id):
                # "Refresh now" refreshes what the page shows, quality included (sparingly:
                # the Dataset Quality quota is small).
                rows += pull_quality(run.pixel_id)
    except PlatformError as exc:
        _record_failure(run.pixel_id, exc)
        _finish(run_id, PullStatus.FAILED, error=str(exc) or exc.__class__.__name__)
        # The connection changed (broken, rate limited, failing): alerts see that too.
        _evaluate_alerts(run_id, run.pixel_id)
        return
    except SoftTimeLimitExceeded:
        _finish(run_id, PullStatus.FAILED, error="The pull took longer than its time limit.")
        raise
    except Exception:
        logger.exception("Pull run %s failed unexpectedly", run_id)
        _finish(run_id, PullStatus.FAILED, error="The pull failed unexpectedly; see the logs.")
        raise
    _finish(run_id, PullStatus.SUCCEEDED, rows=rows)
    _evaluate_alerts(run_id, run.pixel_id)


def _evaluate_alerts(run_id: int, pixel_id: int) -> None:
    try:
        alerting.evaluate_after_pull(pixel_id)
    except Exception:  # the pull is done and recorded; alerts must not undo it
        logger.exception("Evaluating alerts after pull run %s failed", run_id)
