"""Catalog pages: brands, their ad accounts and pixels.

Every view parses, asks ``policies`` (404 for a brand the user may not see, 403 for a
change they may not make), calls a selector or service and renders. Without JavaScript
each form is POST → redirect → GET with a flash message; with htmx, lists swap their
table fragment, invalid forms swap themselves back with 422, and a successful change
navigates with ``HX-Location`` (or a client redirect) and a toast.
"""

from __future__ import annotations

import copy
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect, HttpResponseLocation

from koastops.accounts import policies
from koastops.accounts.models import Role
from koastops.catalog import selectors, services
from koastops.catalog.forms import (
    STATUS_FILTERS,
    AdAccountForm,
    BrandForm,
    ListFilterForm,
    PixelCreateForm,
    PixelForm,
    PixelTokenForm,
    add_service_error,
)
from koastops.catalog.models import Brand
from koastops.core.htmx import add_toast, render_page
from koastops.core.pagination import paginate

# --- helpers ---------------------------------------------------------------------------


def _saved(request: HttpRequest, url: str, message: str) -> HttpResponse:
    """After a successful form POST: redirect (no JS) or navigate the main region (htmx)."""
    if request.htmx:
        response = HttpResponseLocation(url, target="#main", select="#main", swap="outerHTML")
        return add_toast(response, message)
    messages.success(request, message)
    return redirect(url)


def _status_changed(request: HttpRequest, url: str, message: str) -> HttpResponse:
    """After archive / restore: the page reloads either way, so the flash message shows."""
    messages.success(request, message)
    if request.htmx:
        return add_toast(HttpResponseClientRedirect(url), message)
    return redirect(url)


def _list_context(request: HttpRequest, queryset: Any, search: str, status: str) -> dict[str, Any]:
    return {
        "page": paginate(request, queryset),
        "q": search,
        "status": status,
        "status_filters": STATUS_FILTERS,
    }


def _data(request: HttpRequest) -> Any:
    """The POSTed data for a bound form, or None on GET (an empty POST is still bound)."""
    return request.POST if request.method == "POST" else None


def _form_status(request: HttpRequest) -> int:
    # Only reached on GET or after an invalid POST.
    return 422 if request.method == "POST" else 200


# --- brands ----------------------------------------------------------------------------


@require_GET
def brand_list(request: HttpRequest) -> HttpResponse:
    search, status = ListFilterForm(request.GET).values()
    queryset = selectors.brand_list(user=request.user, search=search, status=status)
    context = _list_context(request, queryset, search, status)
    context["can_create_brand"] = policies.can_create_brand(request.user)
    return render_page(request, "catalog/brand_list.html", context, partial="brand-table")


