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

# The start page lists this many brands (the brand list has them all), and the items of
# this many brands in full; further brands with items are named in one line.
BRAND_ROWS = 50
ATTENTION_BRANDS = 20


@require_GET
def home(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    brands, roles = selectors.brands_with_roles(user=user)
    items = attention.collect(user=user, brands=brands, roles=roles)
    groups = attention.by_brand(items)
    shown = brands[:BRAND_ROWS]
    ids = [brand.pk for brand in shown]
    pixels = catalog_selectors.pixel_counts_by_brand(user=user, brand_ids=ids, roles=roles)
    accounts = catalog_selectors.ad_account_counts_by_brand(user=user, brand_ids=ids, roles=roles)
    attention_counts = {group.brand.pk: len(group.items) for group in groups}
    rows = [
        {
            "brand": brand,
            "role": roles.get(brand.pk),
            "ad_accounts": accounts.get(brand.pk, 0),
            "pixels": pixels.get(brand.pk, {}).get("active", 0),
            "attention": attention_counts.get(brand.pk, 0),
        }
        for brand in shown
    ]
    context = {
        "groups": groups[:ATTENTION_BRANDS],
        "more_groups": groups[ATTENTION_BRANDS:],
        "rows": rows,
        "brand_count": len(brands),
        "more_brands": max(len(brands) - BRAND_ROWS, 0),
        "is_admin": policies.is_admin(user),
        "can_create_brand": policies.can_create_brand(user),
    }
    return render(request, "dashboard/home.html", context)
