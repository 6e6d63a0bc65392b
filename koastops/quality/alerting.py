"""Alert evaluation: each enabled rule of a brand, on each subject it covers, opens an
alert when its condition holds, keeps it (last seen, value) while it holds, and resolves
it when it clears.

- Subjects: a pixel (``pixel:<id>``: silent, connection broken), a pixel's event
  (``pixel:<id>:<event>``: volume drop, EMQ, dedup coverage) or an event of the brand
  (``event:<event>``: discrepancy against the CRM). A rule without a pixel covers every
  active pixel of the brand; one without an event covers every key event (the Meta
  targets of the brand's active tracking-plan events).
- An alert is open at most once per (rule, subject): a partial unique index. Two
  evaluations at once both try the insert; the loser's savepoint rolls back on the
  ``IntegrityError`` and it updates the winner's row instead, so one alert, one activity
  row, one notification.
- Opening writes ``alert.opened`` (actor: system) in the same transaction; after commit
  the brand's ops leads and analysts are notified (in-app always, email when the rule
  says so) and the rule's webhook gets a message from a task. Resolving writes
  ``alert.resolved`` and sends a "resolved" webhook message.

Called by the pulls after each pull (``evaluate_after_pull``) and by beat every 15
minutes for every brand with enabled rules (``evaluate_brand``).
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, OuterRef, Q, Subquery, Sum
from django.urls import reverse
from django.utils import timezone

from koastops.activity.services import activity_record
from koastops.catalog.models import Brand, Pixel
from koastops.quality.models import (
    Alert,
    AlertKind,
    AlertRule,
    AlertStatus,
    ConnectionStatus,
    EventQuality,
    HourlyStat,
    PixelConnection,
    Provider,
    QualitySettings,
    Source,
)

logger = logging.getLogger(__name__)

DISCREPANCY_WINDOW_DAYS = 7
NOTIFY_CAPABILITY = "quality.refresh"  # ops leads and analysts: the ones who act on alerts


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


@dataclass
class EvaluationResult:
    rules: int = 0
    opened: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    resolved: list[int] = field(default_factory=list)


# --- scope --------------------------------------------------------------------------------


def key_events(brand_id: int) -> list[str]:
    """The Meta event names of the brand's active tracking-plan events."""
    from koastops.taxonomy.models import EventMapping

    return sorted(
        set(
            EventMapping.objects.filter(
                brand_id=brand_id, platform="meta", event__status="active"
            ).values_list("target", flat=True)
        )
    )


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
    default = Decimal("6") if field_name == "emq" else Decimal("75")
    threshold = rule.threshold if rule.threshold is not None else default
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
    tolerance = (
        QualitySettings.objects.filter(brand=brand).values_list("tolerance_pct", flat=True).first()
    )
    tolerance = tolerance if tolerance is not None else Decimal("10")
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


# --- opening, keeping, resolving ---------------------------------------------------------------


def _alert_url(brand: Brand) -> str:
    return reverse("quality:alerts", kwargs={"slug": brand.slug})


def _after_open(alert_id: int) -> None:
    from koastops.quality import tasks_alerts

    tasks_alerts.alert_notify.delay_on_commit(alert_id)


def _after_resolve(alert_id: int, rule: AlertRule | None) -> None:
    if rule is not None and rule.webhook_url:
        from koastops.quality import tasks_alerts

        tasks_alerts.alert_webhook.delay_on_commit(alert_id, "resolved")


def _open(rule: AlertRule, brand: Brand, finding: Finding, now: datetime) -> Alert | None:
    """Open the alert; None when another evaluation opened it first (then the caller
    updates that one)."""
    alert = Alert(
        brand=brand,
        rule=rule,
        kind=rule.kind,
        pixel_id=finding.pixel_id,
        event=finding.event,
        subject_key=finding.subject_key,
        message=finding.message,
        value=finding.value,
        threshold=finding.threshold,
        opened_at=now,
        last_seen_at=now,
    )
    try:
        with transaction.atomic():
            alert.save()
            activity_record(
                verb="alert.opened",
                actor=None,
                target=alert,
                brand=brand,
                target_label=f"alert {rule.get_kind_display().lower()}",
                after={
                    "rule": rule.pk,
                    "subject": finding.subject_key,
                    "value": None if finding.value is None else str(finding.value),
                    "threshold": None if finding.threshold is None else str(finding.threshold),
                },
            )
    except IntegrityError:
        return None
    _after_open(alert.pk)
    return alert


