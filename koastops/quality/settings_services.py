"""Writes of the quality settings: a brand's thresholds and, per pixel, where its stats
come from. Each is one intent: the policy checked, the row locked, the version compared
(a stale edit is refused with ``StaleVersion``, nothing written), one activity row in the
same transaction."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from koastops.accounts import policies
from koastops.activity.services import activity_record
from koastops.catalog.models import Brand, CatalogStatus, Pixel
from koastops.core.exceptions import StaleVersion
from koastops.quality.models import ConnectionStatus, PixelConnection, Provider, QualitySettings

# field -> (lowest, highest, decimal places): the model's columns allow no more.
LIMITS: dict[str, tuple[Decimal, Decimal, int]] = {
    "emq_threshold": (Decimal(0), Decimal(10), 1),
    "dedup_threshold": (Decimal(0), Decimal(100), 2),
    "tolerance_pct": (Decimal(0), Decimal(100), 2),
}
LABELS = {
    "emq_threshold": "The EMQ threshold",
    "dedup_threshold": "The dedup coverage threshold",
    "tolerance_pct": "The tolerance band",
}


def _decimal(name: str, value: Any, errors: dict[str, list[str]]) -> Decimal | None:
    low, high, places = LIMITS[name]
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        errors[name] = [f"{LABELS[name]} must be a number."]
        return None
    if not number.is_finite() or not low <= number <= high:
        errors[name] = [f"{LABELS[name]} must be between {low} and {high}."]
        return None
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > places:
        errors[name] = [f"{LABELS[name]} takes at most {places} decimal place(s)."]
        return None
    return number


def _settings_dict(row: QualitySettings) -> dict[str, str]:
    # As the database stores them (the unsaved defaults have fewer places).
    return {
        name: f"{Decimal(str(getattr(row, name))):.{places}f}"
        for name, (_, _, places) in LIMITS.items()
    }


@transaction.atomic
def quality_settings_save(
    *,
    actor: Any,
    brand: Brand,
    version: int,
    emq_threshold: Decimal | str,
    dedup_threshold: Decimal | str,
    tolerance_pct: Decimal | str,
) -> QualitySettings:
    """Save the brand's thresholds. ``version``: the one the edit was based on (1 for the
    defaults never saved). Raises ``PermissionDenied`` without ``quality.manage``,
    ``ValidationError`` by field (EMQ 0 to 10, dedup 0 to 100 %, tolerance 0 to 100 %),
    ``StaleVersion`` when someone saved since."""
    policies.require(
        policies.can(actor, "quality.manage", brand),
        "Only the brand's ops leads change the quality thresholds.",
    )
    errors: dict[str, list[str]] = {}
    values = {
        "emq_threshold": _decimal("emq_threshold", emq_threshold, errors),
        "dedup_threshold": _decimal("dedup_threshold", dedup_threshold, errors),
        "tolerance_pct": _decimal("tolerance_pct", tolerance_pct, errors),
    }
    if errors:
        raise ValidationError(errors)
    row = QualitySettings.objects.select_for_update().filter(brand=brand).first()
    if row is None:
        if version != 1:
            raise StaleVersion(expected_version=version, current_version=1)
        row = QualitySettings(brand=brand)
        before = _settings_dict(row)
        for name, value in values.items():
            setattr(row, name, value)
        row.version = 2
        row.updated_by = actor
        try:
            with transaction.atomic():
                row.save()
        except IntegrityError as exc:  # saved by someone else at the same moment
            raise StaleVersion(expected_version=version, current_version=2) from exc
    else:
        if row.version != version:
            raise StaleVersion(expected_version=version, current_version=row.version)
        before = _settings_dict(row)
        for name, value in values.items():
            setattr(row, name, value)
        row.version += 1
        row.updated_by = actor
        row.save()
    after = _settings_dict(row)
    activity_record(
        verb="quality_settings.updated",
        actor=actor,
        target=row,
        brand=brand,
        target_label="event-quality thresholds",
        before={key: value for key, value in before.items() if after[key] != value},
        after={key: value for key, value in after.items() if before[key] != value},
    )
    return row


@transaction.atomic
def pixel_connection_save(
    *, actor: Any, pixel: Pixel, version: int, provider: str
) -> PixelConnection:
    """Set where the pixel's stats come from (``meta`` or ``demo``). ``version``: the
    connection's (1 for a pixel never set up). A change of provider resets the connection
    to "not pulled yet" (its status and message were about the other provider) and pulls
    the pixel from the new one at once (``refresh_request``, enqueued after commit): the
    stats already pulled are overwritten by that pull, not by the next hourly one."""
    brand = pixel.brand
    policies.require(
        policies.can(actor, "quality.manage", brand),
        "Only the brand's ops leads change where a pixel's stats come from.",
    )
    if provider not in Provider.values:
        raise ValidationError({"provider": ["Choose Meta Graph API or Demo data."]})
    row = PixelConnection.objects.select_for_update().filter(pixel=pixel).first()
    if row is None:
        if version != 1:
            raise StaleVersion(expected_version=version, current_version=1)
        before_provider = Provider.META.value
        row = PixelConnection(pixel=pixel, provider=provider, version=2)
        try:
            with transaction.atomic():
                row.save()
        except IntegrityError as exc:
            raise StaleVersion(expected_version=version, current_version=2) from exc
    else:
        if row.version != version:
            raise StaleVersion(expected_version=version, current_version=row.version)
        before_provider = row.provider
        if provider != row.provider:
            row.provider = provider
            row.status = ConnectionStatus.UNKNOWN
            row.message = ""
            row.status_changed_at = timezone.now()
            row.retry_after = None
        row.version += 1
        row.save()
    activity_record(
        verb="pixel_connection.updated",
        actor=actor,
        target=row,
        brand=brand,
        target_label=f"stats connection of {pixel.name}",
        before={"provider": before_provider},
        after={"provider": row.provider},
    )
    if before_provider != row.provider and pixel.status != CatalogStatus.ARCHIVED:
        from koastops.quality.pull_services import refresh_request

        refresh_request(actor=actor, pixel=pixel)
    return row
