"""Consent reads. ``with_status`` computes every config's status in SQL from the config's
own columns (the latest decision is copied onto it), the same rule as
``content.review_status``: a list or a count per brand of any length is one query."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Case, CharField, F, Q, QuerySet, Value, When
from django.utils import timezone

from koastops.catalog.models import Brand
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


# --- the API and the attention counts (part "api" of #9) ----------------------------------


def api_configs(brand: Brand, now: datetime) -> list[ConsentConfig]:
    """The brand's configs with ``status``, their market and latest decision: one query."""
    return list(
        with_status(ConsentConfig.objects.filter(brand=brand), now)
        .select_related("market", "last_signoff")
        .order_by("market__code")
    )


def api_config(brand: Brand, code: str, now: datetime) -> ConsentConfig | None:
    """The brand's config for the market ``code`` (upper case), with ``status``."""
    return with_status(ConsentConfig.objects.filter(brand=brand, market__code=code), now).first()


def signoffs_of(config: ConsentConfig) -> QuerySet[ConsentSignOff]:
    """The config's decisions, newest first."""
    return ConsentSignOff.objects.filter(config=config).order_by("-decided_at", "-pk")
