"""The catalog's "needs attention" items (see ``koastops.dashboard.attention``): pixels
without an access token, pixels that never fired, pixels with Conversions API off. One
grouped query for any number of brands, counting only the pixels the user may see; a page
that also shows counts (the start page's brand table, the overview's stat cards) reads them
in the same query through ``brand_counts``."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from koastops.accounts.models import Role
from koastops.catalog import selectors
from koastops.catalog.models import Brand
from koastops.dashboard import attention


def brand_counts(
    *,
    user: Any,
    brands: Sequence[Brand],
    roles: Mapping[int, Role],
    ad_accounts_of: Sequence[int] = (),
) -> dict[int, dict[str, int]]:
    """``selectors.catalog_counts_by_brand`` for ``brands`` (with the active ad accounts of
    the brand ids ``ad_accounts_of``), read once within ``attention.sharing()``: a page
    calls it before ``attention.collect`` and the provider below reuses the result."""
    brand_ids = tuple(brand.pk for brand in brands)
    wanted = frozenset(ad_accounts_of)

    def read() -> tuple[frozenset[int], dict[int, dict[str, int]]]:
        return wanted, selectors.catalog_counts_by_brand(
            user=user, brand_ids=brand_ids, roles=roles, ad_account_brand_ids=sorted(wanted)
        )

    key = ("catalog.counts", getattr(user, "pk", None), brand_ids)
    _, counts = attention.shared(key, read, reuse=lambda value: wanted <= value[0])
    return counts


def _pixels(count: int) -> str:
    return "1 pixel" if count == 1 else f"{count} pixels"


@attention.register("catalog.pixels")
def pixel_items(
    *, user: Any, brands: Sequence[Brand], roles: Mapping[int, Role]
) -> Iterator[attention.AttentionItem]:
    pixel_list = attention.slug_url("catalog:pixel_list")
    counts = brand_counts(user=user, brands=brands, roles=roles)
    for brand in brands:
        stats = counts.get(brand.pk)
        if not stats:
            continue
        url = pixel_list(brand.slug)
        if n := stats["without_token"]:
            yield attention.AttentionItem(
                brand=brand,
                key="catalog.pixels_without_token",
                tone="failing",
                title=f"{_pixels(n)} {'has' if n == 1 else 'have'} no access token",
                detail="Their event statistics cannot be read.",
                who="Ops leads set a token on the pixel's page.",
                href=f"{url}?token=missing",
                count=n,
            )
        if n := stats["never_fired"]:
            yield attention.AttentionItem(
                brand=brand,
                key="catalog.pixels_never_fired",
                tone="warning",
                title=f"{_pixels(n)} never fired",
                detail="No event has reached them yet: check that they are installed on the site.",
                who="Whoever installs the brand's site tags can check; the pixel's page shows its id.",
                href=f"{url}?fired=never",
                count=n,
            )
        if n := stats["without_capi"]:
            yield attention.AttentionItem(
                brand=brand,
                key="catalog.pixels_without_capi",
                tone="warning",
                title=f"{_pixels(n)} without Conversions API",
                detail="They receive browser events only, which ad blockers and lost cookies drop.",
                who="Ops leads switch it on in the pixel's settings once server events are set up.",
                href=f"{url}?capi=off",
                count=n,
            )
