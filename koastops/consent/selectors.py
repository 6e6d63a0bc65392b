"""Consent reads. ``with_status`` computes every config's status in SQL from the config's
own columns (the latest decision is copied onto it), the same rule as
``content.review_status``: a list or a count per brand of any length is one query."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Case, CharField, F, Q, QuerySet, Value, When
from django.utils import timezone

from koastops.activity.models import ActivityEntry
from koastops.catalog.models import Brand, CatalogStatus, Market, Pixel, Platform
from koastops.consent.content import EXPIRING_WITHIN, STATUSES
from koastops.consent.models import ConsentConfig, ConsentSignOff, Decision
from koastops.taxonomy.models import EventDefinition


def status_expression(now: datetime, soon: datetime | None = None) -> Case:
    """The status of a ``ConsentConfig`` row, as a SQL expression (see the module doc);
    ``soon`` is where "expiring" ends (``now`` + 30 days unless given)."""
    return Case(
        When(content_hash="", then=Value("not_configured")),
        When(last_signoff__isnull=True, then=Value("never_reviewed")),
        When(~Q(signed_hash=F("content_hash")), then=Value("changed")),
        When(~Q(decision=Decision.APPROVED), then=Value("rejected")),
        When(Q(expires_at__isnull=True) | Q(expires_at__lte=now), then=Value("expired")),
        When(expires_at__lte=soon or now + EXPIRING_WITHIN, then=Value("expiring")),
        default=Value("signed"),
        output_field=CharField(),
    )


def with_status(
    configs: QuerySet[ConsentConfig], now: datetime | None = None
) -> QuerySet[ConsentConfig]:
    """``configs`` annotated with ``status`` (one of ``content.STATUSES``)."""
    return configs.annotate(status=status_expression(now or timezone.now()))


# --- one config, review and history -------------------------------------------------------


def config_of_market(
    brand_id: int, market_code: str, now: datetime | None = None
) -> ConsentConfig | None:
    """The brand's config for the market (its ISO code, any case), with its status, the
    market, the latest decision and who last changed it and its content: one query (none
    for a code no market can have). The config page, the review page and the API read it."""
    if not market_code or not market_code.isascii() or not market_code.isalpha():
        return None
    return (
        with_status(
            ConsentConfig.objects.filter(brand_id=brand_id, market__code=market_code.upper()),
            now,
        )
        .select_related("market", "last_signoff", "content_changed_by", "updated_by")
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


# --- the matrix, a market's page and the evidence export ----------------------------------


@dataclass(frozen=True, slots=True)
class MatrixRow:
    """One market of the consent matrix: its config's status (``not_configured`` without
    one) and the latest decision. ``in_brand`` is false for a market that has a config but
    is no longer one of the brand's markets."""

    code: str
    name: str
    regime: str
    in_brand: bool
    status: str
    platform: str
    platform_name: str
    version: int
    reviewer: str
    decided_at: datetime | None
    expires_at: datetime | None


def matrix_rows(brand: Brand, now: datetime | None = None) -> list[MatrixRow]:
    """Every market of the brand plus every market it has a config for, by market name:
    two queries whatever the number of markets (the configs with their status, the
    brand's markets)."""
    configs = (
        ConsentConfig.objects.filter(brand=brand)
        .annotate(status=status_expression(now or timezone.now()))
        .order_by()
        .values(
            "market_id",
            "market__code",
            "market__name",
            "market__privacy_regime",
            "content__platform",
            "content__platform_name",
            "version",
            "status",
            "expires_at",
            "last_signoff__reviewer_label",
            "last_signoff__decided_at",
        )
    )
    by_market = {row["market_id"]: row for row in configs}
    markets = {
        row["id"]: row
        for row in brand.markets.order_by().values("id", "code", "name", "privacy_regime")
    }
    rows: list[MatrixRow] = []
    for market_id, market in markets.items():
        config = by_market.get(market_id)
        rows.append(_matrix_row(market, config, in_brand=True))
    for market_id, config in by_market.items():
        if market_id not in markets:
            gone: dict[str, Any] = {
                "code": config["market__code"],
                "name": config["market__name"],
                "privacy_regime": config["market__privacy_regime"],
            }
            rows.append(_matrix_row(gone, config, in_brand=False))
    rows.sort(key=lambda row: (row.name.lower(), row.code))
    return rows


