"""Event quality's "needs attention" items (see ``koastops.dashboard.attention``): the
pixels with a problem (connection broken, silent, EMQ or dedup coverage below the
brand's threshold: the ``problems`` the pulls write on each ``PixelConnection``), per
brand, counting only the pixels the user may see. ONE grouped query for any number of
brands (``selectors.problem_counts_by_brand``). Open alerts are ``attention_alerts``'
item, registered when this module is imported."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from koastops.accounts import policies
from koastops.accounts.models import Role
from koastops.catalog.models import Brand
from koastops.dashboard import attention
from koastops.quality import (
    attention_alerts,  # noqa: F401 -- registers the open-alerts item
    selectors,
)


def _pixels(n: int) -> str:
    return "1 pixel" if n == 1 else f"{n} pixels"


@attention.register("quality.pixels")
def quality_items(
    *, user: Any, brands: Sequence[Brand], roles: Mapping[int, Role]
) -> Iterator[attention.AttentionItem]:
    if not policies.is_admin(user) and not roles:
        return
    # Only brands whose role reads quality (every role does today; the check keeps it so).
    visible = [
        brand
        for brand in brands
        if policies.can(user, "quality.view", brand, role=roles.get(brand.pk))
    ]
    counts = selectors.problem_counts_by_brand(
        user=user, brand_ids=[brand.pk for brand in visible], roles=roles
    )
    if not counts:
        return
    table = attention.slug_url("quality:pixels")
    for brand in visible:
        found = counts.get(brand.pk)
        if not found:
            continue
        url = table(brand.slug)
        if n := found["broken"]:
            yield attention.AttentionItem(
                brand=brand,
                key="quality.connection_broken",
                tone="failing",
                title=f"{_pixels(n)} cannot be read: connection broken",
                detail="The platform refused their access token; their stats are not updated.",
                who="Ops leads set a new access token on the pixel's page.",
                href=f"{url}?show=broken",
                count=n,
            )
        if n := found["problems"]:
            yield attention.AttentionItem(
                brand=brand,
                key="quality.problems",
                tone="warning",
                title=f"{_pixels(n)} {'has' if n == 1 else 'have'} event-quality problems",
                detail="Broken connection, silent, low Event Match Quality or low dedup coverage: "
                "each row says which.",
                who="Whoever runs the brand's tags and Conversions API can fix them.",
                href=f"{url}?show=problems",
                count=n,
            )
