"""Brands and their catalog: ad accounts and pixels. Reads only, scoped by ``policies``
through the catalog selectors (constant queries per page)."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpResponse
from ninja import Query, Router

from koastops.accounts.http import ApiRequest
from koastops.api.common import brand_with_capability, responses
from koastops.api.pagination import paginate
from koastops.api.schemas import AdAccountPage, BrandOut, BrandPage, CatalogFilters, PixelPage
from koastops.catalog import selectors

router = Router(tags=["brands"])


@router.get("/brands", response=responses({200: BrandPage}, errors=(401, 422)))
def brand_list(request: ApiRequest, filters: Query[CatalogFilters]) -> dict[str, Any]:
    """The brands the token's user holds a role on (every brand for admins)."""
    queryset = selectors.brand_list(user=request.auth, search=filters.q, status=filters.status)
    return paginate(queryset, filters)


@router.get("/brands/{slug}", response=responses({200: BrandOut}, errors=(401, 403, 404)))
def brand_detail(request: ApiRequest, slug: str, response: HttpResponse) -> Any:
    """One brand, with its version as ETag (send it back as If-Match to change it)."""
    brand_with_capability(request, slug, "brand.view")
    brand = selectors.brand_list(user=request.auth, status="all").filter(slug=slug).first()
    if brand is None:  # only if it was deleted in between
        raise Http404
    response["ETag"] = f'"{brand.version}"'
    return brand


@router.get("/brands/{slug}/ad-accounts", response=responses({200: AdAccountPage}))
def ad_account_list(
    request: ApiRequest, slug: str, filters: Query[CatalogFilters]
) -> dict[str, Any]:
    """The brand's ad accounts; a media buyer narrowed to some sees only those."""
    brand, role = brand_with_capability(request, slug, "catalog.view")
    queryset = selectors.ad_account_list(
        user=request.auth, brand=brand, search=filters.q, status=filters.status, role=role
    )
    return paginate(queryset, filters)


@router.get("/brands/{slug}/pixels", response=responses({200: PixelPage}))
def pixel_list(request: ApiRequest, slug: str, filters: Query[CatalogFilters]) -> dict[str, Any]:
    """The brand's pixels. Access tokens are never returned, only whether one is set."""
    brand, role = brand_with_capability(request, slug, "catalog.view")
    queryset = selectors.pixel_list(
        user=request.auth, brand=brand, search=filters.q, status=filters.status, role=role
    )
    return paginate(queryset, filters)
