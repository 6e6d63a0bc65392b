"""Catalog pages: brands, their ad accounts and pixels.

Every view parses, asks ``policies`` (404 for a brand the user may not see, 403 for a
change they may not make), calls a selector or service and renders. Without JavaScript
each form is POST → redirect → GET with a flash message; with htmx, lists swap their
table fragment, invalid forms swap themselves back with 422, and a successful change
navigates with ``HX-Location`` (or a client redirect) and a toast.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from html import escape
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from koastops.accounts import policies
from koastops.accounts.http import AuthenticatedRequest
from koastops.accounts.models import Role
from koastops.catalog import selectors, services
from koastops.catalog.forms import (
    PIXEL_FACETS,
    STATUS_FILTERS,
    AdAccountForm,
    BrandForm,
    ListFilterForm,
    PixelCreateForm,
    PixelFilterForm,
    PixelForm,
    PixelTokenForm,
)
from koastops.catalog.models import AdAccount, Brand, CatalogStatus, Pixel, Platform
from koastops.core.exceptions import StaleVersion
from koastops.core.forms import add_service_error
from koastops.core.htmx import reload_with_message, render_page, saved_response
from koastops.core.links import fast_reverse, url_pattern
from koastops.core.pagination import paginate, paginate_cached
from koastops.core.templatetags import ui
from koastops.dashboard import attention
from koastops.dashboard.panel import panel_context

# --- helpers ---------------------------------------------------------------------------


def _set_status(
    request: AuthenticatedRequest, change: Callable[[], None], url: str, done: str, already: str
) -> HttpResponse:
    """Archive or restore; something already in that state is said so, and nothing is
    written."""
    try:
        change()
    except services.AlreadyInState:
        return reload_with_message(request, url, already, level=messages.INFO)
    return reload_with_message(request, url, done)


def _stale(obj: Brand | AdAccount | Pixel) -> dict[str, Any]:
    """For the notice on a refused stale edit: who changed the object last, and when."""
    entry = selectors.last_change(obj=obj)
    return {
        "actor": entry.actor_label if entry else "someone",
        "at": entry.created_at if entry else obj.updated_at,
    }


def _stale_status(request: AuthenticatedRequest) -> int:
    # htmx swaps the 409 (see the htmx config in base.html); a plain form post reads 200.
    return 409 if request.htmx else 200


def _list_context(
    request: AuthenticatedRequest, queryset: Any, search: str, status: str
) -> dict[str, Any]:
    return {
        "page": paginate(request, queryset, one_query=True) if queryset is not None else None,
        "q": search,
        "status": status,
        "status_filters": STATUS_FILTERS,
    }


# The list pages' rows are ``values()`` dicts (selectors.*_rows); their printed pieces are
# made here, once per row, so the template's row loop only prints strings.
_NONE = mark_safe('<span class="muted">None</span>')
STATUS_LABELS = dict(CatalogStatus.choices)
PLATFORM_LABELS = dict(Platform.choices)


class Row(dict[str, Any]):
    """A list row: a ``values()`` dict the view adds its printed pieces to; the template
    reads it as a dict (the fastest lookup), Python code may use attributes."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def _rows(page: Any) -> list[Row]:
    page.object_list = [Row(row) for row in page.object_list]
    return page.object_list


def _badge(status: str) -> SafeString:
    return ui.badge_for(status, STATUS_LABELS.get(status, status))


def _markets_html(markets_joined: str | None) -> SafeString:
    """``<abbr title="Germany">DE</abbr>, …`` or a muted "None"."""
    pairs = selectors.market_pairs(markets_joined)
    if not pairs:
        return _NONE
    return mark_safe(  # noqa: S308 - every value is escaped
        ", ".join(f'<abbr title="{escape(name)}">{escape(code)}</abbr>' for code, name in pairs)
    )