@require_http_methods(["GET", "POST"])
def brand_create(request: HttpRequest) -> HttpResponse:
    policies.require(policies.can_create_brand(request.user), "Only admins can create brands.")
    form = BrandForm(_data(request))
    if request.method == "POST" and form.is_valid():
        try:
            brand = services.brand_create(user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            url = reverse("catalog:brand_detail", args=[brand.slug])
            return _saved(request, url, f"Brand “{brand.name}” created.")
    return render_page(
        request,
        "catalog/brand_form.html",
        {"form": form},
        partial="brand-form",
        status=_form_status(request),
    )


@require_GET
@policies.brand_capability("brand.view")
def brand_detail(request: HttpRequest, *, brand: Brand, role: Role | None) -> HttpResponse:
    context = {
        "brand": brand,
        "markets": brand.markets.order_by("code"),
        "stats": selectors.brand_stats(user=request.user, brand=brand),
        "can_edit_brand": policies.can(request.user, "brand.edit", brand, role=role),
        "can_manage": policies.can(request.user, "catalog.manage", brand, role=role),
        "tab": "overview",
    }
    return render_page(request, "catalog/brand_detail.html", context)


@require_http_methods(["GET", "POST"])
@policies.brand_capability("brand.edit")
def brand_edit(request: HttpRequest, *, brand: Brand, role: Role | None) -> HttpResponse:
    # The form works on a copy, so an invalid name never shows up in the page's header.
    form = BrandForm(_data(request), instance=copy.copy(brand))
    if request.method == "POST" and form.is_valid():
        fields = dict(form.cleaned_data)
        markets = fields.pop("markets")
        try:
            services.brand_update(user=request.user, brand=brand, markets=markets, **fields)
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            url = reverse("catalog:brand_detail", args=[brand.slug])
            return _saved(request, url, f"Brand “{brand.name}” saved.")
    return render_page(
        request,
        "catalog/brand_form.html",
        {"form": form, "brand": brand},
        partial="brand-form",
        status=_form_status(request),
    )


@require_POST
@policies.brand_capability("brand.edit")
def brand_archive(request: HttpRequest, *, brand: Brand, role: Role | None) -> HttpResponse:
    services.brand_archive(user=request.user, brand=brand)
    url = reverse("catalog:brand_detail", args=[brand.slug])
    return _status_changed(request, url, f"Brand “{brand.name}” archived.")


@require_POST
@policies.brand_capability("brand.edit")
def brand_restore(request: HttpRequest, *, brand: Brand, role: Role | None) -> HttpResponse:
    services.brand_restore(user=request.user, brand=brand)
    url = reverse("catalog:brand_detail", args=[brand.slug])
    return _status_changed(request, url, f"Brand “{brand.name}” restored.")


# --- ad accounts -----------------------------------------------------------------------


@require_GET
@policies.brand_capability("catalog.view")
def ad_account_list(request: HttpRequest, *, brand: Brand, role: Role | None) -> HttpResponse:
    search, status = ListFilterForm(request.GET).values()
    queryset = selectors.ad_account_list(
        user=request.user, brand=brand, search=search, status=status
    )
    context = _list_context(request, queryset, search, status)
    context |= {
        "brand": brand,
        "can_manage": policies.can(request.user, "catalog.manage", brand, role=role),
        "tab": "ad_accounts",
    }
    return render_page(
        request,
        "catalog/ad_account_list.html",
        context,
        partial="ad-account-table",
    )


def _ad_account_form_page(
    request: HttpRequest, brand: Brand, form: AdAccountForm, ad_account: Any = None
) -> HttpResponse:
    return render_page(
        request,
        "catalog/ad_account_form.html",
        {"brand": brand, "form": form, "ad_account": ad_account, "tab": "ad_accounts"},
        partial="ad-account-form",
        status=_form_status(request),
    )


@require_http_methods(["GET", "POST"])
@policies.brand_capability("catalog.manage")
def ad_account_create(request: HttpRequest, *, brand: Brand, role: Role | None) -> HttpResponse:
    form = AdAccountForm(_data(request), brand=brand)
    if request.method == "POST" and form.is_valid():
        try:
            ad_account = services.ad_account_create(
                user=request.user, brand=brand, **form.cleaned_data
            )
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            url = reverse("catalog:ad_account_list", args=[brand.slug])
            return _saved(request, url, f"Ad account “{ad_account.name}” added.")
    return _ad_account_form_page(request, brand, form)


@require_http_methods(["GET", "POST"])
@policies.brand_capability("catalog.manage")
def ad_account_edit(
    request: HttpRequest, pk: int, *, brand: Brand, role: Role | None
) -> HttpResponse:
    ad_account = selectors.ad_account_for_view(user=request.user, brand=brand, ad_account_id=pk)
    form = AdAccountForm(_data(request), instance=copy.copy(ad_account), brand=brand)
    if request.method == "POST" and form.is_valid():
        fields = dict(form.cleaned_data)
        markets = fields.pop("markets")
        try:
            services.ad_account_update(
                user=request.user, ad_account=ad_account, markets=markets, **fields
            )
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            url = reverse("catalog:ad_account_list", args=[brand.slug])
            return _saved(request, url, f"Ad account “{ad_account.name}” saved.")
    return _ad_account_form_page(request, brand, form, ad_account)


@require_POST
@policies.brand_capability("catalog.manage")
def ad_account_archive(
    request: HttpRequest, pk: int, *, brand: Brand, role: Role | None
) -> HttpResponse:
    ad_account = selectors.ad_account_for_view(user=request.user, brand=brand, ad_account_id=pk)
    services.ad_account_archive(user=request.user, ad_account=ad_account)
    url = reverse("catalog:ad_account_list", args=[brand.slug])
    return _status_changed(request, url, f"Ad account “{ad_account.name}” archived.")


@require_POST
@policies.brand_capability("catalog.manage")
def ad_account_restore(
    request: HttpRequest, pk: int, *, brand: Brand, role: Role | None
) -> HttpResponse:
    ad_account = selectors.ad_account_for_view(user=request.user, brand=brand, ad_account_id=pk)
    services.ad_account_restore(user=request.user, ad_account=ad_account)
    url = reverse("catalog:ad_account_list", args=[brand.slug])
    return _status_changed(request, url, f"Ad account “{ad_account.name}” restored.")


# --- pixels ----------------------------------------------------------------------------


@require_GET
@policies.brand_capability("catalog.view")
def pixel_list(request: HttpRequest, *, brand: Brand, role: Role | None) -> HttpResponse:
    search, status = ListFilterForm(request.GET).values()
    queryset = selectors.pixel_list(user=request.user, brand=brand, search=search, status=status)
    context = _list_context(request, queryset, search, status)
    context |= {
        "brand": brand,
        "can_manage": policies.can(request.user, "catalog.manage", brand, role=role),
        "tab": "pixels",
    }
    return render_page(request, "catalog/pixel_list.html", context, partial="pixel-table")


@require_GET
@policies.brand_capability("catalog.view")
def pixel_detail(request: HttpRequest, pk: int, *, brand: Brand, role: Role | None) -> HttpResponse:
    pixel = selectors.pixel_for_view(user=request.user, brand=brand, pixel_id=pk)
    context = {
        "brand": brand,
        "pixel": pixel,
        "ad_accounts": selectors.pixel_ad_accounts(user=request.user, brand=brand, pixel=pixel),
        "can_manage": policies.can(request.user, "catalog.manage", brand, role=role),
        "tab": "pixels",
    }
    return render_page(request, "catalog/pixel_detail.html", context)


def _pixel_form_page(
    request: HttpRequest, brand: Brand, form: PixelForm, pixel: Any = None
) -> HttpResponse:
    return render_page(
        request,
        "catalog/pixel_form.html",
        {"brand": brand, "form": form, "pixel": pixel, "tab": "pixels"},
        partial="pixel-form",
        status=_form_status(request),
    )


@require_http_methods(["GET", "POST"])
@policies.brand_capability("catalog.manage")
def pixel_create(request: HttpRequest, *, brand: Brand, role: Role | None) -> HttpResponse:
    form = PixelCreateForm(
        _data(request), ad_accounts=policies.ad_accounts_for(request.user, brand)
    )
    if request.method == "POST" and form.is_valid():
        try:
            pixel = services.pixel_create(user=request.user, brand=brand, **form.cleaned_data)
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            url = reverse("catalog:pixel_detail", args=[brand.slug, pixel.pk])
            return _saved(request, url, f"Pixel “{pixel.name}” added.")
    return _pixel_form_page(request, brand, form)


@require_http_methods(["GET", "POST"])
@policies.brand_capability("catalog.manage")
def pixel_edit(request: HttpRequest, pk: int, *, brand: Brand, role: Role | None) -> HttpResponse:
    pixel = selectors.pixel_for_view(user=request.user, brand=brand, pixel_id=pk)
    form = PixelForm(
        _data(request),
        instance=copy.copy(pixel),
        ad_accounts=policies.ad_accounts_for(request.user, brand),
    )
    if request.method == "POST" and form.is_valid():
        fields = dict(form.cleaned_data)
        ad_accounts = fields.pop("ad_accounts")
        try:
            services.pixel_update(user=request.user, pixel=pixel, ad_accounts=ad_accounts, **fields)
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            url = reverse("catalog:pixel_detail", args=[brand.slug, pixel.pk])
            return _saved(request, url, f"Pixel “{pixel.name}” saved.")
    return _pixel_form_page(request, brand, form, pixel)


@require_http_methods(["GET", "POST"])
@policies.brand_capability("catalog.manage")
def pixel_token(request: HttpRequest, pk: int, *, brand: Brand, role: Role | None) -> HttpResponse:
    """Set, replace (``action=set``) or remove (``action=remove``) the pixel's access token.
    The token itself is write-only: no page ever renders it or its ciphertext."""
    pixel = selectors.pixel_for_view(user=request.user, brand=brand, pixel_id=pk)
    form = PixelTokenForm()
    if request.method == "POST":
        url = reverse("catalog:pixel_detail", args=[brand.slug, pixel.pk])
        if request.POST.get("action") == "remove":
            services.pixel_set_access_token(user=request.user, pixel=pixel, access_token="")
            return _saved(request, url, f"Access token of “{pixel.name}” removed.")
        form = PixelTokenForm(request.POST)
        if form.is_valid():
            services.pixel_set_access_token(
                user=request.user, pixel=pixel, access_token=form.cleaned_data["access_token"]
            )
            return _saved(request, url, f"Access token of “{pixel.name}” saved.")
    return render_page(
        request,
        "catalog/pixel_token.html",
        {"brand": brand, "pixel": pixel, "form": form, "tab": "pixels"},
        partial="token-form",
        status=_form_status(request),
    )


@require_POST
@policies.brand_capability("catalog.manage")
def pixel_archive(
    request: HttpRequest, pk: int, *, brand: Brand, role: Role | None
) -> HttpResponse:
    pixel = selectors.pixel_for_view(user=request.user, brand=brand, pixel_id=pk)
    services.pixel_archive(user=request.user, pixel=pixel)
    url = reverse("catalog:pixel_detail", args=[brand.slug, pixel.pk])
    return _status_changed(request, url, f"Pixel “{pixel.name}” archived.")


@require_POST
@policies.brand_capability("catalog.manage")
def pixel_restore(
    request: HttpRequest, pk: int, *, brand: Brand, role: Role | None
) -> HttpResponse:
    pixel = selectors.pixel_for_view(user=request.user, brand=brand, pixel_id=pk)
    services.pixel_restore(user=request.user, pixel=pixel)
    url = reverse("catalog:pixel_detail", args=[brand.slug, pixel.pk])
    return _status_changed(request, url, f"Pixel “{pixel.name}” restored.")
