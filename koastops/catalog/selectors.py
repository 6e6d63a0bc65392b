"""Catalog reads, always scoped through the policy module and shaped for a constant
number of queries (annotations and prefetches, never per-row lookups)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django.db import connection
from django.db.models import (
    BooleanField,
    CharField,
    Count,
    ExpressionWrapper,
    IntegerField,
    Model,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    StringAgg,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce, Concat

from koastops.accounts import policies
from koastops.accounts.models import Role, User
from koastops.activity.models import ActivityEntry
from koastops.catalog.models import AdAccount, Brand, CatalogStatus, Market, Pixel
from koastops.core.lookups import any_of


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


def _brands(
    *, user: User, search: str, status: str, narrowed: bool | None = None
) -> QuerySet[Brand]:
    if narrowed is None:
        narrowed = policies.is_narrowed_anywhere(user)
    queryset = policies.brands_for(user).annotate(
        ad_account_count=_count_per_brand(
            AdAccount, policies.ad_account_visible_q(user, narrowed=narrowed)
        ),
        pixel_count=_count_per_brand(Pixel, policies.pixel_visible_q(user, narrowed=narrowed)),
    )
    if search:
        queryset = queryset.filter(Q(name__icontains=search) | Q(slug__icontains=search))
    return _status_filter(queryset, status).order_by("name")


def brand_list(*, user: User, search: str = "", status: str = "active") -> QuerySet[Brand]:
    """Brands with their visible counts and ``markets_joined`` (the markets as one string:
    ``market_pairs()`` splits it) — read in the brand query, not by a prefetch."""
    return _brands(user=user, search=search, status=status).annotate(
        markets_joined=_markets_of(Brand.markets.through, "brand_id")
    )


# --- rows for the list pages: values() and joined strings, no model instances ---------------
# A list page prints its rows and nothing else: ``values()`` rows, with the markets (or a
# pixel's linked ad accounts) joined into one string by a correlated subquery instead of a
# prefetch query and its instances. ``joined()`` splits such a string back.
_ITEM = "\x1f"  # between two joined items
_PART = "\x1e"  # between the parts of one item (a market's code and name)


def _joined(expression: Any, order_by: str) -> StringAgg:
    # Ordered in SQL where the database can (PostgreSQL; SQLite from 3.44), else joined()
    # sorts (SQLite's binary collation is Python's string order).
    ordered = connection.features.supports_aggregate_order_by_clause
    return StringAgg(expression, Value(_ITEM), order_by=order_by if ordered else None)


def joined(value: str | None) -> list[str]:
    """The items of a string joined by a row selector, in order."""
    if not value:
        return []
    items = value.split(_ITEM)
    if not connection.features.supports_aggregate_order_by_clause:
        items.sort()
    return items


def market_pairs(value: str | None) -> list[tuple[str, str]]:
    """``(code, name)`` of each market of a row's ``markets``, by code."""
    return [tuple(item.split(_PART, 1)) for item in joined(value)]  # type: ignore[misc]


def _markets_of(through: type[Model], owner: str) -> Subquery:
    """The row's markets, joined: ``code<part>name<item>code<part>name…``. Read from the
    (small) market table by id, which PostgreSQL plans as index lookups."""
    pairs = Concat("code", Value(_PART), "name", output_field=CharField())
    linked = through._default_manager.filter(**{owner: OuterRef(OuterRef("pk"))}).values(
        "market_id"
    )
    rows = (
        Market.objects.filter(pk__in=linked)
        .order_by()
        .annotate(one=Value(1))
        .values("one")  # one group: every market of the row
        .annotate(joined=_joined(pairs, "code"))
        .values("joined")
    )
    return Subquery(rows, output_field=CharField())


