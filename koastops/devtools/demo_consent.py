"""The consent configs and sign-offs of the demo data (``seed_demo``).

Every demo brand gets a config for each of its markets, from the market's regime defaults
(``content.defaults_for``) with the brand's Meta pixels and a few tracking-plan events
gated on consent, written by the brand's ops lead through ``services.config_save``; the
brand's legal reviewer then decides through ``services.consent_decide``, so that the demo
shows every status of the matrix:

- signed: Nordwind DE, Lumen FR, Lumen US, Verde US, Verde DE;
- changed since sign-off: Nordwind FR (signed, then ops raised ``wait_for_update``);
- expiring within 30 days: Nordwind GB (signed to expire in 20 days);
- rejected: Lumen GB (defaults and gating, with a comment);
- never reviewed: Verde BR.

Only configs that are missing (by brand and market) are created, with their scenario: a
re-run creates nothing and changes nothing.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from koastops.accounts.models import User
from koastops.catalog.models import Brand, Platform
from koastops.consent import content as consent_content
from koastops.consent import services
from koastops.consent.models import ConsentConfig

# (brand short, market code) -> what happens after the ops lead creates the config.
SIGNED = "signed"
CHANGED = "changed"
EXPIRING = "expiring"
REJECTED = "rejected"
NEVER_REVIEWED = "never_reviewed"
SCENARIOS: dict[tuple[str, str], str] = {
    ("nordwind", "DE"): SIGNED,
    ("nordwind", "FR"): CHANGED,
    ("nordwind", "GB"): EXPIRING,
    ("lumen", "FR"): SIGNED,
    ("lumen", "GB"): REJECTED,
    ("lumen", "US"): SIGNED,
    ("verde", "BR"): NEVER_REVIEWED,
    ("verde", "US"): SIGNED,
    ("verde", "DE"): SIGNED,
}
EXPIRING_IN = timedelta(days=20)
REJECTION_REASONS = ["defaults", "gating"]
REJECTION_COMMENT = (
    "The UK banner sets analytics cookies before the visitor chooses, and the Purchase "
    "event is not gated. Start analytics_storage denied and gate Purchase on marketing, "
    "then send it back."
)
NOTES = "Demo config: banner set up by the web team; ask them before changing the platform."

# Tracking-plan events held back until consent: the analytics one on analytics consent.
GATED_EVENTS: dict[str, str] = {
    "AddToCart": "marketing",
    "Purchase": "marketing",
    "PageView": "analytics",
}


def demo_content(brand: Brand, market: Any, *, pixel_ids: list[str]) -> dict[str, Any]:
    """The market's regime defaults with the brand's Meta pixels gated on marketing
    consent and ``GATED_EVENTS`` gated as listed."""
    content = consent_content.defaults_for(market.privacy_regime, market.code)
    content["pixels"] = [{"id": pixel, "category": "marketing"} for pixel in pixel_ids]
    content["events"] = [
        {"name": name, "category": category} for name, category in GATED_EVENTS.items()
    ]
    return content


def _rejected_content(content: dict[str, Any]) -> dict[str, Any]:
    """What the reviewer rejects: analytics granted by default and Purchase ungated."""
    changed = {**content, "defaults": {**content["defaults"], "analytics_storage": "granted"}}
    changed["events"] = [
        {**event, "category": "none"} if event["name"] == "Purchase" else event
        for event in content["events"]
    ]
    return changed


def seed_consent(*, brand: Brand, short: str, ops: User, legal: User) -> tuple[int, int]:
    """The brand's missing demo configs with their scenario; (created, existing)."""
    existing_ids = set(
        ConsentConfig.objects.filter(brand=brand).values_list("market_id", flat=True)
    )
    pixel_ids = sorted(
        brand.pixels.filter(platform=Platform.META).values_list("external_id", flat=True)
    )
    created = existing = 0
    for market in brand.markets.order_by("code"):
        if market.pk in existing_ids:
            existing += 1
            continue
        scenario = SCENARIOS.get((short, market.code), SIGNED)
        content = demo_content(brand, market, pixel_ids=pixel_ids)
        if scenario == REJECTED:
            content = _rejected_content(content)
        config = services.config_save(
            user=ops,
            brand=brand,
            market=market,
            content=content,
            internal_notes=NOTES,
            expected_version=0,
        )
        created += 1
        if scenario == NEVER_REVIEWED:
            continue
        if scenario == REJECTED:
            services.consent_decide(
                user=legal,
                config=config,
                expected_hash=config.content_hash,
                decision="rejected",
                reasons=REJECTION_REASONS,
                comment=REJECTION_COMMENT,
            )
            continue
        expires_on = (timezone.now() + EXPIRING_IN).date() if scenario == EXPIRING else None
        services.consent_decide(
            user=legal,
            config=config,
            expected_hash=config.content_hash,
            decision="approved",
            comment="Checked against the banner on staging.",
            expires_on=expires_on,
        )
        if scenario == CHANGED:
            config.refresh_from_db()
            services.config_save(
                user=ops,
                brand=brand,
                market=market,
                content={**config.content, "wait_for_update": 800},
                internal_notes=config.internal_notes,
                expected_version=config.version,
            )
    return created, existing
