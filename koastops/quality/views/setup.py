"""The brand's quality settings: thresholds (EMQ, dedup coverage, reconciliation
tolerance) and, per pixel, where its stats come from. Every role with ``quality.view``
reads them; ops leads (``quality.manage``) change them (others get 403 on POST)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.urls import path
from django.views.decorators.http import require_http_methods, require_POST

from koastops.accounts import policies
from koastops.accounts.http import AuthenticatedRequest
from koastops.accounts.models import Role
from koastops.catalog.models import Brand, CatalogStatus
from koastops.core.exceptions import StaleVersion
from koastops.core.forms import add_service_error
from koastops.core.htmx import reload_with_message, render_page, saved_response
from koastops.core.links import fast_reverse
from koastops.core.pagination import paginate
from koastops.quality import selectors, settings_services
from koastops.quality.models import Provider
from koastops.quality.settings_forms import ConnectionForm, ThresholdsForm

PROVIDER_LABELS = dict(Provider.choices)


def _context(
    request: AuthenticatedRequest, brand: Brand, role: Role | None, form: ThresholdsForm | None
) -> dict[str, Any]:
    current = selectors.settings_for(brand)
    if form is None:
        form = ThresholdsForm(
            initial={
                "emq_threshold": current.emq_threshold,
                "dedup_threshold": current.dedup_threshold,
                "tolerance_pct": current.tolerance_pct,
                "version": current.version,
            }
        )
    pixels = (
        policies.pixels_for(request.user, brand, role=role)
        .filter(status=CatalogStatus.ACTIVE)
        .order_by("name", "pk")
        .values("pk", "name", "external_id", "connection__provider", "connection__version")
    )
    page = paginate(request, pixels, one_query=True)
    for row in page.object_list:
        provider = row["connection__provider"] or Provider.META
        row["provider"] = provider
        row["provider_label"] = PROVIDER_LABELS.get(provider, provider)
        row["version"] = row["connection__version"] or 1
        row["action"] = fast_reverse("quality:connection", (brand.slug, row["pk"]))
    return {
        "brand": brand,
        "tab": "quality",
        "current": current,
        "form": form,
        "page": page,
        "providers": Provider.choices,
        "can_manage": policies.can(request.user, "quality.manage", brand, role=role),
        "updated_by": current.updated_by.email if current.pk and current.updated_by else "",
    }


@require_http_methods(["GET", "POST"])
@policies.brand_capability("quality.view")
def quality_settings(
    request: AuthenticatedRequest, *, brand: Brand, role: Role | None
) -> HttpResponse:
    if request.method != "POST":
        return render_page(request, "quality/settings.html", _context(request, brand, role, None))
    policies.require(
        policies.can(request.user, "quality.manage", brand, role=role),
        "Only the brand's ops leads change the quality thresholds.",
    )
    url = fast_reverse("quality:settings", (brand.slug,))
    form = ThresholdsForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            settings_services.quality_settings_save(
                actor=request.user,
                brand=brand,
                version=data["version"],
                emq_threshold=data["emq_threshold"],
                dedup_threshold=data["dedup_threshold"],
                tolerance_pct=data["tolerance_pct"],
            )
        except StaleVersion:
            current = selectors.settings_for(brand)
            who = current.updated_by.email if current.updated_by else "Someone"
            return reload_with_message(
                request,
                url,
                f"Not saved: {who} changed the thresholds meanwhile (EMQ "
                f"{current.emq_threshold}, dedup {current.dedup_threshold} %, tolerance "
                f"{current.tolerance_pct} %). Check them and save again.",
                level=messages.ERROR,
            )
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            return saved_response(request, url, f"Quality thresholds of {brand.name} saved.")
    return render_page(
        request, "quality/settings.html", _context(request, brand, role, form), status=422
    )


@require_POST
@policies.brand_capability("quality.manage")
def pixel_connection(
    request: AuthenticatedRequest, pk: int, *, brand: Brand, role: Role | None
) -> HttpResponse:
    pixel = selectors.pixel_for_view(user=request.user, brand=brand, role=role, pixel_id=pk)
    if pixel is None:
        raise Http404("No such pixel.")
    url = fast_reverse("quality:settings", (brand.slug,))
    form = ConnectionForm(request.POST)
    if not form.is_valid():
        first = next(iter(form.errors.values()))[0]
        return reload_with_message(
            request, url, f"Not saved ({pixel.name}): {first}", level=messages.ERROR
        )
    try:
        connection = settings_services.pixel_connection_save(
            actor=request.user,
            pixel=pixel,
            version=form.cleaned_data["version"],
            provider=form.cleaned_data["provider"],
        )
    except StaleVersion:
        return reload_with_message(
            request,
            url,
            f"Not saved: someone changed the stats connection of {pixel.name} meanwhile. "
            "Check it and save again.",
            level=messages.ERROR,
        )
    except ValidationError as exc:
        return reload_with_message(
            request, url, f"Not saved ({pixel.name}): {exc.messages[0]}", level=messages.ERROR
        )
    label = PROVIDER_LABELS.get(connection.provider, connection.provider)
    return reload_with_message(request, url, f"The stats of {pixel.name} now come from {label}.")


urlpatterns: list = [
    path("settings/", quality_settings, name="settings"),
    path("pixels/<int:pk>/connection/", pixel_connection, name="connection"),
]
