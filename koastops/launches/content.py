"""A launch's content as one canonical document: what a review looks at, what an
approval is bound to (its hash) and what the review page diffs against the last review.

``snapshot`` reads a launch whose structure is prefetched (``selectors.with_structure``)
or loads it (three queries). Everything that changes what would go live is in it — the
account, pixel, objective, event, markets, budget, schedule and every name, URL and UTM
parameter — and nothing that does not (state, version, who edited it)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from koastops.launches.models import Launch

UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")


def _iso(moment: Any) -> str | None:
    """UTC, so the stored row and the parsed input (in the account's zone) agree."""
    return moment.astimezone(dt.UTC).isoformat() if moment is not None else None


def snapshot(launch: Launch) -> dict[str, Any]:
    markets = sorted(market.code for market in launch.markets.all())
    ad_sets = []
    for ad_set in sorted(launch.ad_sets.all(), key=lambda a: a.position):
        ads = [
            {
                "name": ad.name,
                "landing_url": ad.landing_url,
                **{field: getattr(ad, field) for field in UTM_FIELDS},
            }
            for ad in sorted(ad_set.ads.all(), key=lambda a: a.position)
        ]
        ad_sets.append(
            {
                "name": ad_set.name,
                "market": ad_set.market.code,
                "audience_note": ad_set.audience_note,
                "ads": ads,
            }
        )
    return {
        "ad_account": launch.ad_account.external_id,
        "pixel": launch.pixel.external_id,
        "objective": launch.objective,
        "optimization_event": launch.optimization_event.name,
        "markets": markets,
        "budget_type": launch.budget_type,
        "budget_amount": f"{launch.budget_amount:.2f}",
        "currency": launch.ad_account.currency,
        "start_at": _iso(launch.start_at),
        "end_at": _iso(launch.end_at),
        "campaign_name": launch.campaign_name,
        "ad_sets": ad_sets,
    }


def content_hash(document: dict[str, Any]) -> str:
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class Change:
    path: str  # "budget_amount", "ad_sets.0.ads.2.landing_url", "ad_sets.1" (added/removed)
    before: Any
    after: Any

    @property
    def kind(self) -> str:
        if self.before is None:
            return "added"
        if self.after is None:
            return "removed"
        return "changed"


def diff(before: Any, after: Any, path: str = "") -> list[Change]:
    """Every leaf that differs between two snapshots, in document order; a list item
    present on one side only is one change for the whole item."""
    if isinstance(before, dict) and isinstance(after, dict):
        changes: list[Change] = []
        for key in list(before) + [k for k in after if k not in before]:
            sub = f"{path}.{key}" if path else str(key)
            changes.extend(diff(before.get(key), after.get(key), sub))
        return changes
    if isinstance(before, list) and isinstance(after, list) and path != "markets":
        changes = []
        for index in range(max(len(before), len(after))):
            sub = f"{path}.{index}"
            left = before[index] if index < len(before) else None
            right = after[index] if index < len(after) else None
            changes.extend(diff(left, right, sub))
        return changes
    if before == after:
        return []
    return [Change(path, before, after)]
