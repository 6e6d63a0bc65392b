"""What each kind of alert rule says about its subjects: pure reads of the stats, the
quality snapshots, the connections and (for discrepancies) the crm part's reconciliation,
one ``Finding`` per subject. ``koastops.quality.alerting`` opens, keeps and resolves the
alerts these call for (the package's docstring has the whole picture).
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import F, OuterRef, Q, Subquery, Sum
from django.utils import timezone

from koastops.catalog.models import Brand, Pixel
from koastops.quality.models import (
    AlertKind,
    AlertRule,
    ConnectionStatus,
    EventQuality,
    HourlyStat,
    PixelConnection,
    Provider,
    Source,
)
from koastops.quality.selectors import settings_for

logger = logging.getLogger(__name__)

DISCREPANCY_WINDOW_DAYS = 7


@dataclass(frozen=True)
class Finding:
    """A rule's verdict on one subject: ``failing`` opens (or keeps) an alert."""

    subject_key: str
    failing: bool
    message: str = ""
    pixel_id: int | None = None
    event: str = ""
    value: Decimal | None = None
    threshold: Decimal | None = None


# --- scope --------------------------------------------------------------------------------


def _rule_pixels(rule: AlertRule, only_pixel_id: int | None) -> list[Pixel]:
    pixels = Pixel.objects.filter(brand_id=rule.brand_id, status="active")
    if rule.pixel_id is not None:
        pixels = pixels.filter(pk=rule.pixel_id)
    if only_pixel_id is not None:
        pixels = pixels.filter(pk=only_pixel_id)
    return list(pixels.order_by("pk"))


def _rule_events(rule: AlertRule, events: list[str]) -> list[str]:
    return [rule.event] if rule.event else events


def _demo(provider: str) -> str:
    """Numbers from the demo provider say so wherever they show."""
    return " (demo data)" if provider == Provider.DEMO else ""


def _pct(value: Decimal | float) -> Decimal:
    return Decimal(value).quantize(Decimal("0.01"))


# --- the rules ------------------------------------------------------------------------------


def _connections(pixels: Sequence[Pixel]) -> dict[int, PixelConnection]:
    return {c.pixel_id: c for c in PixelConnection.objects.filter(pixel__in=pixels)}


def _silent(rule: AlertRule, pixels: Sequence[Pixel], now: datetime) -> Iterable[Finding]:
    threshold = rule.threshold or Decimal("24")
    connections = _connections(pixels)
    for pixel in pixels:
        connection = connections.get(pixel.pk)
        if connection is None or connection.counts_pulled_at is None:
            continue  # never pulled: nothing known, nothing said
        fired = connection.last_fired_at
        hours = None if fired is None else Decimal((now - fired).total_seconds() / 3600)
        failing = hours is None or hours >= threshold
        if fired is None:
            message = f"Pixel {pixel.name} has not fired since its stats are pulled."
            message += _demo(connection.provider)
        else:
            message = (
                f"Pixel {pixel.name} has not fired for {int(hours or 0)} hours "
                f"(alert at {threshold.normalize():f} h; last fired {fired:%Y-%m-%d %H:%M} UTC)."
            )
        if fired is not None:
            message += _demo(connection.provider)
        yield Finding(
            subject_key=f"pixel:{pixel.pk}",
            failing=failing,
            message=message,
            pixel_id=pixel.pk,
            value=None if hours is None else _pct(hours),
            threshold=threshold,
        )


def _connection_broken(rule: AlertRule, pixels: Sequence[Pixel]) -> Iterable[Finding]:
    connections = _connections(pixels)
    for pixel in pixels:
        connection = connections.get(pixel.pk)
        if connection is None:
            continue
        broken = connection.status == ConnectionStatus.BROKEN
        detail = f": {connection.message}" if connection.message else "."
        yield Finding(
            subject_key=f"pixel:{pixel.pk}",
            failing=broken,
            message=f"The connection of pixel {pixel.name} is broken{detail}"
            + _demo(connection.provider),
            pixel_id=pixel.pk,
        )


