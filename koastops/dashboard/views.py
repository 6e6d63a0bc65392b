"""The start page: what needs attention across every brand the user may see, and their
brands at a glance (constant queries for any number of brands)."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from koastops.accounts import policies
from koastops.accounts.http import AuthenticatedRequest
from koastops.catalog import attention as catalog_attention
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
    shown = brands[:BRAND_ROWS]
    with attention.sharing():
        # The brand table's counts and the catalog provider's pixel facets: one query.
        counts = catalog_attention.brand_counts(
            user=user, brands=brands, roles=roles, ad_accounts_of=[brand.pk for brand in shown]
        )
        items = attention.collect(user=user, brands=brands, roles=roles)
    panel = panel_context(
        items,
        show_brand=True,
        empty_text="Nothing needs attention on your brands right now.",
        limit=ATTENTION_BRANDS,
        more_limit=MORE_NAMES,
    )
    attention_counts = {group.brand.pk: len(group.items) for group in panel["all_groups"]}
    overview = attention.slug_url("catalog:brand_detail")
    nothing: dict[str, int] = {}
    rows = [
        {
            "brand": brand,
            "url": overview(brand.slug),
            "role": roles.get(brand.pk),
            "ad_accounts": counts.get(brand.pk, nothing).get("active_ad_accounts", 0),
            "pixels": counts.get(brand.pk, nothing).get("active", 0),
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