def brand_rows_source(
    *, user: User, search: str = "", status: str = "active"
) -> tuple[str, Callable[..., QuerySet[Any]], tuple[int | str, ...]] | None:
    """``brand_rows`` as ``(key, build, values)`` for ``paginate_cached`` (its statement
    compiled once per process), or None when it cannot be (a narrowed user: the narrowing
    subqueries; an inactive one)."""
    if not policies.is_active_user(user):
        return None
    admin = policies.is_admin(user)
    if not admin and policies.is_narrowed_anywhere(user):
        return None  # the caller falls back to brand_rows(..., narrowed=True)

    def build(*values: Any) -> QuerySet[Any]:
        brands = Brand.objects.all() if admin else policies.brands_of_user_id(*values[:2])
        queryset = brands.annotate(
            ad_account_count=_count_per_brand(AdAccount, Q()),
            pixel_count=_count_per_brand(Pixel, Q()),
        )
        if search:
            term = values[-1]
            queryset = queryset.filter(Q(name__icontains=term) | Q(slug__icontains=term))
        return _brand_row_values(_status_filter(queryset, status).order_by("name"))

    values: tuple[int | str, ...] = () if admin else (user.pk, policies.brand_content_type_id())
    if search:
        values = (*values, search)
    shape = status if status in (CatalogStatus.ACTIVE, CatalogStatus.ARCHIVED) else "all"
    key = f"brand_rows:{'admin' if admin else 'user'}:{shape}:{bool(search)}"
    return key, build, values


def _brand_row_values(queryset: QuerySet[Brand]) -> QuerySet[Any]:
    return queryset.annotate(markets_joined=_markets_of(Brand.markets.through, "brand_id")).values(
        "pk", "name", "slug", "status", "ad_account_count", "pixel_count", "markets_joined"
    )


def brand_rows(
    *, user: User, search: str = "", status: str = "active", narrowed: bool | None = None
) -> QuerySet[Any]:
    """The brand list's rows: ``pk``, ``name``, ``slug``, ``status``, ``ad_account_count``,
    ``pixel_count`` (what the user may see) and ``markets`` (see ``market_pairs``).
    ``narrowed``: ``policies.is_narrowed_anywhere(user)`` if the caller asked already."""
    return _brand_row_values(_brands(user=user, search=search, status=status, narrowed=narrowed))


def _ad_accounts(
    *, user: User, brand: Brand, search: str, status: str, role: Role | None
) -> QuerySet[AdAccount]:
    queryset = policies.ad_accounts_for(user, brand, role=role).annotate(
        pixel_count=Count("pixels")
    )
    if search:
        queryset = queryset.filter(Q(name__icontains=search) | Q(external_id__icontains=search))
    return _status_filter(queryset, status).order_by("name")


def ad_account_list(
    *,
    user: User,
    brand: Brand,
    search: str = "",
    status: str = "active",
    role: Role | None = None,
) -> QuerySet[AdAccount]:
    """``role``: the user's role on the brand when the caller knows it (cheaper query)."""
    return _ad_accounts(
        user=user, brand=brand, search=search, status=status, role=role
    ).prefetch_related(Prefetch("markets", queryset=Market.objects.order_by("code")))


_AD_ACCOUNT_ROW_FIELDS = (
    "pk",
    "name",
    "platform",
    "external_id",
    "currency",
    "time_zone",
    "status",
    "pixel_count",
    "markets_joined",
)


def ad_account_rows_source(
    *, user: User, brand: Brand, search: str = "", status: str = "active", role: Role | None
) -> tuple[str, Callable[..., QuerySet[Any]], tuple[int | str, ...]] | None:
    """``ad_account_rows`` as ``(key, build, values)`` for ``paginate_cached``, or None
    when it cannot be compiled once (a media buyer, who may be narrowed; an inactive
    user). ``role``: the user's role on the brand (the decorator's)."""
    if not policies.is_active_user(user):
        return None
    if not policies.is_admin(user) and (role is None or role == Role.MEDIA_BUYER):
        return None

    def build(brand_id: int, *term: str) -> QuerySet[Any]:
        queryset = AdAccount.objects.filter(brand_id=brand_id).annotate(pixel_count=Count("pixels"))
        if term:
            queryset = queryset.filter(
                Q(name__icontains=term[0]) | Q(external_id__icontains=term[0])
            )
        rows: QuerySet[Any] = (
            _status_filter(queryset, status)
            .order_by("name")
            .annotate(markets_joined=_markets_of(AdAccount.markets.through, "adaccount_id"))
            .values(*_AD_ACCOUNT_ROW_FIELDS)
        )
        return rows

    values: tuple[int | str, ...] = (brand.pk, search) if search else (brand.pk,)
    shape = status if status in (CatalogStatus.ACTIVE, CatalogStatus.ARCHIVED) else "all"
    return f"ad_account_rows:{shape}:{bool(search)}", build, values


