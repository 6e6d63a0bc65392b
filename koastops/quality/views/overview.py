"""The cross-brand quality table at ``/quality/``: every active pixel of every brand the
user holds a role on (a narrowed media buyer only theirs), one query for the rows and
one for the brand filter, whatever the number of brands and pixels."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.urls import path
from django.views.decorators.http import require_GET

from koastops.accounts import policies
from koastops.accounts.http import AuthenticatedRequest
from koastops.core.htmx import render_page
from koastops.core.links import fast_reverse
from koastops.core.pagination import paginate
from koastops.quality import selectors, tables


@require_GET
@login_required
def all_pixels(request: AuthenticatedRequest) -> HttpResponse:
    query = tables.parse(request.GET, default_sort="brand")
    brands = policies.switcher_brands(request.user)  # (pk, name, slug), the first 50
    rows = selectors.all_pixel_rows(
        user=request.user,
        brand_slug=query.brand,
        search=query.search,
        show=query.show,
        sort=query.sort,
    )
    page = paginate(request, rows)
    for row in page.object_list:
        tables.decorate(row, slug=row["brand__slug"], cross_brand=True)
    list_url = fast_reverse("quality_all:pixels")
    context = {
        "page": page,
        "query": query,
        "chips": tables.show_chips(request.GET, list_url, query.show),
        "headers": tables.sort_headers(request.GET, list_url, query.sort),
        "name_sort_url": tables._link(
            request.GET, list_url, sort="-name" if query.sort == "name" else "name"
        ),
        "list_url": list_url,
        "brands": brands,
        "cross_brand": True,
        "thresholds": None,
    }
    return render_page(request, "quality/overview.html", context, partial="quality-table")


urlpatterns: list = [path("", all_pixels, name="pixels")]