def _volume_drop(
    rule: AlertRule, pixels: Sequence[Pixel], events: list[str], now: datetime
) -> Iterable[Finding]:
    """An event's total of the last 24 hours against its daily average of the 7 days
    before them, both from the hourly counts, ending at the hour the counts were pulled
    through (so a pull that has not caught up yet does not look like a drop)."""
    threshold = rule.threshold or Decimal("50")
    names = _rule_events(rule, events)
    if not names:
        return
    connections = _connections(pixels)
    # Pixels pulled through the same hour (after the hourly pulls: nearly all) share one
    # grouped query: one query per distinct end hour, not one per pixel.
    by_end: dict[datetime, list[Pixel]] = {}
    for pixel in pixels:
        connection = connections.get(pixel.pk)
        if connection is None or connection.counts_through is None:
            continue
        end = min(connection.counts_through, now).replace(minute=0, second=0, microsecond=0)
        by_end.setdefault(end, []).append(pixel)
    sums: dict[tuple[int, str], tuple[int, int]] = {}
    for end, group in by_end.items():
        recent_start, base_start = end - timedelta(hours=24), end - timedelta(days=8)
        rows = (
            HourlyStat.objects.filter(
                pixel__in=[pixel.pk for pixel in group],
                source=Source.TOTAL,
                event__in=names,
                hour__gte=base_start,
                hour__lt=end,
            )
            .values("pixel_id", "event")
            .annotate(
                recent=Sum("count", filter=Q(hour__gte=recent_start)),
                base=Sum("count", filter=Q(hour__lt=recent_start)),
            )
            .order_by()
        )
        for row in rows:
            sums[(row["pixel_id"], row["event"])] = (row["recent"] or 0, row["base"] or 0)
    for pixel in (pixel for group in by_end.values() for pixel in group):
        for name in names:
            recent, base = sums.get((pixel.pk, name), (0, 0))
            average = Decimal(base) / 7
            subject = f"pixel:{pixel.pk}:{name}"
            if average <= 0:
                yield Finding(subject_key=subject, failing=False, pixel_id=pixel.pk, event=name)
                continue
            share = _capped(Decimal(recent) * 100 / average)
            yield Finding(
                subject_key=subject,
                failing=share < threshold,
                message=(
                    f"{name} on pixel {pixel.name}: {recent:,} in the last 24 hours, "
                    f"{share}% of its 7-day daily average ({average:,.0f}; alert below "
                    f"{threshold.normalize():f}%)." + _demo(connections[pixel.pk].provider)
                ),
                pixel_id=pixel.pk,
                event=name,
                value=share,
                threshold=threshold,
            )


def _latest_quality(pixels: Sequence[Pixel], names: list[str]) -> dict[tuple[int, str], Any]:
    latest = (
        EventQuality.objects.filter(pixel=OuterRef("pixel"), event=OuterRef("event"))
        .order_by("-pulled_at")
        .values("pulled_at")[:1]
    )
    rows = (
        EventQuality.objects.filter(pixel__in=pixels, event__in=names)
        .annotate(latest=Subquery(latest))
        .filter(pulled_at=F("latest"))
        .values("pixel_id", "event", "emq", "dedup_coverage", "pulled_at", "provider")
    )
    return {(row["pixel_id"], row["event"]): row for row in rows}


def _quality_below(
    rule: AlertRule, pixels: Sequence[Pixel], events: list[str], *, field_name: str
) -> Iterable[Finding]:
    names = _rule_events(rule, events)
    if not names:
        return
    threshold = rule.threshold
    if threshold is None:  # the brand's threshold for that figure
        brand = settings_for(rule.brand_id)
        threshold = brand.emq_threshold if field_name == "emq" else brand.dedup_threshold
    latest = _latest_quality(pixels, names)
    label = "Event Match Quality" if field_name == "emq" else "Dedup coverage"
    unit = "" if field_name == "emq" else "%"
    for pixel in pixels:
        for name in names:
            subject = f"pixel:{pixel.pk}:{name}"
            row = latest.get((pixel.pk, name))
            value = None if row is None else row[field_name]
            if row is None or value is None:
                yield Finding(subject_key=subject, failing=False, pixel_id=pixel.pk, event=name)
                continue
            yield Finding(
                subject_key=subject,
                failing=value < threshold,
                message=(
                    f"{label} of {name} on pixel {pixel.name} is {value.normalize():f}{unit} "
                    f"(alert below {threshold.normalize():f}{unit}; pulled "
                    f"{row['pulled_at']:%Y-%m-%d %H:%M} UTC)." + _demo(row["provider"])
                ),
                pixel_id=pixel.pk,
                event=name,
                value=value,
                threshold=threshold,
            )


