"""CRM conversion pages: the upload form with the documented columns and the recent
imports (``quality:conversions``), the template CSV (``quality:conversions_template``)
and one import with its progress, counts and errors (``quality:import``).

Every role of the brand reads the imports (``quality.view``: whether the CRM numbers are
current matters to each); only ``conversions.upload`` (analysts, admins) uploads.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path
from django.views.decorators.http import require_GET, require_http_methods

from koastops.accounts import policies
from koastops.accounts.http import AuthenticatedRequest
from koastops.accounts.models import Role
from koastops.catalog.models import Brand
from koastops.core.forms import add_service_error
from koastops.core.htmx import render_page, saved_response
from koastops.core.links import fast_reverse
from koastops.core.pagination import paginate
from koastops.quality import conversion_services as services
from koastops.quality import conversions as parsing
from koastops.quality.conversion_forms import UploadForm
from koastops.quality.models import ConversionImport, ImportStatus

ACTIVE = (ImportStatus.QUEUED, ImportStatus.RUNNING)
STATUS_TONES: dict[str, str] = {
    ImportStatus.QUEUED: "unknown",
    ImportStatus.RUNNING: "warning",
    ImportStatus.SUCCEEDED: "ok",
    ImportStatus.REJECTED: "failing",
    ImportStatus.FAILED: "failing",
}
ERRORS_PER_PAGE = 50


def _imports_context(
    request: AuthenticatedRequest, brand: Brand, form: UploadForm | None = None
) -> dict[str, Any]:
    can = policies.capabilities_on(request, brand)
    imports = ConversionImport.objects.filter(brand=brand).select_related("uploaded_by")
    page = paginate(request, imports, one_query=True)
    for item in page.object_list:
        item.tone = STATUS_TONES.get(item.status, "unknown")
    return {
        "brand": brand,
        "tab": "quality",
        "page": page,
        "form": form or UploadForm(),
        "can_upload": can["conversions_upload"],
        "columns": [
            (name, name in parsing.REQUIRED_COLUMNS, text)
            for name, text in parsing.COLUMN_HELP.items()
        ],
        "header": ",".join(parsing.COLUMNS),
        "example": [",".join(row) for row in parsing.EXAMPLE_ROWS],
        "tones": STATUS_TONES,
        "max_size": services.max_size_label(),
    }


@require_http_methods(["GET", "POST"])
@policies.brand_capability("quality.view")
def conversions(request: AuthenticatedRequest, *, brand: Brand, role: Role | None) -> HttpResponse:
    form = None
    if request.method == "POST":
        policies.require(
            policies.can(request.user, "conversions.upload", brand, role=role),
            "Only analysts upload CRM conversions.",
        )
        form = UploadForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                record = services.conversion_upload(
                    actor=request.user,
                    brand=brand,
                    file=form.cleaned_data["file"],
                    mode=form.cleaned_data["mode"],
                    source=form.cleaned_data["source"],
                )
            except ValidationError as exc:
                add_service_error(form, exc)
            else:
                url = fast_reverse("quality:import", (brand.slug, record.pk))
                return saved_response(
                    request, url, f"“{record.filename}” uploaded; the import is queued."
                )
    context = _imports_context(request, brand, form)
    status = 422 if form is not None and request.htmx else 200
    return render_page(
        request, "quality/conversions.html", context, partial="imports-table", status=status
    )


@require_GET
@policies.brand_capability("quality.view")
def conversions_template(
    request: AuthenticatedRequest, *, brand: Brand, role: Role | None
) -> HttpResponse:
    response = StreamingHttpResponse(
        parsing.template_lines(), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="conversions-template.csv"'
    return response  # type: ignore[return-value]


@require_GET
@policies.brand_capability("quality.view")
def import_detail(
    request: AuthenticatedRequest, *, brand: Brand, role: Role | None, pk: int
) -> HttpResponse:
    if pk > 2**63 - 1:
        raise Http404
    record = get_object_or_404(
        ConversionImport.objects.select_related("uploaded_by"), brand=brand, pk=pk
    )
    errors_page = paginate(request, record.errors or [], per_page=ERRORS_PER_PAGE)
    active = record.status in ACTIVE
    percent = (
        min(100, round(100 * record.processed_rows / record.total_rows)) if record.total_rows else 0
    )
    context = {
        "brand": brand,
        "tab": "quality",
        "record": record,
        "active": active,
        "percent": percent,
        "tone": STATUS_TONES.get(record.status, "unknown"),
        "errors_page": errors_page,
        "more_errors": max(0, record.error_rows - len(record.errors or [])),
        "max_errors": parsing.MAX_ERRORS_KEPT,
        "can_upload": policies.capabilities_on(request, brand)["conversions_upload"],
        "self_url": fast_reverse("quality:import", (brand.slug, record.pk)),
    }
    response = render_page(request, "quality/import.html", context, partial="import-status")
    return response


urlpatterns = [
    path("conversions/", conversions, name="conversions"),
    path("conversions/template.csv", conversions_template, name="conversions_template"),
    path("conversions/imports/<int:pk>/", import_detail, name="import"),
]
