"""Demo alert rules and alerts: a few rules per demo brand (written by its ops lead, so
they carry activity rows), then one evaluation. With the demo stats seeded before (the
pulls part's demo pixels have a volume dip, a dedup problem and a low-EMQ event built in)
the evaluation opens the alerts those call for; a brand whose pixels have no stats yet
gets two alerts opened directly through the same path (a silent pixel, a low EMQ).

Run again, nothing doubles: rules are added only to a brand without any, and an alert is
open at most once per rule and subject.
"""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone

from koastops.accounts.models import User
from koastops.catalog.models import Brand
from koastops.quality import alert_services, alerting
from koastops.quality.models import Alert, AlertKind, AlertRule, AlertStatus, PixelConnection

DEMO_RULES: list[dict[str, object]] = [
    {"kind": AlertKind.SILENT, "threshold": "6"},
    {"kind": AlertKind.VOLUME_DROP, "threshold": "50"},
    {"kind": AlertKind.EMQ_BELOW, "threshold": "6"},
    {"kind": AlertKind.DEDUP_BELOW, "threshold": "75"},
    {"kind": AlertKind.DISCREPANCY},
    {"kind": AlertKind.CONNECTION_BROKEN},
]


def seed_all(*, brands: list[Brand]) -> tuple[int, int]:
    """Every demo brand's rules (by its first ops lead) and alerts; (rules, open alerts)."""
    from koastops.accounts import policies

    rules = alerts = 0
    for brand in brands:
        ops = policies.holders_of(brand.pk, "quality.manage").order_by("email").first()
        if ops is None:
            continue
        created, opened = seed_alerts(brand=brand, ops=ops)
        rules, alerts = rules + created, alerts + opened
    return rules, alerts


def seed_alerts(*, brand: Brand, ops: User) -> tuple[int, int]:
    """The brand's demo rules and their alerts; (rules created, open alerts)."""
    created = 0
    if not AlertRule.objects.filter(brand=brand).exists():
        for spec in DEMO_RULES:
            alert_services.alert_rule_create(actor=ops, brand=brand, notify_email=False, **spec)  # type: ignore[arg-type]
            created += 1
    if not Alert.objects.filter(brand=brand).exists():  # a re-run leaves them to beat
        if PixelConnection.objects.filter(
            pixel__brand=brand, counts_pulled_at__isnull=False
        ).exists():
            alerting.evaluate_brand(brand.pk)
        if not Alert.objects.filter(brand=brand, status=AlertStatus.OPEN).exists():
            _open_directly(brand)
    return created, Alert.objects.filter(brand=brand, status=AlertStatus.OPEN).count()


def _open_directly(brand: Brand) -> None:
    """No stats to evaluate: open a silent-pixel and a low-EMQ alert on the first pixel."""
    pixel = brand.pixels.filter(status="active").order_by("name").first()
    if pixel is None:
        return
    now = timezone.now()
    events = alerting.key_events(brand.pk)
    event = events[0] if events else "Purchase"
    scenarios = [
        (
            AlertKind.SILENT,
            alerting.Finding(
                subject_key=f"pixel:{pixel.pk}",
                failing=True,
                message=f"Pixel {pixel.name} has not fired for 9 hours (alert at 6 h; demo data).",
                pixel_id=pixel.pk,
                value=Decimal("9"),
                threshold=Decimal("6"),
            ),
        ),
        (
            AlertKind.EMQ_BELOW,
            alerting.Finding(
                subject_key=f"pixel:{pixel.pk}:{event}",
                failing=True,
                message=(
                    f"Event Match Quality of {event} on pixel {pixel.name} is 4.2 "
                    "(alert below 6; demo data)."
                ),
                pixel_id=pixel.pk,
                event=event,
                value=Decimal("4.2"),
                threshold=Decimal("6"),
            ),
        ),
    ]
    for kind, finding in scenarios:
        rule = AlertRule.objects.filter(brand=brand, kind=kind).order_by("pk").first()
        if rule is not None:
            alerting.apply_findings(rule, [finding], brand=brand, now=now)