def ad_account_rows(
    *,
    user: User,
    brand: Brand,
    search: str = "",
    status: str = "active",
    role: Role | None = None,
) -> QuerySet[Any]:
    """The ad account list's rows (``values()``: the fields it prints, ``pixel_count`` and
    ``markets_joined``, see ``market_pairs``); arguments as ``ad_account_list``."""
    queryset = _ad_accounts(user=user, brand=brand, search=search, status=status, role=role)
    rows: QuerySet[Any] = queryset.annotate(
        markets_joined=_markets_of(AdAccount.markets.through, "adaccount_id")
    ).values(*_AD_ACCOUNT_ROW_FIELDS)
    return rows


def _pixels(
    *,
    user: User,
    brand: Brand,
    search: str,
    status: str,
    role: Role | None,
    facets: Mapping[str, str] | None,
) -> QuerySet[Pixel]:
    queryset = policies.pixels_for(user, brand, role=role)
    if search:
        queryset = queryset.filter(Q(name__icontains=search) | Q(external_id__icontains=search))
    for name, value in (facets or {}).items():
        condition = PIXEL_FACET_Q.get(name, {}).get(value)
        if condition is not None:
            queryset = queryset.filter(condition)
    return _status_filter(queryset, status).order_by("name")


def pixel_list(
    *,
    user: User,
    brand: Brand,
    search: str = "",
    status: str = "active",
    role: Role | None = None,
    facets: Mapping[str, str] | None = None,
) -> QuerySet[Pixel]:
    """``role``: the user's role on the brand when the caller knows it (cheaper query).
    ``facets``: ``{"token": "missing"|"set", "capi": "on"|"off", "fired": "never"|"ever"}``
    (the pixel list's chips; unknown names or values are ignored)."""
    queryset = _pixels(
        user=user, brand=brand, search=search, status=status, role=role, facets=facets
    )
    # Only the linked accounts the user may see: a narrowed media buyer never reads the
    # name of another account, not even next to a pixel they share.
    linked = Prefetch("ad_accounts", queryset=pixel_ad_accounts(user=user, brand=brand, role=role))
    return queryset.prefetch_related(linked)


def pixel_rows(
    *,
    user: User,
    brand: Brand,
    search: str = "",
    status: str = "active",
    role: Role | None = None,
    facets: Mapping[str, str] | None = None,
) -> QuerySet[Any]:
    """The pixel list's rows (``values()``: the fields it prints, ``token_is_set`` and
    ``ad_accounts_joined``: the names of the linked accounts the user may see, see
    ``joined``); arguments as ``pixel_list``."""
    queryset = _pixels(
        user=user, brand=brand, search=search, status=status, role=role, facets=facets
    )
    return _pixel_row_values(queryset, pixel_ad_accounts(user=user, brand=brand, role=role))


def _pixel_row_values(queryset: QuerySet[Pixel], linked: QuerySet[AdAccount]) -> QuerySet[Any]:
    names = (
        linked.filter(pixels=OuterRef("pk"))
        .order_by()
        .values("brand_id")
        .annotate(joined=_joined("name", "name"))
        .values("joined")
    )
    rows: QuerySet[Any] = queryset.annotate(
        token_is_set=ExpressionWrapper(~WITHOUT_TOKEN, output_field=BooleanField()),
        ad_accounts_joined=Subquery(names, output_field=CharField()),
    ).values(
        "pk",
        "name",
        "platform",
        "external_id",
        "capi_enabled",
        "last_fired_at",
        "status",
        "token_is_set",
        "ad_accounts_joined",
    )
    return rows


def pixel_rows_source(
    *,
    user: User,
    brand: Brand,
    search: str = "",
    status: str = "active",
    role: Role | None,
    facets: Mapping[str, str] | None = None,
) -> tuple[str, Callable[..., QuerySet[Any]], tuple[int | str, ...]] | None:
    """``pixel_rows`` as ``(key, build, values)`` for ``paginate_cached``, or None when it
    cannot be compiled once (a media buyer, who may be narrowed; an inactive user)."""
    if not policies.is_active_user(user):
        return None
    if not policies.is_admin(user) and (role is None or role == Role.MEDIA_BUYER):
        return None
    chosen = tuple(
        sorted(
            (name, value)
            for name, value in (facets or {}).items()
            if PIXEL_FACET_Q.get(name, {}).get(value) is not None
        )
    )

    def build(brand_id: int, *term: str) -> QuerySet[Any]:
        queryset = Pixel.objects.filter(brand_id=brand_id)
        if term:
            queryset = queryset.filter(
                Q(name__icontains=term[0]) | Q(external_id__icontains=term[0])
            )
        for name, value in chosen:
            queryset = queryset.filter(PIXEL_FACET_Q[name][value])
        queryset = _status_filter(queryset, status).order_by("name")
        return _pixel_row_values(queryset, AdAccount.objects.filter(brand_id=brand_id))

    values: tuple[int | str, ...] = (brand.pk, search) if search else (brand.pk,)
    shape = status if status in (CatalogStatus.ACTIVE, CatalogStatus.ARCHIVED) else "all"
    facet_key = ",".join(f"{name}={value}" for name, value in chosen)
    return f"pixel_rows:{shape}:{bool(search)}:{facet_key}", build, values


