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

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from koastops.activity.services import activity_record
from koastops.catalog.models import Brand, Pixel
from koastops.quality.alerting.findings import (
    DISCREPANCY_WINDOW_DAYS,
    Finding,
    findings_for,
    plan_event_names,
)
from koastops.quality.health import key_events
from koastops.quality.models import Alert, AlertKind, AlertRule, AlertStatus

__all__ = [
    "DISCREPANCY_WINDOW_DAYS",
    "EvaluationResult",
    "Finding",
    "apply_findings",
    "evaluate_after_pull",
    "evaluate_brand",
    "evaluate_rule",
    "findings_for",
    "key_events",
    "notify_opened",
    "plan_event_names",
    "resolve_alert",
    "webhook_text",
]

logger = logging.getLogger(__name__)

logger = logging.getLogger(__name__)

NOTIFY_CAPABILITY = "quality.refresh"  # ops leads and analysts: the ones who act on alerts


@dataclass
class EvaluationResult:
    rules: int = 0
    opened: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    resolved: list[int] = field(default_factory=list)


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
    # The webhook once: not again when this task is redelivered after its webhook task
    # started (that task records "opened: …" before any retry); again only if it never
    # started (its message was lost with a worker).
    if rule is not None and rule.webhook_url and not alert.webhook_status.startswith("opened:"):
        from koastops.quality import tasks_alerts

        tasks_alerts.alert_webhook.delay(alert.pk, "opened")
    return len(created)


def webhook_text(alert: Alert, event: str) -> str:
    from django.conf import settings

    link = settings.SITE_URL.rstrip("/") + _alert_url(alert.brand)
    if event == "resolved":
        return f"Resolved on {alert.brand.name}: {alert.message} {link}"
    return f"Alert on {alert.brand.name} ({alert.get_kind_display()}): {alert.message} {link}"