def _chips(request: AuthenticatedRequest, facets: dict[str, str]) -> list[dict[str, str]]:
    """The pixel facets in effect as removable chips: the label, the hidden input that
    keeps the facet in the filter form, and the address of the list without it."""
    chips = []
    for name, value in facets.items():
        params = request.GET.copy()
        params.pop(name, None)
        params.pop("page", None)
        query = params.urlencode()
        chips.append(
            {
                "name": name,
                "value": value,
                "label": PIXEL_FACETS[name][value],
                "remove_url": f"{request.path}?{query}" if query else request.path,
            }
        )
    return chips


def _data(request: AuthenticatedRequest) -> Any:
    """The POSTed data for a bound form, or None on GET (an empty POST is still bound)."""
    return request.POST if request.method == "POST" else None


def _form_status(request: AuthenticatedRequest) -> int:
    # Only reached on GET or after an invalid POST.
    return 422 if request.method == "POST" else 200


# --- brands ----------------------------------------------------------------------------


@require_GET
def brand_list(request: AuthenticatedRequest) -> HttpResponse:
    search, status = ListFilterForm(request.GET).values()
    source = selectors.brand_rows_source(user=request.user, search=search, status=status)
    if source is not None:
        context = _list_context(request, None, search, status)
        context["page"] = paginate_cached(request, *source[:2], *source[2])
    else:
        # Not cacheable: a narrowed user (for an inactive one the filters match nothing).
        queryset = selectors.brand_rows(
            user=request.user, search=search, status=status, narrowed=True
        )
        context = _list_context(request, queryset, search, status)
    detail = url_pattern("catalog:brand_detail")
    for row in _rows(context["page"]):
        row["url"] = detail.format(row["slug"])
        row["markets"] = _markets_html(row["markets_joined"])
        row["badge"] = _badge(row["status"])
    context["can_create_brand"] = policies.can_create_brand(request.user)
    return render_page(request, "catalog/brand_list.html", context, partial="brand-table")


@require_http_methods(["GET", "POST"])
def brand_create(request: AuthenticatedRequest) -> HttpResponse:
    policies.require(policies.can_create_brand(request.user), "Only admins can create brands.")
    form = BrandForm(_data(request))
    if request.method == "POST" and form.is_valid():
        try:
            data = form.cleaned_data
            brand = services.brand_create(
                user=request.user,
                name=data["name"],
                slug=data["slug"],
                description=data["description"],
                markets=data["markets"],
            )
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            url = reverse("catalog:brand_detail", args=[brand.slug])
            return saved_response(request, url, f"Brand “{brand.name}” created.")
    return render_page(
        request,
        "catalog/brand_form.html",
        {"form": form},
        partial="brand-form",
        status=_form_status(request),
    )


@require_GET
@policies.brand_capability("brand.view")
def brand_detail(request: AuthenticatedRequest, *, brand: Brand, role: Role | None) -> HttpResponse:
    from koastops.catalog import attention as catalog_attention  # the provider's reads

    roles = {brand.pk: role} if role is not None else {}
    with attention.sharing():
        # The stat cards and the catalog provider's items: one query of counts.
        counts = catalog_attention.brand_counts(
            user=request.user, brands=[brand], roles=roles, ad_accounts_of=[brand.pk]
        )
        items = attention.collect(user=request.user, brands=[brand], roles=roles)
    context = {
        "brand": brand,
        "markets": brand.markets.order_by("code"),
        "stats": selectors.stats_from_counts(counts.get(brand.pk)),
        "attention": panel_context(
            items, show_brand=False, empty_text="Nothing needs attention on this brand right now."
        ),
        "can_edit_brand": policies.can(request.user, "brand.edit", brand, role=role),
        "can_manage": policies.can(request.user, "catalog.manage", brand, role=role),
        "tab": "overview",
    }
    return render_page(request, "catalog/brand_detail.html", context)


