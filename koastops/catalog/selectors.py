"""Catalog reads, always scoped through the policy module and shaped for a constant
number of queries (annotations and prefetches, never per-row lookups)."""

from __future__ import annotations

from django.db.models import (
    Count,
    IntegerField,
    Model,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce

from koastops.accounts import policies
from koastops.accounts.models import Role, User
from koastops.activity.models import ActivityEntry
from koastops.catalog.models import AdAccount, Brand, CatalogStatus, Market, Pixel


def _status_filter[M: Model](queryset: QuerySet[M], status: str) -> QuerySet[M]:
    if status in (CatalogStatus.ACTIVE, CatalogStatus.ARCHIVED):
        return queryset.filter(status=status)
    return queryset  # "all"


def _count_per_brand(model: type[AdAccount] | type[Pixel], visible: Q) -> Coalesce:
    """A correlated COUNT per brand of the rows the user may see. Two Count() annotations
    over joins would multiply the rows (ad accounts x pixels per brand) before counting."""
    counts = (
        model.objects.filter(visible, brand=OuterRef("pk"))
        .order_by()
        .values("brand")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counts, output_field=IntegerField()), 0)


def brand_list(*, user: User, search: str = "", status: str = "active") -> QuerySet[Brand]:
    narrowed = policies.is_narrowed_anywhere(user)
    queryset = policies.brands_for(user).annotate(
        ad_account_count=_count_per_brand(
            AdAccount, policies.ad_account_visible_q(user, narrowed=narrowed)
        ),
        pixel_count=_count_per_brand(Pixel, policies.pixel_visible_q(user, narrowed=narrowed)),
    )
    if search:
        queryset = queryset.filter(Q(name__icontains=search) | Q(slug__icontains=search))
    return (
        _status_filter(queryset, status)
        .prefetch_related(Prefetch("markets", queryset=Market.objects.order_by("code")))
        .order_by("name")
    )


def ad_account_list(
    *,
    user: User,
    brand: Brand,
    search: str = "",
    status: str = "active",
    role: Role | None = None,
) -> QuerySet[AdAccount]:
    """``role``: the user's role on the brand when the caller knows it (cheaper query)."""
    queryset = policies.ad_accounts_for(user, brand, role=role).annotate(
        pixel_count=Count("pixels")
    )
    if search:
        queryset = queryset.filter(Q(name__icontains=search) | Q(external_id__icontains=search))
    return (
        _status_filter(queryset, status)
        .prefetch_related(Prefetch("markets", queryset=Market.objects.order_by("code")))
        .order_by("name")
    )


def pixel_list(
    *,
    user: User,
    brand: Brand,
    search: str = "",
    status: str = "active",
    role: Role | None = None,
) -> QuerySet[Pixel]:
    """``role``: the user's role on the brand when the caller knows it (cheaper query)."""
    queryset = policies.pixels_for(user, brand, role=role)
    if search:
        queryset = queryset.filter(Q(name__icontains=search) | Q(external_id__icontains=search))
    # Only the linked accounts the user may see: a narrowed media buyer never reads the
    # name of another account, not even next to a pixel they share.
    linked = Prefetch("ad_accounts", queryset=pixel_ad_accounts(user=user, brand=brand, role=role))
    return _status_filter(queryset, status).prefetch_related(linked).order_by("name")


def pixel_ad_accounts(
    *, user: User, brand: Brand, pixel: Pixel | None = None, role: Role | None = None
) -> QuerySet[AdAccount]:
    """The ad accounts linked to ``pixel`` (or, for a prefetch, to any pixel) that the
    user may see, by name."""
    queryset = policies.ad_accounts_for(user, brand, role=role)
    if pixel is not None:
        queryset = queryset.filter(pixels=pixel)
    return queryset.order_by("name")


def ad_account_for_view(*, user: User, brand: Brand, ad_account_id: int) -> AdAccount:
    from django.http import Http404

    ad_account = policies.ad_accounts_for(user, brand).filter(pk=ad_account_id).first()
    if ad_account is None:
        raise Http404("No such ad account.")
    return ad_account


def pixel_for_view(*, user: User, brand: Brand, pixel_id: int) -> Pixel:
    from django.http import Http404

    pixel = policies.pixels_for(user, brand).filter(pk=pixel_id).first()
    if pixel is None:
        raise Http404("No such pixel.")
    return pixel


def brand_stats(*, user: User, brand: Brand) -> dict[str, int]:
    """Counts for the overview's stat cards: two aggregate queries, whatever the size."""
    active = Q(status=CatalogStatus.ACTIVE)
    accounts = policies.ad_accounts_for(user, brand).aggregate(
        active_ad_accounts=Count("pk", filter=active)
    )
    pixels = policies.pixels_for(user, brand).aggregate(
        active_pixels=Count("pk", filter=active),
        pixels_with_capi=Count("pk", filter=active & Q(capi_enabled=True)),
        pixels_without_token=Count("pk", filter=active & Q(access_token_encrypted="")),
    )
    return accounts | pixels


def last_change(*, obj: Brand | AdAccount | Pixel) -> ActivityEntry | None:
    """The latest activity row about ``obj``: who changed it last, and when (for the
    "changed by … meanwhile" notice of a refused stale edit)."""
    return (
        ActivityEntry.objects.filter(target_type=obj._meta.label_lower, target_id=str(obj.pk))
        .order_by("-id")
        .first()
    )
