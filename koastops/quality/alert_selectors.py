"""Alert reads: the alerts and rules a user may see on a brand, scoped through
``policies.pixels_for`` (a narrowed media buyer sees only alerts and rules on their pixels
or on no pixel). Querysets, so a page costs the same number of queries however many
rows."""

from __future__ import annotations

from typing import Any

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When

from koastops.accounts import policies
from koastops.accounts.models import Role
from koastops.catalog.models import Brand
from koastops.quality.models import Alert, AlertRule, AlertStatus

STATUS_FILTERS = [("all", "Open and resolved"), ("open", "Open"), ("resolved", "Resolved")]


def _pixel_scope(user: Any, brand: Brand, role: Role | None) -> Q:
    if role is not None and role != Role.MEDIA_BUYER and policies.is_active_user(user):
        return Q()
    if policies.is_admin(user):
        return Q()
    return Q(pixel__isnull=True) | Q(pixel__in=policies.pixels_for(user, brand, role=role))


def alert_list(
    *,
    user: Any,
    brand: Brand,
    role: Role | None,
    status: str = "all",
    kind: str = "",
    search: str = "",
) -> QuerySet[Alert]:
    """The brand's alerts the user may see: open ones first (newest first), then the
    resolved history (newest first)."""
    alerts = Alert.objects.filter(brand=brand).filter(_pixel_scope(user, brand, role))
    if status in AlertStatus.values:
        alerts = alerts.filter(status=status)
    if kind:
        alerts = alerts.filter(kind=kind)
    if search:
        alerts = alerts.filter(
            Q(message__icontains=search)
            | Q(event__icontains=search)
            | Q(pixel__name__icontains=search)
        )
    open_first = Case(
        When(status=AlertStatus.OPEN, then=Value(0)), default=Value(1), output_field=IntegerField()
    )
    return alerts.select_related("pixel").order_by(open_first, "-opened_at", "-pk")


def open_alert_count(*, user: Any, brand: Brand, role: Role | None) -> int:
    return alert_list(user=user, brand=brand, role=role, status=AlertStatus.OPEN).count()


def rule_list(*, user: Any, brand: Brand, role: Role | None) -> QuerySet[AlertRule]:
    return (
        AlertRule.objects.filter(brand=brand)
        .filter(_pixel_scope(user, brand, role))
        .select_related("pixel")
        .order_by("kind", "pk")
    )


def rule_for_view(*, user: Any, brand: Brand, role: Role | None, pk: int) -> AlertRule:
    """The rule (``AlertRule.DoesNotExist`` when not the brand's or not visible)."""
    return rule_list(user=user, brand=brand, role=role).get(pk=pk)
