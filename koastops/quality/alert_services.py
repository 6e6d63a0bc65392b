"""Alert rule writes (ops leads: ``quality.manage``). One function per intent; each checks
the policy, validates every field (a ``ValidationError`` keyed by field name), locks the
rule and compares its version (``StaleVersion``), and writes its activity row in the same
transaction. A created or changed rule is evaluated at once after commit (a task), so the
alerts page need not wait for the next pull or the 15-minute beat.

Webhook URLs must be https and not point at a private address. At save only what needs
no network is checked (scheme, port, credentials, a literal IP address in any notation);
the name is resolved and checked again when the message is sent (``core.safefetch``).
Webhook URLs are secrets (a Slack URL is its own token): activity rows say only that it
was set, changed or removed.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from koastops.accounts import policies
from koastops.accounts.models import User
from koastops.activity.services import activity_record
from koastops.catalog.models import Brand, Pixel
from koastops.core import safefetch
from koastops.core.exceptions import StaleVersion
from koastops.quality import alerting
from koastops.quality.models import Alert, AlertKind, AlertRule, AlertStatus

# kind -> (least, greatest, unit) of the threshold; kinds not listed take none.
THRESHOLD_RANGES: dict[str, tuple[Decimal, Decimal, str]] = {
    AlertKind.SILENT: (Decimal("1"), Decimal("720"), "hours"),
    AlertKind.VOLUME_DROP: (Decimal("1"), Decimal("100"), "% of the 7-day average"),
    AlertKind.EMQ_BELOW: (Decimal("0.1"), Decimal("10"), "EMQ (0-10)"),
    AlertKind.DEDUP_BELOW: (Decimal("1"), Decimal("100"), "% coverage"),
}
EVENT_KINDS = frozenset(
    {AlertKind.VOLUME_DROP, AlertKind.EMQ_BELOW, AlertKind.DEDUP_BELOW, AlertKind.DISCREPANCY}
)
WEBHOOK_MAX = 500


def _threshold(kind: str, raw: Any, errors: dict[str, list[str]]) -> Decimal | None:
    bounds = THRESHOLD_RANGES.get(kind)
    if bounds is None:
        return None  # discrepancy uses the brand's tolerance band; broken needs none
    least, greatest, unit = bounds
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        errors["threshold"] = [f"Enter a threshold ({unit})."]
        return None
    try:
        value = Decimal(str(raw).strip())
    except (InvalidOperation, ValueError):
        errors["threshold"] = ["Enter a number."]
        return None
    if not value.is_finite() or not least <= value <= greatest:
        errors["threshold"] = [f"Enter a number from {least} to {greatest} ({unit})."]
        return None
    return value.quantize(Decimal("0.01"))


def _webhook(raw: str, errors: dict[str, list[str]]) -> str:
    url = (raw or "").strip()
    if not url:
        return ""
    if len(url) > WEBHOOK_MAX:
        errors["webhook_url"] = [f"At most {WEBHOOK_MAX} characters."]
        return url
    try:
        safefetch.validate_url(url, https_only=True)
    except safefetch.UnsafeURL as exc:
        errors["webhook_url"] = [exc.message]
    return url


def _clean(
    *,
    actor: User,
    brand: Brand,
    kind: str,
    threshold: Any,
    event: str,
    pixel: Pixel | int | str | None,
    webhook_url: str,
) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    if kind not in AlertKind.values:
        errors["kind"] = ["Choose a kind of alert."]
    value = _threshold(kind, threshold, errors)
    event = (event or "").strip()
    if kind not in EVENT_KINDS:
        event = ""
    elif (
        event
        and event not in alerting.key_events(brand.pk)
        and not (kind == AlertKind.DISCREPANCY and event in alerting.plan_event_names(brand.pk))
    ):
        errors["event"] = [
            f"{event} is not a key event of this brand (an active tracking-plan event's "
            "Meta event)."
        ]
    pixel_obj: Pixel | None = None
    if pixel is not None and pixel != "":
        pixel_id = pixel.pk if isinstance(pixel, Pixel) else pixel
        try:
            pixel_obj = (
                policies.pixels_for(actor, brand).filter(pk=int(pixel_id), status="active").first()
            )
        except (TypeError, ValueError):
            pixel_obj = None
        if pixel_obj is None:
            errors["pixel"] = ["Choose one of this brand's pixels."]
    url = _webhook(webhook_url, errors)
    if errors:
        raise ValidationError(errors)
    return {"kind": kind, "threshold": value, "event": event, "pixel": pixel_obj, "url": url}


def _snapshot(rule: AlertRule) -> dict[str, Any]:
    return {
        "kind": rule.kind,
        "threshold": None if rule.threshold is None else str(rule.threshold),
        "event": rule.event,
        "pixel": rule.pixel_id,
        "enabled": rule.enabled,
        "notify_email": rule.notify_email,
        "webhook": "set" if rule.webhook_url else "none",
        "version": rule.version,
    }


def _label(rule: AlertRule) -> str:
    return f"alert rule {rule.get_kind_display().lower()}"


def _evaluate_soon(rule: AlertRule) -> None:
    from koastops.quality import tasks_alerts

    tasks_alerts.evaluate_alert_rule.delay_on_commit(rule.pk)


@transaction.atomic
def alert_rule_create(
    *,
    actor: User,
    brand: Brand,
    kind: str,
    threshold: Any = None,
    event: str = "",
    pixel: Pixel | int | str | None = None,
    enabled: bool = True,
    notify_email: bool = True,
    webhook_url: str = "",
) -> AlertRule:
    policies.require(
        policies.can(actor, "quality.manage", brand), "You may not manage alert rules."
    )
    clean = _clean(
        actor=actor,
        brand=brand,
        kind=kind,
        threshold=threshold,
        event=event,
        pixel=pixel,
        webhook_url=webhook_url,
    )
    rule = AlertRule.objects.create(
        brand=brand,
        kind=clean["kind"],
        threshold=clean["threshold"],
        event=clean["event"],
        pixel=clean["pixel"],
        enabled=bool(enabled),
        notify_email=bool(notify_email),
        webhook_url=clean["url"],
        created_by=actor,
    )
    activity_record(
        verb="alert_rule.created",
        actor=actor,
        target=rule,
        brand=brand,
        target_label=_label(rule),
        after=_snapshot(rule),
    )
    if rule.enabled:
        _evaluate_soon(rule)
    return rule


def _locked(rule: AlertRule, version: int) -> AlertRule:
    current = AlertRule.objects.select_for_update().filter(pk=rule.pk).first()
    if current is None:
        raise StaleVersion(expected_version=version, current_version=0)
    if current.version != version:
        raise StaleVersion(expected_version=version, current_version=current.version)
    return current


@transaction.atomic
def alert_rule_update(
    *,
    actor: User,
    rule: AlertRule,
    version: int,
    threshold: Any = None,
    event: str = "",
    pixel: Pixel | int | str | None = None,
    enabled: bool = True,
    notify_email: bool = True,
    webhook_url: str = "",
) -> AlertRule:
    """Change the rule (its kind stays: a different kind is a different rule). Refused
    with ``StaleVersion`` when someone changed it since ``version``; a change of nothing
    writes nothing."""
    brand = rule.brand
    policies.require(
        policies.can(actor, "quality.manage", brand), "You may not manage alert rules."
    )
    current = _locked(rule, version)
    clean = _clean(
        actor=actor,
        brand=brand,
        kind=current.kind,
        threshold=threshold,
        event=event,
        pixel=pixel,
        webhook_url=webhook_url,
    )
    before = _snapshot(current)
    new_pixel: Pixel | None = clean["pixel"]
    changed = (
        current.threshold != clean["threshold"]
        or current.event != clean["event"]
        or current.pixel_id != (new_pixel.pk if new_pixel else None)
        or current.enabled != bool(enabled)
        or current.notify_email != bool(notify_email)
        or current.webhook_url != clean["url"]
    )
    if not changed:
        return current
    webhook_change = None
    if current.webhook_url != clean["url"]:
        webhook_change = (
            "removed" if not clean["url"] else ("set" if not current.webhook_url else "changed")
        )
    current.threshold = clean["threshold"]
    current.event = clean["event"]
    current.pixel = new_pixel
    current.enabled = bool(enabled)
    current.notify_email = bool(notify_email)
    current.webhook_url = clean["url"]
    current.version += 1
    current.save()
    after = _snapshot(current)
    if webhook_change:
        after["webhook"] = webhook_change
    activity_record(
        verb="alert_rule.updated",
        actor=actor,
        target=current,
        brand=brand,
        target_label=_label(current),
        before={k: v for k, v in before.items() if after.get(k) != v},
        after={k: v for k, v in after.items() if before.get(k) != v},
    )
    if current.enabled:
        _evaluate_soon(current)
    else:
        alerting.resolve_disabled(brand, now=timezone.now())
    return current


@transaction.atomic
def alert_rule_delete(*, actor: User, rule: AlertRule, version: int) -> None:
    """Delete the rule; its open alerts resolve (their history stays, without the rule)."""
    brand = rule.brand
    policies.require(
        policies.can(actor, "quality.manage", brand), "You may not manage alert rules."
    )
    current = _locked(rule, version)
    now = timezone.now()
    for alert in Alert.objects.filter(rule=current, status=AlertStatus.OPEN):
        alerting.resolve_alert(alert, brand=brand, now=now, why="rule deleted")
    activity_record(
        verb="alert_rule.deleted",
        actor=actor,
        target=current,
        brand=brand,
        target_label=_label(current),
        before=_snapshot(current),
    )
    current.delete()
