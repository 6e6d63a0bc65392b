"""The start page: what needs attention across every brand the user may see, and their
brands at a glance (constant queries for any number of brands)."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from koastops.accounts import policies
from koastops.accounts.http import AuthenticatedRequest
from koastops.catalog import selectors as catalog_selectors
from koastops.dashboard import attention, selectors
from koastops.dashboard.panel import panel_context

# The start page lists this many brands (the brand list has them all), and the items of
# this many brands in full; further brands with items are named in one line (at most
# MORE_NAMES of them, then "and N more"): the page stays short and cheap with 200 brands.
BRAND_ROWS = 25
ATTENTION_BRANDS = 10
MORE_NAMES = 30


@require_GET
def home(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    brands, roles = selectors.brands_with_roles(user=user)
    items = attention.collect(user=user, brands=brands, roles=roles)
    panel = panel_context(
        items,
        show_brand=True,
        empty_text="Nothing needs attention on your brands right now.",
        limit=ATTENTION_BRANDS,
        more_limit=MORE_NAMES,
    )
    shown = brands[:BRAND_ROWS]
    ids = [brand.pk for brand in shown]
    counts = catalog_selectors.active_counts_by_brand(user=user, brand_ids=ids, roles=roles)
    attention_counts = {group.brand.pk: len(group.items) for group in panel["all_groups"]}
    overview = attention.slug_url("catalog:brand_detail")
    rows = [
        {
            "brand": brand,
            "url": overview(brand.slug),
            "role": roles.get(brand.pk),
            "ad_accounts": counts.get(brand.pk, (0, 0))[0],
            "pixels": counts.get(brand.pk, (0, 0))[1],
            "attention": attention_counts.get(brand.pk, 0),
        }
        for brand in shown
    ]
    context = {
        "panel": panel,
        "rows": rows,
        "brand_count": len(brands),
        "more_brands": max(len(brands) - BRAND_ROWS, 0),
        "is_admin": policies.is_admin(user),
        "can_create_brand": policies.can_create_brand(user),
    }
    return render(request, "dashboard/home.html", context)
