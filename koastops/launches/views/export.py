"""Launch exports (issue #11 §6): the Ads Manager bulk-import sheet
(``launches:export_csv``) and the JSON document (``launches:export_json``) of an approved
or launched launch. ``launch.export`` on the launch (``policies.can_on_launch``); a launch
the user may not see (another brand's, or one on an ad account a narrowed media buyer may
not use) is 404; one in another state is a 409 that says why (a page for the sheet, JSON
for the document). Constant queries: the launch with its structure (``with_structure``)
and the event's platform mappings."""

from __future__ import annotations

import json

from django.http import Http404, HttpResponse, JsonResponse, StreamingHttpResponse
from django.urls import path
from django.views.decorators.http import require_GET

from koastops.accounts import policies
from koastops.accounts.http import AuthenticatedRequest
from koastops.accounts.models import Role
from koastops.catalog.models import Brand
from koastops.core.htmx import render_page
from koastops.launches import export, selectors, states
from koastops.launches.models import Launch


def _exportable(request: AuthenticatedRequest, brand: Brand, role: Role | None, pk: int) -> Launch:
    queryset = (
        selectors.with_structure(
            selectors.visible_launches(request.user, brand, role=role).filter(pk=pk)
        )
        .select_related("approved_by")
        .prefetch_related(*export.EXPORT_PREFETCH)
    )
    launch = queryset.first()
    if launch is None:
        raise Http404("No such launch.")
    policies.require(
        policies.can_on_launch(request.user, "launch.export", launch, role=role),
        "You may not export this launch.",
    )
    return launch


def _refusal(launch: Launch) -> str:
    why = states.WHY_NOT.get(launch.state, "")
    return (
        f"Only an approved or launched launch can be exported: this one is "
        f"{launch.get_state_display().lower()}." + (f" {why}" if why else "")
    )


@require_GET
@policies.brand_capability("launch.export")
def export_csv(
    request: AuthenticatedRequest, pk: int, *, brand: Brand, role: Role | None
) -> HttpResponse | StreamingHttpResponse:
    launch = _exportable(request, brand, role, pk)
    if launch.state not in states.EXPORTABLE:
        return render_page(
            request,
            "launches/export_refused.html",
            {"brand": brand, "tab": "launches", "launch": launch, "message": _refusal(launch)},
            status=409,
        )
    response = StreamingHttpResponse(
        export.sheet_lines(launch), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{export.sheet_filename(launch)}"'
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@policies.brand_capability("launch.export")
def export_json(
    request: AuthenticatedRequest, pk: int, *, brand: Brand, role: Role | None
) -> HttpResponse:
    launch = _exportable(request, brand, role, pk)
    if launch.state not in states.EXPORTABLE:
        return JsonResponse(
            {"detail": _refusal(launch), "field": "state", "state": launch.state}, status=409
        )
    response = HttpResponse(
        json.dumps(export.document(launch), ensure_ascii=False, indent=2),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{export.json_filename(launch)}"'
    response["Cache-Control"] = "no-store"
    return response


urlpatterns = [
    path("<int:pk>/export.csv", export_csv, name="export_csv"),
    path("<int:pk>/export.json", export_json, name="export_json"),
]
