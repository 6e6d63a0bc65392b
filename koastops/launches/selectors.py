"""Launch reads. Lists and pages go through ``visible_launches`` (the policy module's
filter: a narrowed media buyer sees only launches on their ad accounts), so a launch on
an account someone may not use is a 404 for them, never a name on a page."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from django.http import Http404

from koastops.accounts import policies
from koastops.accounts.models import Role
from koastops.catalog.models import Brand
from koastops.launches.models import Ad, AdSet, CheckResult, CheckRun, Launch


def visible_launches(user: Any, brand: Brand, *, role: Role | None = None) -> QuerySet[Launch]:
    """The brand's launches the user may see (one queryset, subqueries only)."""
    queryset = Launch.objects.filter(brand=brand)
    if role is not None and role != Role.MEDIA_BUYER and policies.is_active_user(user):
        return queryset
    return queryset.filter(ad_account__in=policies.ad_accounts_for(user, brand).values("pk"))


def with_structure(queryset: QuerySet[Launch]) -> QuerySet[Launch]:
    """Prefetch what ``content.snapshot`` and the pages read (four queries in all)."""
    return queryset.select_related(
        "brand", "ad_account", "pixel", "optimization_event", "created_by", "submitted_by"
    ).prefetch_related(
        "markets",
        Prefetch(
            "ad_sets",
            queryset=AdSet.objects.select_related("market").prefetch_related(
                Prefetch("ads", queryset=Ad.objects.order_by("position"))
            ),
        ),
    )


def launch_for_view(
    user: Any, brand: Brand, pk: int, *, role: Role | None = None, structure: bool = True
) -> Launch:
    """One launch the user may see, or 404."""
    queryset = visible_launches(user, brand, role=role).filter(pk=pk)
    if structure:
        queryset = with_structure(queryset)
    launch = queryset.first()
    if launch is None:
        raise Http404("No such launch.")
    return launch


def run_results(run: CheckRun) -> list[CheckResult]:
    """The run's results in the registry's order (one query)."""
    return list(CheckResult.objects.filter(run=run).order_by("position", "pk"))
