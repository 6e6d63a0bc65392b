"""API: event-quality stats of a pixel (under /api/v1/brands/{slug}/…), reads only;
every role of a brand (``quality.view``) reads them, pixels scoped by
``policies.pixels_for`` (a pixel of another brand, or one a narrowed media buyer may not
see, is 404).

- ``GET pixels/{pk}/stats?start=&end=``: per event, the counts (total, browser, server)
  of the UTC hourly buckets whose start lies in [start, end); with
  ``granularity=hour|day`` the series per event and bucket instead.
- ``GET pixels/{pk}/quality``: the connection, the pixel's summary figures and the latest
  quality report of each event (EMQ, coverage, match keys, diagnostics).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from django.http import Http404
from ninja import Field, Query, Router, Schema
from ninja.errors import ValidationError as NinjaValidationError

from koastops.accounts.http import ApiRequest
from koastops.api.common import brand_with_capability, responses
from koastops.quality import selectors

router = Router(tags=["quality"])

MAX_RANGE = dt.timedelta(days=400)
MAX_HOURLY_RANGE = dt.timedelta(days=31)


class StatsParams(Schema):
    start: dt.datetime = Field(description="Aware ISO 8601 time (with an offset or Z).")
    end: dt.datetime = Field(description="Aware ISO 8601 time, after start.")
    granularity: Literal["hour", "day"] | None = Field(
        None, description="Leave out for sums over the range; hour or day for a series."
    )


class EventCountsOut(Schema):
    event: str
    total: int = Field(description="After the platform's deduplication.")
    browser: int
    server: int


class StatsOut(Schema):
    pulled_at: dt.datetime | None = Field(description="When the counts were last pulled.")
    start: dt.datetime
    end: dt.datetime
    events: list[EventCountsOut]


class SeriesPointOut(Schema):
    event: str
    bucket: dt.datetime = Field(description="The start of the UTC hour or day.")
    total: int
    browser: int
    server: int


class SeriesOut(Schema):
    pulled_at: dt.datetime | None
    granularity: Literal["hour", "day"]
    start: dt.datetime
    end: dt.datetime
    series: list[SeriesPointOut]


class ConnectionOut(Schema):
    provider: str = Field(description="meta or demo (demo: made-up numbers).")
    status: str = Field(description="unknown, ok, rate_limited, error or broken.")
    message: str
    counts_pulled_at: dt.datetime | None
    quality_pulled_at: dt.datetime | None
    retry_after: dt.datetime | None


class SummaryOut(Schema):
    last_fired_at: dt.datetime | None
    events_per_day: int | None = Field(description="7-day average of all events.")
    server_share: Decimal | None = Field(description="Percent, last 7 days.")
    dedup_coverage: Decimal | None = Field(description="Percent.")
    key_emq: dict[str, Decimal | None] = Field(description="EMQ (0-10) per key event.")
    min_key_emq: Decimal | None
    freshness: str
    problems: list[dict[str, str]] = Field(description="[{key, message}]")


class EventQualityOut(Schema):
    event: str
    pulled_at: dt.datetime
    provider: str
    emq: Decimal | None
    event_coverage: Decimal | None
    event_coverage_goal: Decimal | None
    dedup_coverage: Decimal | None
    freshness: str
    acr: Decimal | None
    match_keys: list[dict[str, Any]]
    diagnostics: list[dict[str, Any]]
    dedupe_keys: list[dict[str, Any]]


class QualityOut(Schema):
    pixel: dict[str, Any] = Field(description="id, name, external_id, platform.")
    connection: ConnectionOut
    summary: SummaryOut
    events: list[EventQualityOut]


def _invalid(field: str, message: str) -> NinjaValidationError:
    return NinjaValidationError([{"loc": ["query", field], "msg": message, "type": "value_error"}])


def _pixel(request: ApiRequest, slug: str, pk: int) -> Any:
    brand, role = brand_with_capability(request, slug, "quality.view")
    if not 0 < pk < 2**63:
        raise Http404("No such pixel.")
    pixel = selectors.pixel_for_view(user=request.auth, brand=brand, role=role, pixel_id=pk)
    if pixel is None:
        raise Http404("No such pixel.")
    return pixel


def _check_range(params: StatsParams) -> None:
    for name in ("start", "end"):
        value = getattr(params, name)
        if value.tzinfo is None or value.utcoffset() is None:
            raise _invalid(name, f"Give {name} with a time zone offset (e.g. Z or +00:00).")
    if params.end <= params.start:
        raise _invalid("end", "end must be after start.")
    limit = MAX_HOURLY_RANGE if params.granularity == "hour" else MAX_RANGE
    if params.end - params.start > limit:
        raise _invalid(
            "end",
            f"The range may span at most {limit.days} days"
            f"{' for hourly series' if params.granularity == 'hour' else ''}.",
        )


@router.get(
    "/brands/{slug}/pixels/{pk}/stats",
    response=responses({200: StatsOut | SeriesOut}),
    url_name="quality_stats",
)
def quality_stats(request: ApiRequest, slug: str, pk: int, params: Query[StatsParams]) -> Any:
    """Counts per event over [start, end) (UTC hourly buckets by their start), or with
    ``granularity`` the series per event and bucket (ranges: at most 400 days, 31 for
    hourly series; buckets without any count are left out)."""
    pixel = _pixel(request, slug, pk)
    _check_range(params)
    connection = selectors.connection_of(pixel)
    pulled_at = connection.counts_pulled_at if connection else None
    start, end = params.start.astimezone(dt.UTC), params.end.astimezone(dt.UTC)
    if params.granularity:
        rows = selectors.stats_series(
            pixel_id=pixel.pk, start=start, end=end, granularity=params.granularity
        )
        return {
            "pulled_at": pulled_at,
            "granularity": params.granularity,
            "start": start,
            "end": end,
            "series": [row.__dict__ for row in rows],
        }
    sums = selectors.stats_sums(pixel_id=pixel.pk, start=start, end=end)
    return {
        "pulled_at": pulled_at,
        "start": start,
        "end": end,
        "events": [
            {"event": s.event, "total": s.total, "browser": s.browser, "server": s.server}
            for s in sums
        ],
    }


@router.get(
    "/brands/{slug}/pixels/{pk}/quality",
    response=responses({200: QualityOut}, errors=(401, 403, 404)),
    url_name="quality_detail",
)
def quality_detail(request: ApiRequest, slug: str, pk: int) -> Any:
    """The pixel's connection, summary figures and the latest quality of each event."""
    pixel = _pixel(request, slug, pk)
    connection = selectors.connection_of(pixel)
    return {
        "pixel": {
            "id": pixel.pk,
            "name": pixel.name,
            "external_id": pixel.external_id,
            "platform": pixel.platform,
        },
        "connection": {
            "provider": connection.provider if connection else "meta",
            "status": connection.status if connection else "unknown",
            "message": connection.message if connection else "",
            "counts_pulled_at": connection.counts_pulled_at if connection else None,
            "quality_pulled_at": connection.quality_pulled_at if connection else None,
            "retry_after": connection.retry_after if connection else None,
        },
        "summary": {
            "last_fired_at": connection.last_fired_at if connection else None,
            "events_per_day": connection.events_per_day if connection else None,
            "server_share": connection.server_share if connection else None,
            "dedup_coverage": connection.dedup_coverage if connection else None,
            "key_emq": dict(connection.key_emq or {}) if connection else {},
            "min_key_emq": connection.min_key_emq if connection else None,
            "freshness": connection.freshness if connection else "",
            "problems": [
                {"key": str(p.get("key", "")), "message": str(p.get("message", ""))}
                for p in (connection.problems or [] if connection else [])
            ],
        },
        "events": [
            {
                "event": row.event,
                "pulled_at": row.pulled_at,
                "provider": row.provider,
                "emq": row.emq,
                "event_coverage": row.event_coverage,
                "event_coverage_goal": row.event_coverage_goal,
                "dedup_coverage": row.dedup_coverage,
                "freshness": row.freshness,
                "acr": row.acr,
                "match_keys": list(row.match_keys or []),
                "diagnostics": list(row.diagnostics or []),
                "dedupe_keys": list(row.dedupe_keys or []),
            }
            for row in selectors.latest_quality(pixel)
        ],
    }