# What each pixel facet means, as a filter; the stat counts below use the same conditions,
# so a card's number and the rows of the list it links to cannot disagree.
WITHOUT_TOKEN = Q(access_token_encrypted="")
NEVER_FIRED = Q(last_fired_at__isnull=True)
CAPI_ON = Q(capi_enabled=True)
PIXEL_FACET_Q: dict[str, dict[str, Q]] = {
    "token": {"missing": WITHOUT_TOKEN, "set": ~WITHOUT_TOKEN},
    "capi": {"on": CAPI_ON, "off": ~CAPI_ON},
    "fired": {"never": NEVER_FIRED, "ever": ~NEVER_FIRED},
}


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


def _visible_on_brands(
    user: User,
    roles: Mapping[int, Role],
    brand_ids: Sequence[int],
    visible: Callable[[User], Q],
) -> Q:
    """Rows of ``brand_ids`` the user may see: the narrowing subqueries (``visible(user)``,
    built only when needed) only on the brands where the user is a media buyer, the only
    role that can be narrowed."""
    if policies.is_admin(user):
        return Q(any_of("brand_id", brand_ids))
    if not policies.is_active_user(user):
        return Q(pk__in=[])
    buyer = [pk for pk in brand_ids if roles.get(pk) == Role.MEDIA_BUYER]
    others = [pk for pk in brand_ids if pk in roles and roles[pk] != Role.MEDIA_BUYER]
    unknown = [pk for pk in brand_ids if pk not in roles]  # role not known: ask the policy
    condition = Q(any_of("brand_id", others)) if others else Q(pk__in=[])
    if buyer or unknown:
        condition |= Q(any_of("brand_id", [*buyer, *unknown])) & visible(user)
    return condition


PIXEL_COUNT_NAMES = ("active", "with_capi", "without_capi", "without_token", "never_fired")


def catalog_counts_by_brand(
    *,
    user: User,
    brand_ids: Sequence[int],
    roles: Mapping[int, Role],
    ad_account_brand_ids: Sequence[int] = (),
) -> dict[int, dict[str, int]]:
    """For each brand of ``brand_ids``, counts of the active pixels the user may see:
    ``active``, ``with_capi``, ``without_capi``, ``without_token``, ``never_fired``; and for
    each brand of ``ad_account_brand_ids`` also ``active_ad_accounts``, the active ad
    accounts the user may see. ONE query for any number of brands (two grouped aggregates
    joined by UNION ALL when ad accounts are asked for). A brand with nothing to count is
    missing from the map. ``roles``: the user's role per brand id (empty for an admin); a
    brand missing from it is narrowed as the policy says."""
    if not brand_ids and not ad_account_brand_ids:
        return {}
    active = Q(status=CatalogStatus.ACTIVE)
    zero = Value(0, output_field=IntegerField())
    # ``without_capi`` is ``active - with_capi`` (``capi_enabled`` is never NULL: the same
    # rows as the ``capi=off`` facet's ``~CAPI_ON``), one aggregate less to build.
    names = ("active", "with_capi", "without_token", "never_fired", "active_ad_accounts")
    pixel_visible = _visible_on_brands(user, roles, brand_ids, policies.pixel_visible_q)
    pixels = (
        Pixel.objects.filter(pixel_visible, active)
        .order_by()
        .values("brand_id")
        .annotate(
            active=Count("pk"),
            with_capi=Count("pk", filter=CAPI_ON),
            without_token=Count("pk", filter=WITHOUT_TOKEN),
            never_fired=Count("pk", filter=NEVER_FIRED),
            active_ad_accounts=zero,
        )
        .values_list("brand_id", *names)
    )
    rows = pixels
    if ad_account_brand_ids:
        account_visible = _visible_on_brands(
            user, roles, ad_account_brand_ids, policies.ad_account_visible_q
        )
        accounts = (
            AdAccount.objects.filter(account_visible, active)
            .order_by()
            .values("brand_id")
            .annotate(**dict.fromkeys(names[:-1], zero), active_ad_accounts=Count("pk"))
            .values_list("brand_id", *names)
        )
        rows = pixels.union(accounts, all=True).order_by()
    counts: dict[int, dict[str, int]] = {}
    with_accounts = set(ad_account_brand_ids)
    for brand_id, n_active, with_capi, without_token, never_fired, n_accounts in rows:
        brand_counts = counts.get(brand_id)
        if brand_counts is None:  # a brand's pixel row, its ad account row, or both
            brand_counts = counts[brand_id] = dict.fromkeys(PIXEL_COUNT_NAMES, 0)
            if brand_id in with_accounts:
                brand_counts["active_ad_accounts"] = 0
        brand_counts["active"] += n_active
        brand_counts["with_capi"] += with_capi
        brand_counts["without_capi"] += n_active - with_capi
        brand_counts["without_token"] += without_token
        brand_counts["never_fired"] += never_fired
        if n_accounts:
            brand_counts["active_ad_accounts"] += n_accounts
    return counts


