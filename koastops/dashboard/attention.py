"""The "needs attention" registry: what the start page and a brand's overview point at.

Any app adds its items by registering a *provider* in its own ``<app>/attention.py``
(found at start-up by ``DashboardConfig.ready``, like ``admin`` modules)::

    from koastops.dashboard import attention

    @attention.register("taxonomy.plan_drift")
    def plan_drift(*, user, brands, roles):
        plan = attention.slug_url("taxonomy:plan")
        counts = selectors.drift_counts_by_brand(user=user, brand_ids=[b.pk for b in brands], ...)
        for brand in brands:
            if n := counts.get(brand.pk):
                yield attention.AttentionItem(brand=brand, tone="warning", count=n,
                                              href=plan(brand.slug) + "?drift=yes", ...)

(``docs/architecture.md``, "Needs attention", has the whole recipe.)

A page that shows more than the panel can read what a provider reads in the same query:
inside ``with attention.sharing():`` a read made through ``attention.shared(key, read)``
runs once per key, so the start page's brand table and the catalog provider share one
grouped query of counts (``koastops.catalog.attention.brand_counts``). Outside such a
block ``shared`` just reads: a provider works the same either way.

A provider is called with keyword arguments:

- ``user``: the signed-in user;
- ``brands``: a list of the active brands the user may see (``policies.brands_for``)
  that the page is about — every one on the start page, one on an overview;
- ``roles``: the user's role per brand id (``{brand.pk: Role}``); empty for an admin, who
  holds no role but may see everything. Pass it on to selectors so they skip the
  narrowing subqueries for the roles that cannot be narrowed.

It returns (or yields) ``AttentionItem``s, only about ``brands`` and only counting what
the user may see. It must run in a constant number of queries for any number of brands
(one grouped aggregate, ``Count(..., filter=Q(...))`` per brand, not a query per brand):
the start page tests assert the same count for 1 and 50 brands. A provider that has
nothing to say for a user (e.g. admin-only items) returns early without a query.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    from koastops.accounts.models import Role
    from koastops.catalog.models import Brand

Tone = Literal["failing", "warning"]
TONE_RANK: dict[str, int] = {"failing": 0, "warning": 1}


@dataclass(slots=True)  # not frozen: a page builds hundreds; treat them as read-only
class AttentionItem:
    """One thing to fix on one brand, e.g. "3 pixels have no access token".

    ``tone``: "failing" (something does not work) or "warning" (works, but badly);
    ``title``: what, with the count in words; ``detail``: why it matters; ``href``: the
    filtered list that shows exactly the ``count`` objects; ``who``: who can fix it
    (optional, shown to everyone so a reader who cannot fix it knows whom to ask);
    ``key``: a stable id ("<app>.<what>") for tests and styling."""

    brand: Brand
    tone: Tone
    title: str
    detail: str
    href: str
    count: int
    key: str
    who: str = ""


class Provider(Protocol):
    def __call__(
        self, *, user: Any, brands: Sequence[Brand], roles: Mapping[int, Role]
    ) -> Iterable[AttentionItem]: ...


_PROVIDERS: dict[str, Provider] = {}


def register(name: str) -> Callable[[Provider], Provider]:
    """Decorator: add ``provider`` under ``name`` ("<app>.<what>"); registering a name
    again replaces the provider (a module imported twice does not double its items)."""

    def decorator(provider: Provider) -> Provider:
        _PROVIDERS[name] = provider
        return provider

    return decorator


def unregister(name: str) -> None:
    _PROVIDERS.pop(name, None)


def providers() -> dict[str, Provider]:
    """The registered providers by name (a copy)."""
    return dict(_PROVIDERS)


def slug_url(name: str) -> Callable[[str], str]:
    """``reverse()`` once for a URL that takes a brand slug, then ``slug -> url`` by
    substitution (a slug needs no quoting): providers build an ``href`` per brand without
    resolving the URL per brand, e.g. ``pixels = attention.slug_url("catalog:pixel_list")``
    then ``pixels(brand.slug) + "?token=missing"``."""
    from django.urls import reverse

    marker = "zz-slug-placeholder-0"
    pattern = reverse(name, args=[marker])
    return lambda slug: pattern.replace(marker, slug, 1)


_SHARED: ContextVar[dict[Hashable, Any] | None] = ContextVar("attention_shared", default=None)


@contextmanager
def sharing() -> Iterator[None]:
    """Within the block, ``shared(key, read)`` reads each key once (a page and the
    providers it calls share their reads); the values are dropped when the block ends."""
    token = _SHARED.set({})
    try:
        yield
    finally:
        _SHARED.reset(token)


def shared[T](
    key: Hashable, read: Callable[[], T], *, reuse: Callable[[T], bool] | None = None
) -> T:
    """``read()``, or within ``sharing()`` the value read before under ``key`` (when
    ``reuse(value)`` says it will do; by default it does). ``key`` must name everything the
    value depends on (the user, the brand ids, …)."""
    memo = _SHARED.get()
    if memo is None:
        return read()
    if key in memo and (reuse is None or reuse(memo[key])):
        return memo[key]
    value = memo[key] = read()
    return value


def _urgency(item: AttentionItem) -> tuple[int, int, str]:
    return (TONE_RANK.get(item.tone, len(TONE_RANK)), -item.count, item.title)


def collect(
    *, user: Any, brands: Sequence[Brand], roles: Mapping[int, Role]
) -> list[AttentionItem]:
    """Every provider's items about ``brands``, most urgent first (failing before
    warning, then the larger count)."""
    brands = list(brands)
    if not brands:
        return []
    items = [
        item
        for provider in _PROVIDERS.values()
        for item in provider(user=user, brands=brands, roles=roles)
        if item.count > 0
    ]
    return sorted(items, key=_urgency)


@dataclass
class BrandAttention:
    """The items of one brand, for the start page's panel."""

    brand: Brand
    items: list[AttentionItem] = field(default_factory=list)
    url: str = ""  # the brand's overview (set by the page that shows the group)

    @property
    def tone(self) -> Tone:
        return "failing" if any(item.tone == "failing" for item in self.items) else "warning"


def by_brand(items: Iterable[AttentionItem]) -> list[BrandAttention]:
    """``items`` grouped by brand, the most urgent brand first (one with a failing item
    before one with warnings only, then the larger total, then the name); within a brand
    the items keep their order of urgency."""
    groups: dict[int, BrandAttention] = {}
    for item in sorted(items, key=_urgency):
        group = groups.get(item.brand.pk)
        if group is None:
            group = groups[item.brand.pk] = BrandAttention(item.brand)
        group.items.append(item)
    return sorted(
        groups.values(),
        key=lambda group: (
            # Items are in order of urgency: a failing item, if any, comes first.
            TONE_RANK["failing" if group.items[0].tone == "failing" else "warning"],
            -sum(item.count for item in group.items),
            group.brand.name.lower(),
        ),
    )
