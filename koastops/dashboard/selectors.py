"""Reads of the start page: the brands the user may see with their role, in one query."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

from django.db import router
from django.db.models import OuterRef, Subquery
from django.db.models.base import ModelState

from koastops.accounts import policies
from koastops.accounts.models import Membership, Role, User
from koastops.catalog.models import Brand, CatalogStatus

# The brand fields the start page and the providers read (pk, name, slug; status). The
# others are deferred: a provider that reads one more field still gets it (Django loads
# it), but 200 brands cost no timestamps to parse nor full model rows to build.
BRAND_FIELDS = ["id", "name", "slug", "status"]
NAV_BRANDS = 50  # as the ``navigation`` context processor: the switcher's first 50


class NavBrand(NamedTuple):
    """A brand of the layout's switcher: ``(pk, name, slug)``, also read by attribute."""

    pk: int
    name: str
    slug: str


@dataclass
class StartBrands:
    brands: list[Brand]  # the active brands the user may see, by name
    roles: dict[int, Role]  # the user's role per brand id (empty for an admin)
    nav_brands: list[NavBrand]  # the first 50 of every brand the user may see, by name


def _light_brand(db: str, pk: int, name: str, slug: str, status: str) -> Brand:
    """A Brand with only these fields loaded, as ``Brand.from_db`` with ``only()`` gives it
    (any other field loads on first access, as a deferred field does), without running
    ``Model.__init__`` and the init signals per row: the start page builds one per brand
    (200 for a many-brand ops lead), and nothing listens to Brand's init signals."""
    brand = Brand.__new__(Brand)
    brand.__dict__.update(id=pk, name=name, slug=slug, status=status)
    brand._state = ModelState()
    brand._state.adding = False
    brand._state.db = db
    return brand


def start_brands(*, user: User) -> StartBrands:
    """``brands_with_roles`` and the brand switcher's ``nav_brands`` (the ``navigation``
    context processor's first 50 of ``policies.brands_for``, archived ones included)
    from ONE query: the start page hands the switcher these instead of it asking again."""
    everything = policies.brands_for(user).order_by("name")
    db = router.db_for_read(Brand)
    brands: list[Brand] = []
    roles: dict[int, Role] = {}
    nav: list[NavBrand] = []
    rows: Iterable[tuple[Any, ...]]
    if policies.is_admin(user):  # no role to read
        rows = ((*row, None) for row in everything.values_list(*BRAND_FIELDS))
    else:
        role = Membership.objects.filter(user=user, brand=OuterRef("pk")).values("role")[:1]
        rows = everything.annotate(my_role=Subquery(role)).values_list(*BRAND_FIELDS, "my_role")
    for *values, role_value in rows:
        pk, name, slug, status = values
        if len(nav) < NAV_BRANDS:
            nav.append(NavBrand(pk, name, slug))
        if status != CatalogStatus.ACTIVE:
            continue
        brands.append(_light_brand(db, pk, name, slug, status))
        # A grant without its membership row cannot happen (they are written together);
        # such a brand would be left out of the map and narrowed as the policy says.
        if role_value:
            roles[pk] = Role(role_value)
    return StartBrands(brands, roles, nav)


def brands_with_roles(*, user: User) -> tuple[list[Brand], dict[int, Role]]:
    """The active brands the user may see (``policies.brands_for``), by name, and the
    user's role on each by brand id (the membership row, as ``policies.role_for`` reads
    it). One query. An admin sees every brand and needs no role: an empty map."""
    found = start_brands(user=user)
    return found.brands, found.roles


# --- "What needs me now" ------------------------------------------------------------------


@dataclass(frozen=True)
class NeedKind:
    """One line of the start page's "What needs me now": the attention items of these
    ``keys`` summed across the user's brands. ``all_url``: a link that shows them on every
    brand at once, when there is one (the approval queue)."""

    keys: tuple[str, ...]
    label: str
    all_url_name: str = ""


NEEDS_ME_NOW: tuple[NeedKind, ...] = (
    NeedKind(
        ("launches.awaiting_review",), "Launches awaiting your review", "launches_global:queue"
    ),
    NeedKind(("launches.needs_changes",), "Your launches needing changes"),
    NeedKind(("launches.regressed",), "Live launches with a check that now fails"),
    NeedKind(("consent.needs_review",), "Consent reviews due"),
    NeedKind(("quality.open_alerts",), "Open alerts"),
    # Silent, disconnected, low EMQ or low dedup coverage (a broken connection is one of
    # the problems: ``quality.connection_broken`` counts a subset, so it is not added).
    NeedKind(("quality.problems",), "Pixels silent or with event-quality problems"),
    NeedKind(("launches.ready",), "Your launches ready to submit"),
)
NEEDS_ME_BRANDS = 5  # brand links per line, then "and N more"


@dataclass
class NeedLine:
    key: str
    label: str
    count: int
    tone: str
    all_url: str
    brands: list[tuple[str, int, str]]  # (brand name, count, link) of the first brands
    more: int  # brands with items beyond those


def needs_me_now(items: Iterable[Any]) -> list[NeedLine]:
    """The personal summary of the start page from the attention items it collected (no
    query): per kind of ``NEEDS_ME_NOW`` that has any, the total across brands, the
    brands with the most first (each linked to its filtered list), failing if any is."""
    from django.urls import reverse

    by_key: dict[str, list[Any]] = {}
    for item in items:
        by_key.setdefault(item.key, []).append(item)
    lines = []
    for kind in NEEDS_ME_NOW:
        found = [item for key in kind.keys for item in by_key.get(key, ())]
        if not found:
            continue
        found.sort(key=lambda item: (-item.count, item.brand.name.lower()))
        lines.append(
            NeedLine(
                key=kind.keys[0],
                label=kind.label,
                count=sum(item.count for item in found),
                tone="failing" if any(item.tone == "failing" for item in found) else "warning",
                all_url=reverse(kind.all_url_name) if kind.all_url_name else "",
                brands=[
                    (item.brand.name, item.count, item.href) for item in found[:NEEDS_ME_BRANDS]
                ],
                more=max(len(found) - NEEDS_ME_BRANDS, 0),
            )
        )
    return lines
