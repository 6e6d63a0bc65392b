"""Reconciliation: what the platform reports against what the CRM recorded, per tracking
plan event and day in the ad account's time zone, with the likely causes of large gaps.

Definitions (docs/quality.md, "CRM conversions and reconciliation"):

- **platform**: the sum of ``HourlyStat`` rows with ``source=total`` for the Meta event
  the plan event maps to (``EventMapping(platform=meta).target``), over the pixels linked
  to the ad account (and visible to the reader), bucketed by the local day of the UTC
  hour (``AT TIME ZONE`` on PostgreSQL).
- **crm**: ``Conversion`` rows of the brand for the plan event attributed to that ad
  account or to no account, by the local day of ``occurred_at``.
- **diff** = crm - platform; **pct** = diff / platform * 100 (None when the platform
  counted nothing); **flagged** when |pct| > the brand's tolerance band
  (``QualitySettings.tolerance_pct``, 10 % by default), or when the platform counted
  nothing while the CRM did.

Constant queries whatever the number of pixels, events and days (about nine).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import ExtractHour, TruncDate

from koastops.catalog.models import AdAccount, Brand, Pixel
from koastops.quality.models import Conversion, EventQuality, HourlyStat

# Local hours "near midnight": conversions there land on the neighbouring day in a
# system that buckets by another time zone (the platform's UTC hours, a CRM in UTC).
EDGE_HOURS = (0, 1, 22, 23)
MAX_DAYS = 366


@dataclass
class ReconRow:
    event: str
    day: dt.date
    platform: int
    crm: int
    diff: int
    pct: Decimal | None
    flagged: bool
    causes: list[str] = field(default_factory=list)


@dataclass
class _EventInfo:
    name: str
    target: str
    server_expected: bool  # the plan says server events (or a pixel has CAPI)


def time_zone_of(ad_account: AdAccount | None) -> ZoneInfo:
    try:
        return ZoneInfo(ad_account.time_zone) if ad_account else ZoneInfo("UTC")
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def utc_bounds(start: dt.date, end: dt.date, zone: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """[local midnight of ``start``, local midnight after ``end``) as aware datetimes."""
    lower = dt.datetime.combine(start, dt.time(0), tzinfo=zone)
    upper = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
    return lower.astimezone(dt.UTC), upper.astimezone(dt.UTC)


def _percent(diff: int, platform: int) -> Decimal | None:
    if not platform:
        return None
    return (Decimal(diff) * 100 / Decimal(platform)).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_UP
    )


def reconcile(
    brand: Brand,
    *,
    ad_account: AdAccount | None,
    start: dt.date,
    end: dt.date,
    pixels: QuerySet[Pixel],
) -> list[ReconRow]:
    """One row per mapped plan event and local day from ``start`` to ``end`` (inclusive),
    ordered by event then day. ``pixels``: the pixels the reader may see (the alerts'
    caller passes all the brand's); only those linked to ``ad_account`` count."""
    if end < start:
        return []
    end = min(end, start + dt.timedelta(days=MAX_DAYS - 1))
    zone = time_zone_of(ad_account)
    lower, upper = utc_bounds(start, end, zone)
    from koastops.quality.selectors import settings_for

    thresholds = settings_for(brand)
    tolerance, dedup_threshold = thresholds.tolerance_pct, thresholds.dedup_threshold

    if ad_account is not None:
        pixels = pixels.filter(ad_accounts=ad_account)
    pixel_rows = list(
        pixels.filter(platform="meta").values_list(
            "pk", "external_id", "capi_enabled", "connection__counts_through"
        )
    )
    pixel_ids = [row[0] for row in pixel_rows]
    any_capi = any(row[2] for row in pixel_rows)
    throughs = [row[3] for row in pixel_rows if row[3] is not None]
    counts_through = min(throughs) if throughs else None

    events = _events(brand, any_capi)
    if not events:
        return []
    targets = {info.target for info in events}

    # platform counts: total and server, per Meta event and local day (one query)
    platform: dict[tuple[str, dt.date], int] = defaultdict(int)
    server: dict[tuple[str, dt.date], int] = defaultdict(int)
    seen_sources: set[str] = set()
    if pixel_ids:
        stats = (
            HourlyStat.objects.filter(
                pixel_id__in=pixel_ids,
                event__in=targets,
                source__in=["total", "server"],
                hour__gte=lower,
                hour__lt=upper,
            )
            .annotate(day=TruncDate("hour", tzinfo=zone))
            .values("event", "source", "day")
            .annotate(n=Sum("count"))
        )
        for row in stats:
            key = (row["event"], row["day"])
            if row["source"] == "total":
                platform[key] += row["n"] or 0
            else:
                server[key] += row["n"] or 0
                seen_sources.add(row["event"])

    # CRM counts, near-midnight and after-the-last-pulled-hour shares (one query)
    crm_filter = Q(ad_account__isnull=True)
    if ad_account is not None:
        crm_filter |= Q(ad_account=ad_account)
    late = Q(occurred_at__gte=counts_through) if counts_through else Q(pk__in=[])
    crm_rows = (
        Conversion.objects.filter(
            crm_filter,
            brand=brand,
            event__in=[info.name for info in events],
            occurred_at__gte=lower,
            occurred_at__lt=upper,
        )
        .annotate(
            day=TruncDate("occurred_at", tzinfo=zone),
            local_hour=ExtractHour("occurred_at", tzinfo=zone),
        )
        .values("event", "day")
        .annotate(
            n=Count("pk"),
            edge=Count("pk", filter=Q(local_hour__in=EDGE_HOURS)),
            late=Count("pk", filter=late),
        )
    )
    crm: dict[tuple[str, dt.date], tuple[int, int, int]] = {
        (row["event"], row["day"]): (row["n"], row["edge"], row["late"]) for row in crm_rows
    }

    dedup = _latest_dedup(pixel_ids, targets)
    gated = _consent_gating(brand, ad_account, pixel_rows, events)
    offset_hours = _offset_hours(zone, lower)

    rows: list[ReconRow] = []
    days = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
    for info in events:
        for day in days:
            p = platform.get((info.target, day), 0)
            c, edge, late_count = crm.get((info.name, day), (0, 0, 0))
            diff = c - p
            pct = _percent(diff, p)
            flagged = (abs(pct) > tolerance) if pct is not None else c > 0
            causes: list[str] = []
            if flagged:
                causes = _causes(
                    info,
                    day=day,
                    diff=diff,
                    server_count=server.get((info.target, day), 0),
                    edge=edge,
                    late=late_count,
                    dedup=dedup.get(info.target),
                    dedup_threshold=dedup_threshold,
                    gated=gated.get(info.name, []),
                    offset_hours=offset_hours,
                    zone=zone,
                    counts_through=counts_through,
                )
            rows.append(ReconRow(info.name, day, p, c, diff, pct, flagged, causes))
    return rows


def _events(brand: Brand, any_capi: bool) -> list[_EventInfo]:
    from koastops.taxonomy.models import EventMapping, EventStatus

    mappings = (
        EventMapping.objects.filter(
            brand=brand,
            platform="meta",
            event__status__in=[EventStatus.ACTIVE, EventStatus.DEPRECATED],
        )
        .order_by("event__name")
        .values_list("event__name", "target", "event__sources")
    )
    return [
        _EventInfo(name, target, any_capi or sources in ("server", "both"))
        for name, target, sources in mappings
    ]


def _latest_dedup(pixel_ids: list[int], targets: Iterable[str]) -> dict[str, Decimal]:
    """The lowest of the pixels' latest dedup coverage per Meta event (one query)."""
    if not pixel_ids:
        return {}
    queryset = EventQuality.objects.filter(pixel_id__in=pixel_ids, event__in=list(targets))
    latest: dict[tuple[int, str], Any] = {}
    if connection.vendor == "postgresql":
        rows = (
            queryset.order_by("pixel_id", "event", "-pulled_at")
            .distinct("pixel_id", "event")
            .values_list("pixel_id", "event", "dedup_coverage")
        )
        latest = {(p, e): d for p, e, d in rows}
    else:
        for p, e, d in queryset.order_by("pixel_id", "event", "-pulled_at").values_list(
            "pixel_id", "event", "dedup_coverage"
        ):
            latest.setdefault((p, e), d)
    lowest: dict[str, Decimal] = {}
    for (_, event), coverage in latest.items():
        if coverage is not None and (event not in lowest or coverage < lowest[event]):
            lowest[event] = coverage
    return lowest


def _consent_gating(
    brand: Brand,
    ad_account: AdAccount | None,
    pixel_rows: list[tuple[Any, ...]],
    events: list[_EventInfo],
) -> dict[str, list[str]]:
    """Plan event name → the markets (codes) of the account whose consent config gates the
    event or one of the account's pixels behind a consent category (two queries; read
    only)."""
    if ad_account is None:
        return {}
    from koastops.consent.models import ConsentConfig

    markets = ad_account.markets.values("pk")
    configs = ConsentConfig.objects.filter(brand=brand, market__in=markets).values_list(
        "market__code", "content"
    )
    pixel_external = {row[1] for row in pixel_rows}
    gated: dict[str, list[str]] = defaultdict(list)
    for code, content in configs:
        content = content or {}
        pixels_gated = any(
            item.get("id") in pixel_external and item.get("category", "none") != "none"
            for item in content.get("pixels") or []
        )
        event_gates = {
            item.get("name")
            for item in content.get("events") or []
            if item.get("category", "none") != "none"
        }
        for info in events:
            if pixels_gated or info.name in event_gates or info.target in event_gates:
                gated[info.name].append(code)
    return dict(gated)


def _offset_hours(zone: ZoneInfo, moment: dt.datetime) -> float:
    offset = moment.astimezone(zone).utcoffset()
    return offset.total_seconds() / 3600 if offset else 0.0


def _causes(
    info: _EventInfo,
    *,
    day: dt.date,
    diff: int,
    server_count: int,
    edge: int,
    late: int,
    dedup: Decimal | None,
    dedup_threshold: Decimal,
    gated: list[str],
    offset_hours: float,
    zone: ZoneInfo,
    counts_through: dt.datetime | None,
) -> list[str]:
    causes = []
    gap = abs(diff)
    if info.server_expected and server_count == 0 and diff > 0:
        causes.append(
            "Server events missing: the platform received no server (Conversions API) "
            f"{info.target} events that day, though the plan or the pixel expects them."
        )
    if dedup is not None and dedup < dedup_threshold:
        causes.append(
            f"Dedup coverage low: {dedup}% of {info.target} events carry an event_id "
            f"(threshold {dedup_threshold}%), so browser and server events may be counted "
            "twice or dropped."
        )
    if gated:
        causes.append(
            "Consent gating: the consent config of "
            + ", ".join(sorted(gated))
            + " holds the pixel or the event until the visitor consents; the CRM records "
            "conversions without consent."
        )
    if edge and gap and edge * 2 >= gap:
        where = f"UTC{offset_hours:+g}" if offset_hours else "UTC"
        causes.append(
            f"Time-zone difference: {edge} of the CRM conversions fall within two hours of "
            f"midnight ({zone.key}, {where}); a system that counts days in another zone "
            "moves them to the neighbouring day."
        )
    if late and diff > 0 and late * 2 >= gap:
        through = f"{counts_through:%Y-%m-%d %H:00} UTC" if counts_through else "the last pull"
        causes.append(
            f"Attribution window: {late} CRM conversions happened after the platform's "
            f"last pulled hour ({through}); the platform may still report them."
        )
    return causes


def summary(rows: Iterable[ReconRow]) -> dict[str, Any]:
    """Totals for the page header: platform, CRM, diff, percent, flagged days."""
    rows = list(rows)
    p = sum(r.platform for r in rows)
    c = sum(r.crm for r in rows)
    return {
        "platform": p,
        "crm": c,
        "diff": c - p,
        "pct": _percent(c - p, p),
        "flagged": sum(1 for r in rows if r.flagged),
    }


def counts_by_day(rows: Iterable[ReconRow]) -> list[tuple[dt.date, int, int]]:
    """(day, platform, crm) summed over the events, for the chart."""
    by_day: dict[dt.date, list[int]] = {}
    for r in rows:
        pair = by_day.setdefault(r.day, [0, 0])
        pair[0] += r.platform
        pair[1] += r.crm
    return [(day, p, c) for day, (p, c) in sorted(by_day.items())]


__all__ = ["ReconRow", "counts_by_day", "reconcile", "summary", "time_zone_of", "utc_bounds"]