def _resolve(alert: Alert, brand: Brand, rule: AlertRule | None, now: datetime, why: str) -> bool:
    changed = Alert.objects.filter(pk=alert.pk, status=AlertStatus.OPEN).update(
        status=AlertStatus.RESOLVED, resolved_at=now, last_seen_at=now
    )
    if not changed:
        return False  # another evaluation resolved it
    activity_record(
        verb="alert.resolved",
        actor=None,
        target=alert,
        brand=brand,
        target_label=f"alert {alert.get_kind_display().lower()}",
        before={"status": "open"},
        after={"status": "resolved", "subject": alert.subject_key, "why": why},
    )
    _after_resolve(alert.pk, rule)
    return True


def resolve_alert(alert: Alert, *, brand: Brand, now: datetime, why: str) -> bool:
    """Resolve an open alert (compare-and-set on its status; False when already resolved),
    with its activity row; the caller holds the transaction."""
    return _resolve(alert, brand, None, now, why)


@transaction.atomic
def apply_findings(
    rule: AlertRule,
    findings: Sequence[Finding],
    *,
    brand: Brand,
    now: datetime,
    only_pixel_id: int | None = None,
    result: EvaluationResult | None = None,
) -> EvaluationResult:
    """Open, keep or resolve the rule's alerts after ``findings``. Every open alert of the
    rule within the evaluated scope whose subject is no longer failing (cleared, or out
    of the rule's scope now) resolves."""
    result = result or EvaluationResult()
    open_alerts = Alert.objects.filter(rule=rule, status=AlertStatus.OPEN)
    if only_pixel_id is not None:
        open_alerts = open_alerts.filter(pixel_id=only_pixel_id)
    by_subject = {alert.subject_key: alert for alert in open_alerts}
    failing = {finding.subject_key: finding for finding in findings if finding.failing}
    for subject, finding in failing.items():
        alert = by_subject.get(subject)
        if alert is None:
            alert = _open(rule, brand, finding, now)
            if alert is not None:
                result.opened.append(alert.pk)
                continue
            alert = Alert.objects.filter(
                rule=rule, subject_key=subject, status=AlertStatus.OPEN
            ).first()
            if alert is None:
                continue
        Alert.objects.filter(pk=alert.pk, status=AlertStatus.OPEN).update(
            last_seen_at=now, value=finding.value, message=finding.message
        )
        result.updated.append(alert.pk)
    for subject, alert in by_subject.items():
        if subject not in failing and _resolve(alert, brand, rule, now, "condition cleared"):
            result.resolved.append(alert.pk)
    return result


def evaluate_rule(
    rule: AlertRule,
    *,
    now: datetime | None = None,
    only_pixel_id: int | None = None,
    events: list[str] | None = None,
    result: EvaluationResult | None = None,
) -> EvaluationResult:
    now = now or timezone.now()
    brand = rule.brand
    events = key_events(brand.pk) if events is None else events
    findings = findings_for(rule, brand=brand, events=events, now=now, only_pixel_id=only_pixel_id)
    if rule.kind == AlertKind.DISCREPANCY and only_pixel_id is not None:
        return result or EvaluationResult()
    return apply_findings(
        rule, findings, brand=brand, now=now, only_pixel_id=only_pixel_id, result=result
    )


