"""Event quality of the optimization event on the launch's pixel: received lately, EMQ
and (server events) deduplication at or above the brand's thresholds.

The quality stats name an event by its Meta event (``HourlyStat.event`` and
``EventQuality.event`` hold the target of the event's Meta mapping, as
``quality.health.key_events`` reads them), so the optimization event is looked up by its
Meta mapping's target; an event without one has no stats to find.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db.models import Sum

from koastops.catalog.models import Platform
from koastops.launches.checks.registry import CheckContext, Outcome, check
from koastops.launches.checks.tracking import event_mappings
from koastops.launches.models import Severity
from koastops.quality import selectors as quality_selectors
from koastops.quality.models import EventQuality, HourlyStat, QualitySettings, Source
from koastops.taxonomy.models import EventSources

RECEIVED_WITHIN = dt.timedelta(days=7)
REFRESH = "pull its stats (“Refresh now” on the pixel's quality page)"


def _fmt(value: Decimal) -> str:
    return f"{value.normalize():f}"


def _meta_event(ctx: CheckContext) -> str | None:
    mapping = event_mappings(ctx).get(Platform.META)
    return mapping.target if mapping is not None else None


def _no_meta_mapping(ctx: CheckContext) -> Outcome:
    event = ctx.launch.optimization_event
    return Outcome.fail(
        f"The event {event.name} has no Meta mapping, so its quality stats cannot be found: "
        "ask an ops lead to map it to a Meta event in the tracking plan.",
        event=event.name,
    )


def _settings(ctx: CheckContext) -> QualitySettings:
    return ctx.memo("quality.settings", lambda: quality_selectors.settings_for(ctx.launch.brand_id))


def _latest_quality(ctx: CheckContext, target: str) -> EventQuality | None:
    pixel_id = ctx.launch.pixel_id
    return ctx.memo(
        f"quality.latest.{target}",
        lambda: (
            EventQuality.objects.filter(pixel_id=pixel_id, event=target)
            .order_by("-pulled_at")
            .first()
        ),
    )


@check(
    "quality.received",
    "The optimization event was received in the last 7 days",
    severity=Severity.BLOCKING,
    description=(
        "The pixel's stats count the optimization event's Meta event in the last 7 days "
        "(total of the hourly counts). Fix: check that the site sends the event (the "
        "tracking plan's trigger), then pull the pixel's stats again."
    ),
)
def quality_received(ctx: CheckContext) -> Outcome:
    pixel = ctx.launch.pixel
    target = _meta_event(ctx)
    if target is None:
        return _no_meta_mapping(ctx)
    since = ctx.now - RECEIVED_WITHIN
    total = HourlyStat.objects.filter(
        pixel_id=pixel.pk, event=target, source=Source.TOTAL, hour__gte=since, hour__lt=ctx.now
    ).aggregate(total=Sum("count"))["total"]
    details = {"event": target, "pixel": pixel.name, "received_7d": int(total or 0)}
    if not total:
        return Outcome.fail(
            f"The pixel {pixel.name} received no {target} events in the last 7 days: check "
            f"that the site sends {target}, then {REFRESH}.",
            **details,
        )
    return Outcome.passed(
        f"The pixel {pixel.name} received {int(total):,} {target} events in the last 7 days.",
        **details,
    )


@check(
    "quality.emq",
    "The optimization event's match quality is at or above the threshold",
    severity=Severity.BLOCKING,
    description=(
        "The latest Event Match Quality (EMQ) of the optimization event on the pixel is at "
        "or above the brand's EMQ threshold (quality settings). Fix: send more customer "
        "information with the event (email, phone, external id), then pull the stats again."
    ),
)
def quality_emq(ctx: CheckContext) -> Outcome:
    pixel = ctx.launch.pixel
    target = _meta_event(ctx)
    if target is None:
        return _no_meta_mapping(ctx)
    threshold = _settings(ctx).emq_threshold
    latest = _latest_quality(ctx, target)
    details: dict[str, Any] = {
        "event": target,
        "pixel": pixel.name,
        "threshold": _fmt(threshold),
    }
    if latest is None:
        return Outcome.fail(
            f"There is no quality report for {target} on the pixel {pixel.name} yet: {REFRESH}.",
            emq=None,
            **details,
        )
    details |= {"pulled_at": latest.pulled_at.isoformat()}
    if latest.emq is None:
        return Outcome.fail(
            f"Meta reported no match quality for {target} on the pixel {pixel.name}: send "
            f"the event with customer information, then {REFRESH}.",
            emq=None,
            **details,
        )
    details["emq"] = _fmt(latest.emq)
    if latest.emq < threshold:
        return Outcome.fail(
            f"The match quality of {target} on the pixel {pixel.name} is {_fmt(latest.emq)}, "
            f"below the brand's threshold of {_fmt(threshold)}: send more customer "
            "information with the event (email, phone, external id).",
            **details,
        )
    return Outcome.passed(
        f"The match quality of {target} is {_fmt(latest.emq)} (threshold {_fmt(threshold)}).",
        **details,
    )


@check(
    "quality.dedup",
    "Server events are deduplicated at or above the threshold",
    severity=Severity.BLOCKING,
    description=(
        "Where the optimization event is sent from the server (sources server or both), its "
        "latest deduplication coverage is at or above the brand's dedup threshold; a "
        "browser-only event passes as not applicable. Fix: send the same event_id from the "
        "browser and the server."
    ),
)
def quality_dedup(ctx: CheckContext) -> Outcome:
    event = ctx.launch.optimization_event
    pixel = ctx.launch.pixel
    details: dict[str, Any] = {"sources": event.sources, "pixel": pixel.name}
    if event.sources not in (EventSources.SERVER, EventSources.BOTH):
        return Outcome.passed(
            f"Not applicable: {event.name} is sent from the browser only.", **details
        )
    target = _meta_event(ctx)
    if target is None:
        return _no_meta_mapping(ctx)
    threshold = _settings(ctx).dedup_threshold
    details |= {"event": target, "threshold": _fmt(threshold)}
    latest = _latest_quality(ctx, target)
    if latest is None:
        return Outcome.fail(
            f"There is no quality report for {target} on the pixel {pixel.name} yet: {REFRESH}.",
            dedup_coverage=None,
            **details,
        )
    details["pulled_at"] = latest.pulled_at.isoformat()
    if latest.dedup_coverage is None:
        return Outcome.fail(
            f"Meta reported no deduplication coverage for {target} on the pixel "
            f"{pixel.name}: send the same event_id from the browser and the server, then "
            f"{REFRESH}.",
            dedup_coverage=None,
            **details,
        )
    details["dedup_coverage"] = _fmt(latest.dedup_coverage)
    if latest.dedup_coverage < threshold:
        return Outcome.fail(
            f"Only {_fmt(latest.dedup_coverage)}% of {target} events on the pixel "
            f"{pixel.name} are deduplicated, below the brand's threshold of "
            f"{_fmt(threshold)}%: send the same event_id from the browser and the server.",
            **details,
        )
    return Outcome.passed(
        f"{_fmt(latest.dedup_coverage)}% of {target} events are deduplicated "
        f"(threshold {_fmt(threshold)}%).",
        **details,
    )
