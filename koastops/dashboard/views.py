"""The start page: what needs attention across every brand the user may see, and their
brands at a glance (constant queries for any number of brands)."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.shortcuts import render
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET

from koastops.accounts import policies
from koastops.accounts.http import AuthenticatedRequest
from koastops.accounts.models import Role
from koastops.catalog import attention as catalog_attention
from koastops.consent import attention as consent_attention
from koastops.consent import content as consent_content
from koastops.dashboard import attention, selectors
from koastops.dashboard.panel import panel_context

# The start page lists this many brands (the brand list has them all), and the items of
# this many brands in full; further brands with items are named in one line (at most
# MORE_NAMES of them, then "and N more"): the page stays short and cheap with 200 brands.
BRAND_ROWS = 25
ATTENTION_BRANDS = 10
MORE_NAMES = 30
# The legal reviewer's "Consent reviews" section: this many brands, then "and N more".
REVIEW_ROWS = 25


def _row_html(row: dict[str, Any], *, role_label: str) -> SafeString:
    """One ``<tr>`` of the brand table (name linked to the overview, role, counts; a
    muted dash for nothing to fix), every value escaped: 25 rows of template variables
    cost more than the rest of the page's own markup."""
    attention_cell = row["attention"] or '<span class="muted">—</span>'
    return mark_safe(  # noqa: S308 - every value is escaped
        f'<tr><th scope="row"><a href="{escape(row["url"])}">{escape(row["brand"].name)}</a></th>'
        f"<td>{escape(role_label)}</td>"
        f'<td class="num">{row["ad_accounts"]:d}</td><td class="num">{row["pixels"]:d}</td>'
        f'<td class="num">{attention_cell}</td></tr>'
    )


def _consent_reviews(brands: list[Any], counts: dict[int, dict[str, int]]) -> dict[str, Any] | None:
    """The legal reviewer's section: per brand they review, its configs per status (each
    linked to the brand's matrix filtered by it), the brands needing them most first."""
    if not brands:
        return None
    matrix = attention.slug_url("consent:matrix")
    nothing: dict[str, int] = {}
    rows = []
    for brand in brands:
        brand_counts = counts.get(brand.pk, nothing)
        url = matrix(brand.slug)
        rows.append(
            {
                "brand": brand,
                "url": url,
                "needs": consent_attention.needs_review(brand_counts),
                "cells": [
                    {
                        "status": key,
                        "label": consent_content.STATUSES[key],
                        "count": brand_counts.get(key, 0),
                        "url": f"{url}?status={key}",
                    }
                    for key in consent_attention.START_STATUSES
                ],
            }
        )
    rows.sort(key=lambda row: (-row["needs"], row["brand"].name.lower()))
    return {
        "rows": rows[:REVIEW_ROWS],
        "more": max(len(rows) - REVIEW_ROWS, 0),
        "total": sum(row["needs"] for row in rows),
        "headers": [consent_content.STATUSES[key] for key in consent_attention.START_STATUSES],
    }


@require_GET
def home(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    found = selectors.start_brands(user=user)
    brands, roles = found.brands, found.roles
    shown = brands[:BRAND_ROWS]
    with attention.sharing():
        # The brand table's counts and the catalog provider's pixel facets: one query.
        counts = catalog_attention.brand_counts(
            user=user, brands=brands, roles=roles, ad_accounts_of=[brand.pk for brand in shown]
        )
        reviewing = [brand for brand in brands if roles.get(brand.pk) == Role.LEGAL_REVIEWER]
        # The consent provider's counts, read here first: the section costs no query.
        consent_counts = consent_attention.status_counts(brands) if reviewing else {}
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
    is_admin = policies.is_admin(user)
    nothing: dict[str, int] = {}
    rows = []
    for brand in shown:
        brand_counts = counts.get(brand.pk, nothing)
        role = roles.get(brand.pk)
        row = {
            "brand": brand,
            "url": overview(brand.slug),
            "role": role,
            "ad_accounts": brand_counts.get("active_ad_accounts", 0),
            "pixels": brand_counts.get("active", 0),
            "attention": attention_counts.get(brand.pk, 0),
        }
        row["html"] = _row_html(row, role_label=role.label if role else "Admin" if is_admin else "")
        rows.append(row)
    context = {
        "consent_reviews": _consent_reviews(reviewing, consent_counts),
        # "What needs me now": the same items summed per kind across brands (no query).
        "needs_me": selectors.needs_me_now(items),
        "panel": panel,
        "rows": rows,
        "brand_count": len(brands),
        "more_brands": max(len(brands) - BRAND_ROWS, 0),
        "is_admin": is_admin,
        "can_create_brand": policies.can_create_brand(user),
        # The layout's brand switcher (the ``navigation`` context processor's value, read
        # here in the same query as the page's brands instead of one more).
        "nav_brands": found.nav_brands,
    }
    return render(request, "dashboard/home.html", context)