@require_http_methods(["GET", "POST"])
@policies.brand_capability("brand.edit")
def brand_edit(request: AuthenticatedRequest, *, brand: Brand, role: Role | None) -> HttpResponse:
    # The form works on a copy, so an invalid name never shows up in the page's header.
    form = BrandForm(_data(request), instance=copy.copy(brand))
    status, stale = _form_status(request), None
    if request.method == "POST" and form.is_valid():
        fields = dict(form.cleaned_data)
        try:
            saved = services.brand_update(
                user=request.user,
                brand=brand,
                expected_version=fields.pop("version"),
                name=fields["name"],
                slug=fields["slug"],
                description=fields["description"],
                markets=fields["markets"],
            )
        except ValidationError as exc:
            add_service_error(form, exc)
        except StaleVersion:
            brand = Brand.objects.get(pk=brand.pk)
            form = BrandForm(instance=copy.copy(brand))
            status, stale = _stale_status(request), _stale(brand)
        else:
            url = reverse("catalog:brand_detail", args=[saved.slug])
            return saved_response(request, url, f"Brand “{saved.name}” saved.")
    return render_page(
        request,
        "catalog/brand_form.html",
        {"form": form, "brand": brand, "stale": stale},
        partial="brand-form",
        status=status,
    )


@require_POST
@policies.brand_capability("brand.edit")
def brand_archive(
    request: AuthenticatedRequest, *, brand: Brand, role: Role | None
) -> HttpResponse:
    return _set_status(
        request,
        lambda: services.brand_archive(user=request.user, brand=brand),
        reverse("catalog:brand_detail", args=[brand.slug]),
        f"Brand “{brand.name}” archived.",
        f"Brand “{brand.name}” is already archived.",
    )


@require_POST
@policies.brand_capability("brand.edit")
def brand_restore(
    request: AuthenticatedRequest, *, brand: Brand, role: Role | None
) -> HttpResponse:
    return _set_status(
        request,
        lambda: services.brand_restore(user=request.user, brand=brand),
        reverse("catalog:brand_detail", args=[brand.slug]),
        f"Brand “{brand.name}” restored.",
        f"Brand “{brand.name}” is already active.",
    )


# --- ad accounts -----------------------------------------------------------------------


@require_GET
@policies.brand_capability("catalog.view")
def ad_account_list(
    request: AuthenticatedRequest, *, brand: Brand, role: Role | None
) -> HttpResponse:
    search, status = ListFilterForm(request.GET).values()
    source = selectors.ad_account_rows_source(
        user=request.user, brand=brand, search=search, status=status, role=role
    )
    if source is not None:
        context = _list_context(request, None, search, status)
        context["page"] = paginate_cached(request, *source[:2], *source[2])
    else:
        queryset = selectors.ad_account_rows(
            user=request.user, brand=brand, search=search, status=status, role=role
        )
        context = _list_context(request, queryset, search, status)
    can_manage = policies.can(request.user, "catalog.manage", brand, role=role)
    for row in _rows(context["page"]):
        row["get_platform_display"] = PLATFORM_LABELS.get(row["platform"], row["platform"])
        row["markets"] = _markets_html(row["markets_joined"])
        row["badge"] = _badge(row["status"])
        row["is_archived"] = row["status"] == CatalogStatus.ARCHIVED
        if can_manage:
            args = (brand.slug, row["pk"])
            row["edit_url"] = fast_reverse("catalog:ad_account_edit", args)
            action = "restore" if row["is_archived"] else "archive"
            row["status_url"] = fast_reverse(f"catalog:ad_account_{action}", args)
    context |= {"brand": brand, "can_manage": can_manage, "tab": "ad_accounts"}
    return render_page(
        request,
        "catalog/ad_account_list.html",
        context,
        partial="ad-account-table",
    )


