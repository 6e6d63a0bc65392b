"""API: consent (under /api/v1/brands/{slug}/…), reads only; every role of a brand
(``consent.view``) reads them, as on the pages.

- ``GET consent``: one item per market of the brand (and per config whose market the
  brand no longer runs in), by market code: the config's canonical content, its hash,
  its status (``koastops.consent.content.STATUSES``), its warnings and the current (latest)
  decision — what launches check before they run in a market. Two queries for any number
  of markets (the brand's markets, its configs with their status and latest decision).
- ``GET consent/{market}/sign-offs``: the config's decisions, newest first, each with the
  exact content it was given for (the evidence), paginated like every list.

Writes (edit, sign off) are the pages' only: a sign-off is a legal reviewer's act on the
page that shows the content and its diff.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Literal

from django.http import Http404
from django.utils import timezone
from ninja import Field, Query, Router, Schema

from koastops.accounts.http import ApiRequest
from koastops.api.common import brand_with_capability, responses
from koastops.api.pagination import PageParams, default_page_size, paginate
from koastops.consent import content as consent_content
from koastops.consent import selectors
from koastops.consent.models import ConsentConfig

router = Router(tags=["consent"])

StatusKey = Literal[tuple(consent_content.STATUSES)]  # type: ignore[valid-type]
_MARKET = re.compile(r"[A-Za-z]{2}")


class MarketOut(Schema):
    code: str = Field(description="ISO 3166-1 alpha-2, upper case.")
    name: str
    privacy_regime: str = Field(description="gdpr, uk_gdpr, us_state, lgpd or none.")


class WarningOut(Schema):
    path: str = Field(description="The content path it concerns, e.g. defaults.ad_storage.")
    message: str


class CurrentSignOffOut(Schema):
    id: int
    decision: Literal["approved", "rejected"]
    reviewer: str = Field(description="The reviewer's email when they decided.")
    decided_at: dt.datetime
    signed_hash: str = Field(description="The content hash the decision was given for.")
    config_version: int
    expires_at: dt.datetime | None = Field(description="Approved only.")
    reasons: list[str] = Field(description="Rejected only: the reasons' keys.")
    comment: str


class ConsentConfigOut(Schema):
    market: MarketOut
    brand_market: bool = Field(
        description="False: a config kept for a market the brand no longer runs in."
    )
    configured: bool
    version: int = Field(description="Bumped by every edit (0: no config yet).")
    content: dict[str, Any] | None = Field(description="The canonical content (null: none).")
    content_hash: str | None = Field(description="SHA-256 of market and content.")
    internal_notes: str = Field(description="Ops notes, outside the hash.")
    status: StatusKey  # type: ignore[valid-type]
    status_label: str
    valid: bool = Field(description="Signed (or expiring) on exactly the current content.")
    warnings: list[WarningOut]
    updated_at: dt.datetime | None
    current_signoff: CurrentSignOffOut | None = Field(
        description="The latest decision (for an older hash when the status is changed)."
    )


class ConsentListOut(Schema):
    items: list[ConsentConfigOut]


class SignOffOut(Schema):
    id: int
    sequence: int = Field(description="The n-th decision on this config.")
    decision: Literal["approved", "rejected"]
    reviewer: str
    decided_at: dt.datetime
    expires_at: dt.datetime | None
    config_version: int
    content_hash: str
    content: dict[str, Any] = Field(description="Exactly the content decided on.")
    reasons: list[str]
    comment: str
    valid_now: bool = Field(
        description="This is the current decision and the config's status is valid."
    )


class SignOffPage(Schema):
    count: int
    page: int
    page_size: int
    items: list[SignOffOut]


def _market_out(market: Any) -> dict[str, str]:
    return {"code": market.code, "name": market.name, "privacy_regime": market.privacy_regime}


def _current(config: ConsentConfig) -> dict[str, Any] | None:
    signoff = config.last_signoff
    if signoff is None:
        return None
    return {
        "id": signoff.pk,
        "decision": signoff.decision,
        "reviewer": signoff.reviewer_label,
        "decided_at": signoff.decided_at,
        "signed_hash": signoff.content_hash,
        "config_version": signoff.config_version,
        "expires_at": signoff.expires_at,
        "reasons": list(signoff.reasons or []),
        "comment": signoff.comment,
    }


def _config_out(config: ConsentConfig, *, brand_market: bool) -> dict[str, Any]:
    status: str = config.status  # type: ignore[attr-defined]
    market = config.market
    return {
        "market": _market_out(market),
        "brand_market": brand_market,
        "configured": True,
        "version": config.version,
        "content": config.content,
        "content_hash": config.content_hash,
        "internal_notes": config.internal_notes,
        "status": status,
        "status_label": consent_content.STATUSES[status],
        "valid": consent_content.is_valid(status),
        "warnings": [
            {"path": finding.path, "message": finding.message}
            for finding in consent_content.warnings(config.content, regime=market.privacy_regime)
        ],
        "updated_at": config.updated_at,
        "current_signoff": _current(config),
    }


def _unconfigured(market: Any) -> dict[str, Any]:
    return {
        "market": _market_out(market),
        "brand_market": True,
        "configured": False,
        "version": 0,
        "content": None,
        "content_hash": None,
        "internal_notes": "",
        "status": "not_configured",
        "status_label": consent_content.STATUSES["not_configured"],
        "valid": False,
        "warnings": [],
        "updated_at": None,
        "current_signoff": None,
    }


@router.get(
    "/brands/{slug}/consent",
    response=responses({200: ConsentListOut}, errors=(401, 403, 404)),
    url_name="consent_list",
)
def consent_list(request: ApiRequest, slug: str) -> Any:
    """Every market of the brand with its consent config (or ``configured: false``), by
    market code."""
    brand, _ = brand_with_capability(request, slug, "consent.view")
    now = timezone.now()
    markets = list(brand.markets.order_by("code"))
    configs = {config.market_id: config for config in selectors.api_configs(brand, now)}
    brand_ids = {market.pk for market in markets}
    items = [
        _config_out(configs[market.pk], brand_market=True)
        if market.pk in configs
        else _unconfigured(market)
        for market in markets
    ]
    items += [
        _config_out(config, brand_market=False)
        for market_id, config in configs.items()
        if market_id not in brand_ids
    ]
    items.sort(key=lambda item: item["market"]["code"])
    return {"items": items}


@router.get(
    "/brands/{slug}/consent/{market}/sign-offs",
    response=responses({200: SignOffPage}),
    url_name="consent_signoffs",
)
def consent_signoffs(
    request: ApiRequest, slug: str, market: str, filters: Query[PageParams]
) -> Any:
    """The decisions on the brand's config for ``market`` (ISO code, any case), newest
    first. A market of the brand without a config has none (an empty page); a market the
    brand does not run in (and has no config for) is 404."""
    brand, _ = brand_with_capability(request, slug, "consent.view")
    if not _MARKET.fullmatch(market):  # no such market can exist (and no NUL reaches SQL)
        raise Http404
    code = market.upper()
    config = selectors.config_of_market(brand.pk, code, timezone.now())
    if config is None:
        if not brand.markets.filter(code=code).exists():
            raise Http404
        size = filters.page_size or default_page_size()
        return {"items": [], "count": 0, "page": filters.page, "page_size": size}
    valid = consent_content.is_valid(config.status)  # type: ignore[attr-defined]
    page = paginate(
        selectors.signoffs_of(config).values(
            "id",
            "sequence",
            "decision",
            "reviewer_label",
            "decided_at",
            "expires_at",
            "config_version",
            "content_hash",
            "content",
            "reasons",
            "comment",
        ),
        filters,
    )
    page["items"] = [
        {
            "id": row["id"],
            "sequence": row["sequence"],
            "decision": row["decision"],
            "reviewer": row["reviewer_label"],
            "decided_at": row["decided_at"],
            "expires_at": row["expires_at"],
            "config_version": row["config_version"],
            "content_hash": row["content_hash"],
            "content": row["content"],
            "reasons": list(row["reasons"] or []),
            "comment": row["comment"],
            "valid_now": valid and row["id"] == config.last_signoff_id,
        }
        for row in page["items"]
    ]
    return page
