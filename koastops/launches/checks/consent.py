"""Consent: every market of the launch has a valid consent sign-off."""

from __future__ import annotations

from typing import Any

from koastops.consent import content as consent_content
from koastops.consent import selectors as consent_selectors
from koastops.consent.models import ConsentConfig
from koastops.launches.checks.registry import CheckContext, Outcome, check
from koastops.launches.models import Severity

ACTIONS = {
    "not_configured": "Ask an ops lead to set up the market's consent config, then a legal "
    "reviewer to sign it off.",
    "never_reviewed": "Ask a legal reviewer to sign off the market's consent config.",
    "changed": "The config changed since its sign-off: ask a legal reviewer to review it again.",
    "expired": "The sign-off expired: ask a legal reviewer to renew it.",
    "rejected": "A legal reviewer rejected it: fix the config and ask for a new review.",
    "expiring": "Valid, but the sign-off expires within 30 days: ask a legal reviewer to "
    "renew it soon.",
    "signed": "",
}


@check(
    "consent.signed_off",
    "Every market has a valid consent sign-off",
    severity=Severity.BLOCKING,
    description=(
        "Each market of the launch (and of its ad sets) has a consent config whose current "
        "content a legal reviewer signed off and whose sign-off has not expired. Fix: ask a "
        "legal reviewer of the brand to sign off the markets listed."
    ),
)
def consent_signed_off(ctx: CheckContext) -> Outcome:
    launch = ctx.launch
    markets = {market.pk: market for market in launch.markets.all()}
    for ad_set in launch.ad_sets.all():
        markets.setdefault(ad_set.market_id, ad_set.market)
    if not markets:
        return Outcome.fail("The launch has no markets: add the markets it runs in.", markets=[])
    configs = {
        config.market_id: config
        for config in consent_selectors.with_status(
            ConsentConfig.objects.filter(brand_id=launch.brand_id, market_id__in=list(markets)),
            ctx.now,
        )
    }
    rows: list[dict[str, Any]] = []
    for market in sorted(markets.values(), key=lambda m: m.code):
        config = configs.get(market.pk)
        status = str(config.status) if config is not None else "not_configured"  # type: ignore[attr-defined]
        rows.append(
            {
                "market": market.code,
                "name": market.name,
                "status": status,
                "status_label": consent_content.STATUSES.get(status, status),
                "valid": consent_content.is_valid(status),
                "action": ACTIONS.get(status, "Ask a legal reviewer to review the config."),
            }
        )
    invalid = [row for row in rows if not row["valid"]]
    if invalid:
        listed = ", ".join(f"{row['market']} ({row['status_label'].lower()})" for row in invalid)
        noun = "market has" if len(invalid) == 1 else "markets have"
        return Outcome.fail(
            f"{len(invalid)} {noun} no valid consent sign-off: {listed}. Ask a legal "
            "reviewer of the brand to sign them off.",
            markets=rows,
        )
    codes = ", ".join(row["market"] for row in rows)
    expiring = [row["market"] for row in rows if row["status"] == "expiring"]
    if expiring:
        return Outcome.passed(
            f"Every market ({codes}) has a valid consent sign-off; "
            f"{', '.join(expiring)} expires within 30 days.",
            markets=rows,
        )
    return Outcome.passed(f"Every market ({codes}) has a valid consent sign-off.", markets=rows)