def _ad_account_form_page(
    request: AuthenticatedRequest,
    brand: Brand,
    form: AdAccountForm,
    ad_account: Any = None,
    *,
    stale: dict[str, Any] | None = None,
) -> HttpResponse:
    return render_page(
        request,
        "catalog/ad_account_form.html",
        {
            "brand": brand,
            "form": form,
            "ad_account": ad_account,
            "stale": stale,
            "tab": "ad_accounts",
        },
        partial="ad-account-form",
        status=_stale_status(request) if stale else _form_status(request),
    )


@require_http_methods(["GET", "POST"])
@policies.brand_capability("catalog.manage")
def ad_account_create(
    request: AuthenticatedRequest, *, brand: Brand, role: Role | None
) -> HttpResponse:
    form = AdAccountForm(_data(request), brand=brand)
    if request.method == "POST" and form.is_valid():
        try:
            data = form.cleaned_data
            ad_account = services.ad_account_create(
                user=request.user,
                brand=brand,
                name=data["name"],
                platform=data["platform"],
                external_id=data["external_id"],
                currency=data["currency"],
                time_zone=data["time_zone"],
                markets=data["markets"],
            )
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            url = reverse("catalog:ad_account_list", args=[brand.slug])
            return saved_response(request, url, f"Ad account “{ad_account.name}” added.")
    return _ad_account_form_page(request, brand, form)


@require_http_methods(["GET", "POST"])
@policies.brand_capability("catalog.manage")
def ad_account_edit(
    request: AuthenticatedRequest, pk: int, *, brand: Brand, role: Role | None
) -> HttpResponse:
    ad_account = selectors.ad_account_for_view(user=request.user, brand=brand, ad_account_id=pk)
    form = AdAccountForm(_data(request), instance=copy.copy(ad_account), brand=brand)
    if request.method == "POST" and form.is_valid():
        fields = dict(form.cleaned_data)
        try:
            saved = services.ad_account_update(
                user=request.user,
                ad_account=ad_account,
                expected_version=fields.pop("version"),
                name=fields["name"],
                platform=fields["platform"],
                external_id=fields["external_id"],
                currency=fields["currency"],
                time_zone=fields["time_zone"],
                markets=fields["markets"],
            )
        except ValidationError as exc:
            add_service_error(form, exc)
        except StaleVersion:
            current = selectors.ad_account_for_view(
                user=request.user, brand=brand, ad_account_id=pk
            )
            form = AdAccountForm(instance=copy.copy(current), brand=brand)
            return _ad_account_form_page(request, brand, form, current, stale=_stale(current))
        else:
            url = reverse("catalog:ad_account_list", args=[brand.slug])
            return saved_response(request, url, f"Ad account “{saved.name}” saved.")
    return _ad_account_form_page(request, brand, form, ad_account)


@require_POST
@policies.brand_capability("catalog.manage")
def ad_account_archive(
    request: AuthenticatedRequest, pk: int, *, brand: Brand, role: Role | None
) -> HttpResponse:
    ad_account = selectors.ad_account_for_view(user=request.user, brand=brand, ad_account_id=pk)
    return _set_status(
        request,
        lambda: services.ad_account_archive(user=request.user, ad_account=ad_account),
        reverse("catalog:ad_account_list", args=[brand.slug]),
        f"Ad account “{ad_account.name}” archived.",
        f"Ad account “{ad_account.name}” is already archived.",
    )


@require_POST
@policies.brand_capability("catalog.manage")
def ad_account_restore(
    request: AuthenticatedRequest, pk: int, *, brand: Brand, role: Role | None
) -> HttpResponse:
    ad_account = selectors.ad_account_for_view(user=request.user, brand=brand, ad_account_id=pk)
    return _set_status(
        request,
        lambda: services.ad_account_restore(user=request.user, ad_account=ad_account),
        reverse("catalog:ad_account_list", args=[brand.slug]),
        f"Ad account “{ad_account.name}” restored.",
        f"Ad account “{ad_account.name}” is already active.",
    )


# --- pixels ----------------------------------------------------------------------------


