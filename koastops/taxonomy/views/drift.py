"""Taxonomy pages: drift (see koastops/taxonomy/urls.py).

The drift page lists what ``koastops.taxonomy.drift.drift_for`` finds in the brand's
tracking plan, grouped by kind with a stat card per kind; every role of the brand reads it
(``taxonomy.view``), and it changes nothing.
"""

from __future__ import annotations

from django.http import HttpResponse
from django.urls import NoReverseMatch, URLPattern, path
from django.views.decorators.http import require_GET

from koastops.accounts import policies
from koastops.accounts.http import AuthenticatedRequest
from koastops.accounts.models import Role
from koastops.catalog.models import Brand
from koastops.core.htmx import render_page
from koastops.core.links import fast_reverse
from koastops.taxonomy import drift as drift_module


def _url_or_none(name: str, slug: str) -> str | None:
    # The plan list and the naming pages are other parts of the feature: link them once
    # they exist.
    try:
        return fast_reverse(name, [slug])
    except NoReverseMatch:
        return None


@require_GET
@policies.brand_capability("taxonomy.view")
def drift(request: AuthenticatedRequest, *, brand: Brand, role: Role | None) -> HttpResponse:
    report = drift_module.drift_report(brand)
    groups = drift_module.drift_groups(report.items)
    context = {
        "brand": brand,
        "tab": "plan",
        "groups": groups,
        "total": len(report.items),
        "has_event_rule": report.has_event_rule,
        "event_count": report.events,
        "can_manage": policies.can(request.user, "taxonomy.manage", brand, role=role),
        "plan_url": _url_or_none("taxonomy:plan", brand.slug),
        "naming_url": _url_or_none("taxonomy:naming", brand.slug),
    }
    return render_page(request, "taxonomy/drift.html", context, partial="drift-list")


urlpatterns: list[URLPattern] = [
    path("plan/drift/", drift, name="drift"),
]
