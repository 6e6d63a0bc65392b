"""Reads of the review part: the approval queue (launches in review on the brands where the
user holds ``launch.approve``, admins: every brand) and what the review page shows beside
the launch (its latest review, the overrides already given on this content).

The queue is one ``values()`` statement whatever its size: the brand scope is a list of
ids read once (``policies.roles_of``), the launch scope is ``policies.launch_visible_q``,
and the blocking-failure count is the current run's column (no per-row subquery)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from koastops.accounts import policies
from koastops.catalog.models import AdAccount, Brand
from koastops.launches.models import CheckOverride, Launch, LaunchState, Review

# ?waiting=<key>: in review for longer than this.
WAITING: dict[str, tuple[str, dt.timedelta]] = {
    "1h": ("Over 1 hour", dt.timedelta(hours=1)),
    "24h": ("Over 24 hours", dt.timedelta(hours=24)),
    "3d": ("Over 3 days", dt.timedelta(days=3)),
}
SEARCH_MAX = 100

QUEUE_FIELDS = (
    "pk",
    "campaign_name",
    "state_changed_at",
    "created_by_id",
    "submitted_by_id",
    "brand_id",
    "brand__slug",
    "brand__name",
    "ad_account_id",
    "ad_account__name",
    "ad_account__external_id",
    "submitted_by__email",
    "submitted_by__full_name",
    "current_run__blocking_failed",
    "current_run__state",
)


@dataclass(frozen=True)
class QueueFilters:
    brand: str = ""
    account: int | None = None
    waiting: str = ""
    search: str = ""

    @property
    def active(self) -> bool:
        return bool(self.brand or self.account or self.waiting or self.search)


def parse_filters(params: Any) -> QueueFilters:
    """The queue's query string, forgiving: an unknown value is ignored, never a 500."""
    brand = str(params.get("brand", "")).replace("\x00", "").strip()[:100]
    raw_account = str(params.get("account", "")).strip()
    account = (
        int(raw_account)
        if raw_account.isascii() and raw_account.isdigit() and len(raw_account) <= 18
        else None
    )
    waiting = str(params.get("waiting", "")).strip()
    search = str(params.get("q", "")).replace("\x00", "").strip()[:SEARCH_MAX]
    return QueueFilters(
        brand=brand,
        account=account or None,
        waiting=waiting if waiting in WAITING else "",
        search=search,
    )


def approver_brands(user: Any) -> list[tuple[int, str, str]] | None:
    """(pk, name, slug) of the brands where the user holds ``launch.approve``, by name;
    None for an admin (every brand). One query."""
    if policies.is_admin(user):
        return None
    if not policies.is_active_user(user):
        return []
    return [
        (brand.pk, brand.name, brand.slug)
        for brand, role in policies.roles_of(user)
        if policies.can(user, "launch.approve", brand, role=role)
    ]


def _scope(
    user: Any, brands: list[tuple[int, str, str]] | None, narrowed: bool
) -> QuerySet[Launch]:
    queryset = Launch.objects.filter(state=LaunchState.IN_REVIEW)
    if brands is not None:
        queryset = queryset.filter(brand_id__in=[pk for pk, _, _ in brands])
    return queryset.filter(policies.launch_visible_q(user, narrowed=narrowed))


def _brand_id(filters: QueueFilters, brands: list[tuple[int, str, str]] | None) -> int:
    """The filtered brand's id, from the approver's brands (admins: one lookup), so the
    statement filters on ``brand_id`` and PostgreSQL walks the (brand, state) index."""
    if brands is not None:
        return next((pk for pk, _, slug in brands if slug == filters.brand), 0)
    found = Brand.objects.filter(slug=filters.brand).values_list("pk", flat=True).first()
    return found or 0


def _filtered(
    user: Any,
    filters: QueueFilters,
    brands: list[tuple[int, str, str]] | None,
    now: dt.datetime | None,
    narrowed: bool,
) -> QuerySet[Launch]:
    queryset = _scope(user, brands, narrowed)
    if filters.brand:
        queryset = queryset.filter(brand_id=_brand_id(filters, brands))
    if filters.account:
        queryset = queryset.filter(ad_account_id=filters.account)
    if filters.waiting:
        queryset = queryset.filter(
            state_changed_at__lte=(now or timezone.now()) - WAITING[filters.waiting][1]
        )
    if filters.search:
        queryset = queryset.filter(campaign_name__icontains=filters.search)
    return queryset


def queue_rows(
    user: Any,
    filters: QueueFilters,
    *,
    brands: list[tuple[int, str, str]] | None,
    narrowed: bool = True,
    now: dt.datetime | None = None,
) -> tuple[QuerySet[Launch, dict[str, Any]], int]:
    """The queue's rows, oldest waiting first (``values()`` rows of ``QUEUE_FIELDS``), and
    their number. Counted on the launch table alone (no joins), so a page reads its 25
    rows by the (state, state_changed_at) index instead of joining every launch in review
    for a window count. ``narrowed``: ``policies.is_narrowed_anywhere(user)``, asked once
    by the caller (a cached statement): for the many users nobody narrowed, the filter
    needs no per-row subquery."""
    queryset = _filtered(user, filters, brands, now, narrowed)
    total = queryset.count()
    return queryset.order_by("state_changed_at", "pk").values(*QUEUE_FIELDS), total


def queue_accounts(
    user: Any, *, brand_ids: list[int], narrowed: bool = True
) -> list[dict[str, Any]]:
    """The account filter's options: the ad accounts of the brands offered (at most 200;
    one query, no scan of the launches)."""
    rows = (
        AdAccount.objects.filter(
            policies.ad_account_visible_q(user, narrowed=narrowed),
            brand_id__in=brand_ids,
        )
        .order_by("brand__name", "name", "pk")
        .values("pk", "name", "external_id", "brand__name")[:200]
    )
    return [dict(row) for row in rows]


def last_review(launch: Launch) -> Review | None:
    """The latest decision on the launch (its snapshot is what the diff starts from)."""
    return (
        Review.objects.filter(launch=launch)
        .select_related("reviewer")
        .order_by("-created_at", "-pk")
        .first()
    )


def overridden_keys(launch: Launch) -> dict[str, CheckOverride]:
    """The overrides already given on the launch's current content, by check key."""
    rows = CheckOverride.objects.filter(
        launch=launch, content_hash=launch.content_hash
    ).select_related("overridden_by")
    return {row.check_key: row for row in rows}


def waiting_label(since: dt.datetime, now: dt.datetime) -> str:
    seconds = max(0, int((now - since).total_seconds()))
    if seconds < 3600:
        return f"{max(1, seconds // 60)} min"
    if seconds < 86400:
        return f"{seconds // 3600} h {seconds % 3600 // 60} min"
    days = seconds // 86400
    return f"{days} day{'s' if days != 1 else ''} {seconds % 86400 // 3600} h"