@require_GET
@policies.brand_capability("catalog.view")
def pixel_list(request: AuthenticatedRequest, *, brand: Brand, role: Role | None) -> HttpResponse:
    filters = PixelFilterForm(request.GET)
    search, status = filters.values()
    facets = filters.facets()
    source = selectors.pixel_rows_source(
        user=request.user, brand=brand, search=search, status=status, role=role, facets=facets
    )
    if source is not None:
        context = _list_context(request, None, search, status)
        context["page"] = paginate_cached(request, *source[:2], *source[2])
    else:
        queryset = selectors.pixel_rows(
            user=request.user, brand=brand, search=search, status=status, role=role, facets=facets
        )
        context = _list_context(request, queryset, search, status)
    can_manage = policies.can(request.user, "catalog.manage", brand, role=role)
    for row in _rows(context["page"]):
        args = (brand.slug, row["pk"])
        row["url"] = fast_reverse("catalog:pixel_detail", args)
        row["get_platform_display"] = PLATFORM_LABELS.get(row["platform"], row["platform"])
        row["has_access_token"] = bool(row["token_is_set"])
        names = selectors.joined(row["ad_accounts_joined"])
        row["ad_accounts"] = ", ".join(names) if names else None
        row["badge"] = _badge(row["status"])
        row["is_archived"] = row["status"] == CatalogStatus.ARCHIVED
        if can_manage:
            row["edit_url"] = fast_reverse("catalog:pixel_edit", args)
            row["token_url"] = fast_reverse("catalog:pixel_token", args)
            action = "restore" if row["is_archived"] else "archive"
            row["status_url"] = fast_reverse(f"catalog:pixel_{action}", args)
    context |= {
        "facets": facets,
        "chips": _chips(request, facets),
        "brand": brand,
        "can_manage": can_manage,
        "tab": "pixels",
    }
    return render_page(request, "catalog/pixel_list.html", context, partial="pixel-table")


@require_GET
@policies.brand_capability("catalog.view")
def pixel_detail(
    request: AuthenticatedRequest, pk: int, *, brand: Brand, role: Role | None
) -> HttpResponse:
    pixel = selectors.pixel_for_view(user=request.user, brand=brand, pixel_id=pk)
    context = {
        "brand": brand,
        "pixel": pixel,
        "ad_accounts": selectors.pixel_ad_accounts(
            user=request.user, brand=brand, pixel=pixel, role=role
        ),
        "can_manage": policies.can(request.user, "catalog.manage", brand, role=role),
        "tab": "pixels",
    }
    return render_page(request, "catalog/pixel_detail.html", context)


def _pixel_form_page(
    request: AuthenticatedRequest,
    brand: Brand,
    form: PixelForm,
    pixel: Any = None,
    *,
    stale: dict[str, Any] | None = None,
) -> HttpResponse:
    return render_page(
        request,
        "catalog/pixel_form.html",
        {"brand": brand, "form": form, "pixel": pixel, "stale": stale, "tab": "pixels"},
        partial="pixel-form",
        status=_stale_status(request) if stale else _form_status(request),
    )


@require_http_methods(["GET", "POST"])
@policies.brand_capability("catalog.manage")
def pixel_create(request: AuthenticatedRequest, *, brand: Brand, role: Role | None) -> HttpResponse:
    form = PixelCreateForm(
        _data(request), ad_accounts=policies.ad_accounts_for(request.user, brand)
    )
    if request.method == "POST" and form.is_valid():
        try:
            data = form.cleaned_data
            pixel = services.pixel_create(
                user=request.user,
                brand=brand,
                name=data["name"],
                platform=data["platform"],
                external_id=data["external_id"],
                capi_enabled=data["capi_enabled"],
                ad_accounts=data["ad_accounts"],
                access_token=data["access_token"],
            )
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            url = reverse("catalog:pixel_detail", args=[brand.slug, pixel.pk])
            return saved_response(request, url, f"Pixel “{pixel.name}” added.")
    return _pixel_form_page(request, brand, form)


