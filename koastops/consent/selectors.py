"""Consent reads. ``with_status`` computes every config's status in SQL from the config's
own columns (the latest decision is copied onto it), the same rule as
``content.review_status``: a list or a count per brand of any length is one query."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db.models import Case, CharField, F, Q, QuerySet, Value, When
from django.utils import timezone

from koastops.catalog.models import Pixel
from koastops.consent.content import EXPIRING_WITHIN
from koastops.consent.models import ConsentConfig, ConsentSignOff, Decision


def status_expression(now: datetime) -> Case:
    """The status of a ``ConsentConfig`` row, as a SQL expression (see the module doc)."""
    return Case(
        When(content_hash="", then=Value("not_configured")),
        When(last_signoff__isnull=True, then=Value("never_reviewed")),
        When(~Q(signed_hash=F("content_hash")), then=Value("changed")),
        When(~Q(decision=Decision.APPROVED), then=Value("rejected")),
        When(Q(expires_at__isnull=True) | Q(expires_at__lte=now), then=Value("expired")),
        When(expires_at__lte=now + EXPIRING_WITHIN, then=Value("expiring")),
        default=Value("signed"),
        output_field=CharField(),
    )


def with_status(
    configs: QuerySet[ConsentConfig], now: datetime | None = None
) -> QuerySet[ConsentConfig]:
    """``configs`` annotated with ``status`` (one of ``content.STATUSES``)."""
    return configs.annotate(status=status_expression(now or timezone.now()))


# --- review and history (legal) ------------------------------------------------------------


def config_for_review(brand_id: int, market_code: str) -> ConsentConfig | None:
    """The brand's config for the market (the URL's lower-case code), with its status, the
    market, the latest decision and who last changed the content: one query."""
    if not market_code or not market_code.isascii() or not market_code.isalpha():
        return None
    return (
        with_status(
            ConsentConfig.objects.filter(brand_id=brand_id, market__code=market_code.upper())
        )
        .select_related("market", "last_signoff", "content_changed_by")
        .first()
    )


def signoffs_of(config: ConsentConfig) -> QuerySet[ConsentSignOff]:
    """Every decision on the config, newest first."""
    return ConsentSignOff.objects.filter(config=config).order_by("-decided_at", "-pk")


def previous_contents(config: ConsentConfig, sequences: Iterable[int]) -> dict[int, Any]:
    """The content of each decision numbered ``sequences`` minus one, by that sequence."""
    wanted = {sequence - 1 for sequence in sequences if sequence > 1}
    if not wanted:
        return {}
    rows = ConsentSignOff.objects.filter(config=config, sequence__in=wanted).values_list(
        "sequence", "content"
    )
    return {sequence + 1: content for sequence, content in rows}


def pixel_names(brand_id: int, ids: Iterable[str]) -> dict[str, str]:
    """The brand's pixels by external id (for showing a config's pixels by name)."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    return dict(
        Pixel.objects.filter(brand_id=brand_id, external_id__in=wanted).values_list(
            "external_id", "name"
        )
    )