def pixel_counts_by_brand(
    *, user: User, brand_ids: Sequence[int], roles: Mapping[int, Role]
) -> dict[int, dict[str, int]]:
    """For each brand, counts of the active pixels the user may see: ``active``,
    ``with_capi``, ``without_capi``, ``without_token``, ``never_fired``. One grouped
    query for any number of brands (``catalog_counts_by_brand`` without ad accounts)."""
    return catalog_counts_by_brand(user=user, brand_ids=brand_ids, roles=roles)


def active_counts_by_brand(
    *, user: User, brand_ids: Sequence[int], roles: Mapping[int, Role]
) -> dict[int, tuple[int, int]]:
    """For each brand, (active ad accounts, active pixels) the user may see: one query
    for any number of brands. A page that also shows the pixel facets reads both from one
    ``catalog_counts_by_brand``."""
    counts = catalog_counts_by_brand(
        user=user, brand_ids=brand_ids, roles=roles, ad_account_brand_ids=brand_ids
    )
    return {pk: (row.get("active_ad_accounts", 0), row["active"]) for pk, row in counts.items()}


STAT_NAMES = (
    "active_ad_accounts",
    "active_pixels",
    "pixels_with_capi",
    "pixels_without_capi",
    "pixels_without_token",
    "pixels_never_fired",
)


def stats_from_counts(counts: Mapping[str, int] | None) -> dict[str, int]:
    """The overview's stat cards from one brand's ``catalog_counts_by_brand`` row (read
    with the brand in ``ad_account_brand_ids``); ``None``: nothing to count."""
    counts = counts or {}
    return {
        "active_ad_accounts": counts.get("active_ad_accounts", 0),
        "active_pixels": counts.get("active", 0),
        "pixels_with_capi": counts.get("with_capi", 0),
        "pixels_without_capi": counts.get("without_capi", 0),
        "pixels_without_token": counts.get("without_token", 0),
        "pixels_never_fired": counts.get("never_fired", 0),
    }


def brand_stats(*, user: User, brand: Brand, role: Role | None = None) -> dict[str, int]:
    """Counts for the overview's stat cards, of what the user may see: one query,
    whatever the size. Each pixel count uses the condition of the pixel list's facet its
    card links to. ``role``: as in ``pixel_list`` (skips the narrowing subqueries for
    roles that cannot be narrowed)."""
    roles = {brand.pk: role} if role is not None else {}
    counts = catalog_counts_by_brand(
        user=user, brand_ids=[brand.pk], roles=roles, ad_account_brand_ids=[brand.pk]
    )
    return stats_from_counts(counts.get(brand.pk))


def last_change(*, obj: Brand | AdAccount | Pixel) -> ActivityEntry | None:
    """The latest activity row about ``obj``: who changed it last, and when (for the
    "changed by … meanwhile" notice of a refused stale edit)."""
    return (
        ActivityEntry.objects.filter(target_type=obj._meta.label_lower, target_id=str(obj.pk))
        .order_by("-id")
        .first()
    )