@require_http_methods(["GET", "POST"])
@policies.brand_capability("catalog.manage")
def pixel_edit(
    request: AuthenticatedRequest, pk: int, *, brand: Brand, role: Role | None
) -> HttpResponse:
    pixel = selectors.pixel_for_view(user=request.user, brand=brand, pixel_id=pk)
    form = PixelForm(
        _data(request),
        instance=copy.copy(pixel),
        ad_accounts=policies.ad_accounts_for(request.user, brand),
    )
    if request.method == "POST" and form.is_valid():
        fields = dict(form.cleaned_data)
        try:
            saved = services.pixel_update(
                user=request.user,
                pixel=pixel,
                expected_version=fields.pop("version"),
                name=fields["name"],
                platform=fields["platform"],
                external_id=fields["external_id"],
                capi_enabled=fields["capi_enabled"],
                ad_accounts=fields["ad_accounts"],
            )
        except ValidationError as exc:
            add_service_error(form, exc)
        except StaleVersion:
            current = selectors.pixel_for_view(user=request.user, brand=brand, pixel_id=pk)
            form = PixelForm(
                instance=copy.copy(current),
                ad_accounts=policies.ad_accounts_for(request.user, brand),
            )
            return _pixel_form_page(request, brand, form, current, stale=_stale(current))
        else:
            url = reverse("catalog:pixel_detail", args=[brand.slug, pixel.pk])
            return saved_response(request, url, f"Pixel “{saved.name}” saved.")
    return _pixel_form_page(request, brand, form, pixel)


@require_http_methods(["GET", "POST"])
@policies.brand_capability("catalog.manage")
def pixel_token(
    request: AuthenticatedRequest, pk: int, *, brand: Brand, role: Role | None
) -> HttpResponse:
    """Set, replace (``action=set``) or remove (``action=remove``) the pixel's access token.
    The token itself is write-only: no page ever renders it or its ciphertext."""
    pixel = selectors.pixel_for_view(user=request.user, brand=brand, pixel_id=pk)
    form = PixelTokenForm()
    if request.method == "POST":
        url = reverse("catalog:pixel_detail", args=[brand.slug, pixel.pk])
        if request.POST.get("action") == "remove":
            if services.pixel_set_access_token(user=request.user, pixel=pixel, access_token=""):
                return saved_response(request, url, f"Access token of “{pixel.name}” removed.")
            return saved_response(request, url, f"“{pixel.name}” has no access token to remove.")
        form = PixelTokenForm(request.POST)
        if form.is_valid():
            services.pixel_set_access_token(
                user=request.user, pixel=pixel, access_token=form.cleaned_data["access_token"]
            )
            return saved_response(request, url, f"Access token of “{pixel.name}” saved.")
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
    request: AuthenticatedRequest, pk: int, *, brand: Brand, role: Role | None
) -> HttpResponse:
    pixel = selectors.pixel_for_view(user=request.user, brand=brand, pixel_id=pk)
    return _set_status(
        request,
        lambda: services.pixel_archive(user=request.user, pixel=pixel),
        reverse("catalog:pixel_detail", args=[brand.slug, pixel.pk]),
        f"Pixel “{pixel.name}” archived.",
        f"Pixel “{pixel.name}” is already archived.",
    )


@require_POST
@policies.brand_capability("catalog.manage")
def pixel_restore(
    request: AuthenticatedRequest, pk: int, *, brand: Brand, role: Role | None
) -> HttpResponse:
    pixel = selectors.pixel_for_view(user=request.user, brand=brand, pixel_id=pk)
    return _set_status(
        request,
        lambda: services.pixel_restore(user=request.user, pixel=pixel),
        reverse("catalog:pixel_detail", args=[brand.slug, pixel.pk]),
        f"Pixel “{pixel.name}” restored.",
        f"Pixel “{pixel.name}” is already active.",
    )
