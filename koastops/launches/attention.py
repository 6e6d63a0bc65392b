"""Launches' "needs attention" items (see ``koastops.dashboard.attention``), per user:

- ``launches.awaiting_review``: launches in review on brands where the user holds
  ``launch.approve`` that they neither created nor submitted (four eyes: those are
  another ops lead's to review); the link is the approval queue filtered to the brand;
- ``launches.needs_changes``: the user's own launches (created or submitted by them) that
  need changes; the link is the brand's launch list filtered to them;
- ``launches.ready``: the user's own launches checked without a blocking failure but not
  submitted for review yet (the lesser item);
- ``launches.regressed``: live launches (post-launch monitoring) with an open regression —
  a check that passed at approval fails now — for everyone who sees the launch.

Counted as the launch lists show them: a narrowed media buyer counts only launches on
their ad accounts. ONE grouped query for any number of brands (``launch_counts``), read
once per page within ``attention.sharing()`` although two providers read it; one more
to ask whether a media buyer is narrowed (only a media buyer can be).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q
from django.urls import reverse

from koastops.accounts import policies
from koastops.accounts.models import Role
from koastops.catalog.models import Brand
from koastops.dashboard import attention
from koastops.launches.models import Launch, LaunchState, Regression, RegressionStatus

COUNTED = ("awaiting_review", "needs_changes", "ready", "regressed")


def _reviewer_brand_ids(user: Any, brands: Sequence[Brand], roles: Mapping[int, Role]) -> list[int]:
    """The brands where the user holds ``launch.approve`` (no query: roles are known)."""
    if policies.is_admin(user):
        return [brand.pk for brand in brands]
    return [
        brand.pk
        for brand in brands
        if brand.pk in roles and policies.can(user, "launch.approve", brand, role=roles[brand.pk])
    ]


def _read_counts(
    user: Any, brands: Sequence[Brand], roles: Mapping[int, Role]
) -> dict[int, dict[str, int]]:
    brand_ids = [brand.pk for brand in brands]
    if policies.is_admin(user):
        visible = Q(brand_id__in=brand_ids)
    else:
        # Brands without a role are not the user's (the start page never passes them).
        buyer = [pk for pk in brand_ids if roles.get(pk) == Role.MEDIA_BUYER]
        others = [pk for pk in brand_ids if pk in roles and pk not in buyer]
        visible = Q(brand_id__in=others)
        if buyer:
            narrowed = policies.is_narrowed_anywhere(user)
            visible |= Q(brand_id__in=buyer) & policies.launch_visible_q(user, narrowed=narrowed)
    reviewing = _reviewer_brand_ids(user, brands, roles)
    mine = Q(created_by=user) | Q(submitted_by=user)
    awaiting = (
        Q(state=LaunchState.IN_REVIEW, brand_id__in=reviewing)
        & ~Q(created_by=user)
        & ~Q(submitted_by=user)
    )
    regressed = Q(
        Exists(Regression.objects.filter(launch=OuterRef("pk"), status=RegressionStatus.OPEN)),
        state=LaunchState.LAUNCHED,
    )
    rows = (
        Launch.objects.filter(visible)
        .filter(
            Q(state=LaunchState.IN_REVIEW, brand_id__in=reviewing)
            | Q(state__in=[LaunchState.NEEDS_CHANGES, LaunchState.READY]) & mine
            | regressed
        )
        .order_by()
        .values("brand_id")
        .annotate(
            awaiting_review=Count("pk", filter=awaiting),
            needs_changes=Count("pk", filter=Q(state=LaunchState.NEEDS_CHANGES) & mine),
            ready=Count("pk", filter=Q(state=LaunchState.READY) & mine),
            regressed=Count("pk", filter=regressed),
        )
        .values_list("brand_id", *COUNTED)
    )
    return {
        brand_id: dict(zip(COUNTED, (int(n) for n in counts), strict=True))
        for brand_id, *counts in rows
    }


def launch_counts(
    *, user: Any, brands: Sequence[Brand], roles: Mapping[int, Role]
) -> dict[int, dict[str, int]]:
    """``{brand id: {"awaiting_review": n, "needs_changes": n, "ready": n, "regressed": n}}``
    the user may
    see (brands with none left out): ONE grouped query, read once within
    ``attention.sharing()``."""
    if not brands or not policies.is_active_user(user):
        return {}
    if not policies.is_admin(user) and not roles:
        return {}
    key = ("launches.counts", user.pk, tuple(sorted(brand.pk for brand in brands)))
    return attention.shared(key, lambda: _read_counts(user, brands, roles))


def _launches(n: int) -> str:
    return "1 launch" if n == 1 else f"{n} launches"


@attention.register("launches.awaiting_review")
def awaiting_review(
    *, user: Any, brands: Sequence[Brand], roles: Mapping[int, Role]
) -> Iterator[attention.AttentionItem]:
    counts = launch_counts(user=user, brands=brands, roles=roles)
    if not counts:
        return
    queue = reverse("launches_global:queue")
    for brand in brands:
        if n := counts.get(brand.pk, {}).get("awaiting_review", 0):
            yield attention.AttentionItem(
                brand=brand,
                key="launches.awaiting_review",
                tone="warning",
                title=f"{_launches(n)} {'awaits' if n == 1 else 'await'} your review",
                detail="Submitted by someone else and checked: approve, reject or ask for changes.",
                who="Ops leads of the brand review launches they did not create or submit.",
                href=f"{queue}?brand={brand.slug}",
                count=n,
            )


@attention.register("launches.needs_changes")
def needs_changes(
    *, user: Any, brands: Sequence[Brand], roles: Mapping[int, Role]
) -> Iterator[attention.AttentionItem]:
    counts = launch_counts(user=user, brands=brands, roles=roles)
    if not counts:
        return
    launch_list = attention.slug_url("launches:list")
    for brand in brands:
        found = counts.get(brand.pk)
        if not found:
            continue
        url = launch_list(brand.slug)
        if n := found["needs_changes"]:
            yield attention.AttentionItem(
                brand=brand,
                key="launches.needs_changes",
                tone="warning",
                title=f"{_launches(n)} of yours {'needs' if n == 1 else 'need'} changes",
                detail="A check failed or an ops lead asked for changes: each launch's page "
                "says what to fix before you submit it again.",
                who="Whoever created or submitted the launch edits it.",
                href=f"{url}?state=needs_changes&mine=1",
                count=n,
            )
        if n := found["ready"]:
            yield attention.AttentionItem(
                brand=brand,
                key="launches.ready",
                tone="warning",
                title=f"{_launches(n)} of yours {'is' if n == 1 else 'are'} ready to submit",
                detail="Checked without a blocking failure, not yet submitted for review.",
                who="Whoever created the launch submits it for review.",
                href=f"{url}?state=ready&mine=1",
                count=n,
            )


@attention.register("launches.regressed")
def regressed(
    *, user: Any, brands: Sequence[Brand], roles: Mapping[int, Role]
) -> Iterator[attention.AttentionItem]:
    counts = launch_counts(user=user, brands=brands, roles=roles)
    if not counts:
        return
    launch_list = attention.slug_url("launches:list")
    for brand in brands:
        if n := counts.get(brand.pk, {}).get("regressed", 0):
            yield attention.AttentionItem(
                brand=brand,
                key="launches.regressed",
                tone="failing",
                title=f"{_launches(n)} live with a check that now fails",
                detail="A check that passed when the launch was approved fails in the daily "
                "re-run: the launch's page says which and what to fix.",
                who="Ops leads and the media buyer who submitted it.",
                href=f"{launch_list(brand.slug)}?state=launched",
                count=n,
            )