def _matrix_row(
    market: Mapping[str, Any], config: Mapping[str, Any] | None, *, in_brand: bool
) -> MatrixRow:
    if config is None:
        return MatrixRow(
            code=str(market["code"]),
            name=str(market["name"]),
            regime=str(market["privacy_regime"]),
            in_brand=in_brand,
            status="not_configured",
            platform="",
            platform_name="",
            version=0,
            reviewer="",
            decided_at=None,
            expires_at=None,
        )
    return MatrixRow(
        code=str(market["code"]),
        name=str(market["name"]),
        regime=str(market["privacy_regime"]),
        in_brand=in_brand,
        status=str(config["status"]),
        platform=str(config["content__platform"] or ""),
        platform_name=str(config["content__platform_name"] or ""),
        version=int(config["version"]),
        reviewer=str(config["last_signoff__reviewer_label"] or ""),
        decided_at=config["last_signoff__decided_at"],
        expires_at=config["expires_at"],
    )


def matrix_filter(rows: Sequence[MatrixRow], *, search: str, status: str) -> list[MatrixRow]:
    """The rows matching the search (market name or code, any case) and the status."""
    needle = search.strip().lower()
    return [
        row
        for row in rows
        if (not status or row.status == status)
        and (not needle or needle in row.name.lower() or needle == row.code.lower())
    ]


def status_counts(rows: Iterable[MatrixRow]) -> dict[str, int]:
    """How many rows have each status (every status of ``content.STATUSES``, 0 included)."""
    counts = dict.fromkeys(STATUSES, 0)
    for row in rows:
        counts[row.status] = counts.get(row.status, 0) + 1
    return counts


def market_and_config(
    brand: Brand, code: str, now: datetime | None = None
) -> tuple[Market, ConsentConfig | None, bool] | None:
    """The market ``code`` (``DE``) of the brand, its config (with ``status`` and the latest
    sign-off) and whether it is still a market of the brand; ``None`` when the brand
    neither runs in the market nor has a config for it (the page is then a 404)."""
    config = config_of_market(brand.pk, code, now)
    in_brand = brand.markets.filter(code=code).exists()
    if config is not None:
        return config.market, config, in_brand
    if not in_brand:
        return None
    market = Market.objects.filter(code=code).first()
    return (market, None, True) if market is not None else None


def config_last_change(config: ConsentConfig) -> ActivityEntry | None:
    """The latest activity row about the config: who changed it last, and when (for the
    "changed meanwhile" notice of a refused stale edit)."""
    return (
        ActivityEntry.objects.filter(
            target_type=ConsentConfig._meta.label_lower, target_id=str(config.pk)
        )
        .order_by("-id")
        .first()
    )


def evidence_signoffs(brand: Brand) -> QuerySet[ConsentSignOff]:
    """Every sign-off of the brand (every config), newest first, with its market: for the
    evidence export (iterate it with ``.iterator()``)."""
    return (
        ConsentSignOff.objects.filter(brand=brand)
        .select_related("market", "config")
        .only(
            "market__code",
            "market__name",
            "config__content_hash",
            "config__last_signoff",
            "decision",
            "reviewer_label",
            "decided_at",
            "expires_at",
            "config_version",
            "content_hash",
            "content",
            "reasons",
            "comment",
            "sequence",
        )
        .order_by("-decided_at", "-pk")
    )


def active_meta_pixel_ids(brand: Brand) -> list[str]:
    """The external ids of the brand's active Meta pixels (what the defaults gate)."""
    return list(
        brand.pixels.filter(platform=Platform.META, status=CatalogStatus.ACTIVE)
        .order_by("external_id")
        .values_list("external_id", flat=True)
    )


def editor_pixels(brand: Brand, listed: Iterable[str]) -> list[Pixel]:
    """The editor's pixel rows: the brand's active Meta pixels plus any pixel of the brand
    the content lists (archived ones included), by name (one query)."""
    pixels = list(
        brand.pixels.filter(
            Q(platform=Platform.META, status=CatalogStatus.ACTIVE) | Q(external_id__in=list(listed))
        )
    )
    pixels.sort(key=lambda pixel: (pixel.name.lower(), pixel.external_id))
    return pixels


def editor_events(brand: Brand, listed: Iterable[str]) -> list[EventDefinition]:
    """The editor's event rows: the tracking plan's active events plus any event the
    content lists (whatever its status), by name (one query)."""
    names = [name.lower() for name in listed]
    return [
        event
        for event in EventDefinition.objects.filter(brand=brand).order_by("name")
        if event.status == "active" or event.name.lower() in names
    ]


# --- the API ------------------------------------------------------------------------------


def api_configs(brand: Brand, now: datetime) -> list[ConsentConfig]:
    """The brand's configs with ``status``, their market and latest decision: one query."""
    return list(
        with_status(ConsentConfig.objects.filter(brand=brand), now)
        .select_related("market", "last_signoff")
        .order_by("market__code")
    )