def evaluate_brand(brand_id: int, *, now: datetime | None = None) -> EvaluationResult:
    """Evaluate every enabled rule of the brand; open alerts of disabled rules resolve."""
    now = now or timezone.now()
    result = EvaluationResult()
    brand = Brand.objects.filter(pk=brand_id).first()
    if brand is None:
        return result
    events = key_events(brand_id)
    for rule in AlertRule.objects.filter(brand=brand, enabled=True).select_related("brand"):
        try:
            evaluate_rule(rule, now=now, events=events, result=result)
        except Exception:  # one broken rule must not stop the others
            logger.exception("Alert rule %s failed to evaluate.", rule.pk)
        result.rules += 1
    resolve_disabled(brand, now=now, result=result)
    return result


def resolve_disabled(
    brand: Brand, *, now: datetime, result: EvaluationResult | None = None
) -> EvaluationResult:
    result = result or EvaluationResult()
    stale = Alert.objects.filter(brand=brand, status=AlertStatus.OPEN).filter(
        Q(rule__isnull=True) | Q(rule__enabled=False)
    )
    for alert in stale.select_related("rule"):
        with transaction.atomic():
            if _resolve(alert, brand, None, now, "rule disabled or deleted"):
                result.resolved.append(alert.pk)
    return result


def evaluate_after_pull(pixel_id: int) -> None:
    """After a pull of ``pixel_id`` (success or failure): evaluate the brand's enabled
    rules that cover this pixel, for this pixel only (discrepancy rules are brand-wide and
    left to the 15-minute beat). Never raises: a pull must not fail because of an alert."""
    try:
        pixel = Pixel.objects.select_related("brand").filter(pk=pixel_id).first()
        if pixel is None:
            return
        now = timezone.now()
        events = key_events(pixel.brand_id)
        rules = AlertRule.objects.filter(brand_id=pixel.brand_id, enabled=True).filter(
            Q(pixel__isnull=True) | Q(pixel_id=pixel_id)
        )
        for rule in rules.exclude(kind=AlertKind.DISCREPANCY).select_related("brand"):
            evaluate_rule(rule, now=now, only_pixel_id=pixel_id, events=events)
    except Exception:
        logger.exception("Alert evaluation after the pull of pixel %s failed.", pixel_id)


def brands_with_rules() -> list[int]:
    return list(
        AlertRule.objects.filter(enabled=True).values_list("brand_id", flat=True).distinct()
    ) + list(
        Alert.objects.filter(status=AlertStatus.OPEN, rule__enabled=False)
        .values_list("brand_id", flat=True)
        .distinct()
    )


# --- notifying ---------------------------------------------------------------------------------


def notify_opened(alert_id: int) -> int:
    """Notify the brand's ops leads and analysts of an opened alert (in-app; email when the
    rule says so); idempotent by the alert (``notify`` keys on it). How many notified."""
    from koastops.accounts import policies
    from koastops.notifications.services import notify

    alert = Alert.objects.select_related("brand", "rule").filter(pk=alert_id).first()
    if alert is None or alert.status != AlertStatus.OPEN:
        return 0
    rule = alert.rule
    created = notify(
        users=policies.holders_of(alert.brand_id, NOTIFY_CAPABILITY),
        brand=alert.brand,
        kind="quality.alert",
        key=f"quality.alert:{alert.pk}",
        title=f"Alert on {alert.brand.name}: {alert.get_kind_display()}",
        body=alert.message,
        url=_alert_url(alert.brand),
        email=bool(rule and rule.notify_email),
    )
    Alert.objects.filter(pk=alert.pk, notified_at__isnull=True).update(notified_at=timezone.now())
    if rule is not None and rule.webhook_url:
        from koastops.quality import tasks_alerts

        tasks_alerts.alert_webhook.delay(alert.pk, "opened")
    return len(created)


def webhook_text(alert: Alert, event: str) -> str:
    from django.conf import settings

    link = settings.SITE_URL.rstrip("/") + _alert_url(alert.brand)
    if event == "resolved":
        return f"Resolved on {alert.brand.name}: {alert.message} {link}"
    return f"Alert on {alert.brand.name} ({alert.get_kind_display()}): {alert.message} {link}"