def _discrepancy(
    rule: AlertRule, brand: Brand, pixels: Sequence[Pixel], events: list[str], today: date
) -> Iterable[Finding]:
    """Flagged reconciliation rows of the last 7 complete days, per event (the crm part's
    ``reconcile``; imported here, when used, so this module stands without it)."""
    try:
        # By name: the crm part's module, absent from this part's branch.
        reconcile = importlib.import_module("koastops.quality.reconciliation").reconcile
    except (ImportError, AttributeError):
        logger.warning("Discrepancy rule %s skipped: reconciliation is not installed.", rule.pk)
        return
    start = today - timedelta(days=DISCREPANCY_WINDOW_DAYS)
    end = today - timedelta(days=1)
    rows = reconcile(brand, ad_account=None, start=start, end=end, pixels=list(pixels))
    # Reconciliation rows name tracking-plan events (what the CRM reports), a rule may name
    # the plan event or the Meta event it maps to: either matches.
    wanted = _plan_and_meta_names(brand.pk, rule.event) if rule.event else None
    tolerance = settings_for(brand).tolerance_pct
    by_event: dict[str, list[Any]] = {}
    for row in rows:
        if wanted is None or row.event in wanted:
            by_event.setdefault(str(row.event), []).append(row)
    for name in sorted(by_event):
        flagged = [row for row in by_event[name] if row.flagged]
        subject = f"event:{name}"
        if not flagged:
            yield Finding(subject_key=subject, failing=False, event=name)
            continue
        worst = max(flagged, key=lambda row: abs(_decimal(row.pct)))
        days = ", ".join(f"{row.day:%m-%d}" for row in sorted(flagged, key=lambda r: r.day))
        causes = "; ".join(str(cause) for cause in (worst.causes or [])[:3])
        gap = (
            "no CRM conversions"
            if worst.pct is None
            else f"{_decimal(worst.pct).quantize(Decimal('0.1'))}%"
        )
        yield Finding(
            subject_key=subject,
            failing=True,
            message=(
                f"{name}: platform and CRM differ beyond ±{tolerance.normalize():f}% on "
                f"{len(flagged)} of the last {DISCREPANCY_WINDOW_DAYS} days ({days}); worst "
                f"{worst.day:%Y-%m-%d}: platform {worst.platform}, CRM {worst.crm} ({gap})."
                + (f" Likely: {causes}." if causes else "")
            ),
            event=name,
            value=None if worst.pct is None else _capped(_decimal(worst.pct)),
            threshold=tolerance,
        )


def _decimal(value: Any) -> Decimal:
    try:
        number = Decimal(str(value if value is not None else 0))
    except ArithmeticError:
        return Decimal(0)
    return number if number.is_finite() else Decimal(0)


def _capped(value: Decimal) -> Decimal:
    """Fits ``Alert.value`` (14 digits, 2 decimals) whatever the ratio."""
    limit = Decimal("999999999999")
    return _pct(max(-limit, min(limit, value)))


def plan_event_names(brand_id: int) -> list[str]:
    from koastops.taxonomy.models import EventDefinition

    return list(
        EventDefinition.objects.filter(brand_id=brand_id, status="active").values_list(
            "name", flat=True
        )
    )


def _plan_and_meta_names(brand_id: int, event: str) -> set[str]:
    """``event`` and the names on the other side of its mapping (plan <-> Meta)."""
    from koastops.taxonomy.models import EventMapping

    mappings = EventMapping.objects.filter(
        brand_id=brand_id, platform="meta", event__status="active"
    ).filter(Q(target=event) | Q(event__name=event))
    names = {event}
    for plan_name, target in mappings.values_list("event__name", "target"):
        names.update((plan_name, target))
    return names


def findings_for(
    rule: AlertRule,
    *,
    brand: Brand,
    events: list[str],
    now: datetime,
    only_pixel_id: int | None = None,
) -> list[Finding]:
    """What ``rule`` says about each of its subjects now."""
    pixels = _rule_pixels(rule, only_pixel_id)
    kind = rule.kind
    if kind == AlertKind.SILENT:
        return list(_silent(rule, pixels, now))
    if kind == AlertKind.CONNECTION_BROKEN:
        return list(_connection_broken(rule, pixels))
    if kind == AlertKind.VOLUME_DROP:
        return list(_volume_drop(rule, pixels, events, now))
    if kind == AlertKind.EMQ_BELOW:
        return list(_quality_below(rule, pixels, events, field_name="emq"))
    if kind == AlertKind.DEDUP_BELOW:
        return list(_quality_below(rule, pixels, events, field_name="dedup_coverage"))
    if kind == AlertKind.DISCREPANCY:
        if only_pixel_id is not None:
            return []  # brand-wide: beat evaluates it
        return list(_discrepancy(rule, brand, pixels, events, timezone.localdate(now)))
    return []
