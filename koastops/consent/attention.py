"""Consent's "needs attention" items (see ``koastops.dashboard.attention``), by role:

- legal reviewers of a brand (``consent.sign_off``): ``consent.needs_review`` — configs
  changed since sign-off, expired, never reviewed or expiring within 30 days (failing
  when any are changed or expired: launches in those markets lack a valid sign-off now);
- ops leads and admins (``consent.manage``): ``consent.setup`` — markets without a
  config — and ``consent.setup_rejected`` — configs a reviewer rejected;
- everyone else (media buyers, analysts): ``consent.unsigned`` — markets without a valid
  sign-off (launches there will need one).

Admins hold no role (``roles`` is empty for them), so they never get the reviewer's item:
an admin signs off only while holding the legal-reviewer role, and then appears in
``roles`` only on pages that read roles for admins too.

ONE grouped query for any number of brands (``status_counts``): each (brand, market) pair
of the brands' markets with the status of its config (``not_configured`` when it has
none), counted per brand and status. Configs of markets a brand no longer runs in are not
counted: they concern no market it launches in. The start page reads the same counts for
its "Consent reviews" section through ``attention.shared``, in the same query.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from django.db.models import Count, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from koastops.accounts import policies
from koastops.accounts.models import Role
from koastops.catalog.models import Brand
from koastops.consent import content as consent_content
from koastops.consent.models import ConsentConfig
from koastops.consent.selectors import status_expression
from koastops.core import sqlcache
from koastops.core.lookups import any_of
from koastops.dashboard import attention

# The statuses that ask the legal reviewer to act, and the ones the start page shows.
REVIEW_STATUSES: tuple[str, ...] = consent_content.NEEDS_REVIEW
URGENT = frozenset({"changed", "expired"})
START_STATUSES: tuple[str, ...] = (
    "changed",
    "expired",
    "never_reviewed",
    "expiring",
    "rejected",
    "signed",
)


def _counts_query(brand_ids: list[int], now: datetime, soon: datetime) -> QuerySet[Any]:
    through = Brand.markets.through
    status = Subquery(
        ConsentConfig.objects.filter(brand_id=OuterRef("brand_id"), market_id=OuterRef("market_id"))
        .order_by()
        .annotate(status=status_expression(now, soon))
        .values("status")[:1]
    )
    # Any: the stubs' plugin cannot follow annotations on the auto-created through model.
    links: Any = through.objects
    return (
        links.filter(any_of("brand_id", brand_ids))
        .annotate(status=Coalesce(status, Value("not_configured")))
        .values("brand_id", "status")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("brand_id", "status", "n")
    )


def _read_counts(brand_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    # Compiled once per process (koastops.core.sqlcache): building the status CASE and its
    # subquery cost the ORM more than the database takes to answer for 200 brands.
    now = timezone.now()
    rows = sqlcache.rows(
        "consent.counts", _counts_query, list(brand_ids), now, now + consent_content.EXPIRING_WITHIN
    )
    counts: dict[int, dict[str, int]] = {}
    for brand_id, status, n in rows:
        counts.setdefault(brand_id, {})[status] = n
    return counts


def status_counts(brands: Sequence[Brand]) -> dict[int, dict[str, int]]:
    """``{brand id: {status: number of the brand's markets}}`` (statuses with none left
    out), read once within ``attention.sharing()``. Every role of a brand may see its
    consent statuses (``consent.view``), so the counts are not narrowed per user."""
    brand_ids = tuple(sorted(brand.pk for brand in brands))
    if not brand_ids:
        return {}
    return attention.shared(("consent.counts", brand_ids), lambda: _read_counts(brand_ids))


def needs_review(counts: Mapping[str, int]) -> int:
    return sum(counts.get(key, 0) for key in REVIEW_STATUSES)


def unsigned(counts: Mapping[str, int]) -> int:
    return sum(n for key, n in counts.items() if key not in consent_content.VALID_STATUSES)


def _configs(n: int) -> str:
    return "1 consent config" if n == 1 else f"{n} consent configs"


def _review_item(brand: Brand, counts: Mapping[str, int], matrix: str) -> attention.AttentionItem:
    n = needs_review(counts)
    groups = [key for key in REVIEW_STATUSES if counts.get(key)]
    href = f"{matrix}?status={groups[0]}" if len(groups) == 1 else matrix
    parts = ", ".join(f"{counts[key]} {consent_content.STATUSES[key].lower()}" for key in groups)
    return attention.AttentionItem(
        brand=brand,
        key="consent.needs_review",
        tone="failing" if any(counts.get(key) for key in URGENT) else "warning",
        title=f"{_configs(n)} {'needs' if n == 1 else 'need'} your review",
        detail=f"{parts[:1].upper()}{parts[1:]}. Launches need a valid sign-off per market.",
        who="Legal reviewers of the brand sign off on each config's review page.",
        href=href,
        count=n,
    )


def _setup_items(
    brand: Brand, counts: Mapping[str, int], matrix: str
) -> Iterator[attention.AttentionItem]:
    if n := counts.get("not_configured", 0):
        yield attention.AttentionItem(
            brand=brand,
            key="consent.setup",
            tone="warning",
            title=f"{n} market{'' if n == 1 else 's'} {'has' if n == 1 else 'have'} no "
            "consent config",
            detail="Nothing can launch there until a config is set up and signed off.",
            who="Ops leads create consent configs from the consent matrix.",
            href=f"{matrix}?status=not_configured",
            count=n,
        )
    if n := counts.get("rejected", 0):
        yield attention.AttentionItem(
            brand=brand,
            key="consent.setup_rejected",
            tone="warning",
            title=f"{_configs(n)} {'was' if n == 1 else 'were'} rejected and "
            f"need{'s' if n == 1 else ''} changes",
            detail="The reviewer's reasons are on each config's page and history.",
            who="Ops leads change the config; legal reviewers then review it again.",
            href=f"{matrix}?status=rejected",
            count=n,
        )


@attention.register("consent")
def consent_items(
    *, user: Any, brands: Sequence[Brand], roles: Mapping[int, Role]
) -> Iterator[attention.AttentionItem]:
    admin = policies.is_admin(user)
    if not admin and not roles:
        return
    counts = status_counts(brands)
    if not counts:
        return
    matrix_of = attention.slug_url("consent:matrix")
    for brand in brands:
        brand_counts = counts.get(brand.pk)
        if not brand_counts:
            continue
        role = roles.get(brand.pk)
        matrix = matrix_of(brand.slug)
        if role == Role.LEGAL_REVIEWER:
            if needs_review(brand_counts):
                yield _review_item(brand, brand_counts, matrix)
        elif admin or role == Role.OPS_LEAD:
            yield from _setup_items(brand, brand_counts, matrix)
        elif role is not None and (n := unsigned(brand_counts)):
            yield attention.AttentionItem(
                brand=brand,
                key="consent.unsigned",
                tone="warning",
                title=f"{n} market{'' if n == 1 else 's'} without a valid consent sign-off",
                detail="Launches in these markets will need one.",
                who="Ops leads set consent configs up; the brand's legal reviewers sign them off.",
                href=matrix,
                count=n,
            )
