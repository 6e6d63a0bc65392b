"""A brand's activity page and its CSV / JSON exports.

Filters are a plain GET form (actor, verb, object type, a UTC date range), so a filtered
view is a link one can share; htmx swaps only the table and pushes the URL. Invalid
filters answer 422 with the error by the field and no rows, never a silently wider list.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from koastops.accounts import policies
from koastops.accounts.http import AuthenticatedRequest
from koastops.accounts.models import Role
from koastops.activity import export, selectors
from koastops.activity.verbs import VERBS
from koastops.catalog.models import Brand
from koastops.core.forms import form_field
from koastops.core.htmx import render_page
from koastops.core.pagination import paginate

TEMPLATE = "activity/activity_list.html"
PAGE_SIZE = 25
EXPORT_FORMATS = {
    "csv": ("text/csv; charset=utf-8", export.csv_lines),
    "json": ("application/json", export.json_chunks),
}


class ActivityFilterForm(forms.Form):
    """The page's filters. The query parameters are ``actor``, ``verb``, ``type``,
    ``from`` and ``to`` (``from`` is a Python keyword, hence the fields added in __init__)."""

    actor = forms.CharField(required=False, max_length=255, strip=True)
    verb = forms.ChoiceField(required=False, label="What")
    type = forms.ChoiceField(required=False, label="Object type")

    def __init__(
        self, data: Any, *, actor_labels: list[str], target_types: list[str], **kwargs: Any
    ) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(data, **kwargs)
        self.actor_labels = actor_labels
        form_field(self, "verb", forms.ChoiceField).choices = [
            ("", "Any action"),
            *sorted(VERBS.items()),
        ]
        form_field(self, "type", forms.ChoiceField).choices = [
            ("", "Any object"),
            *((value, selectors.target_type_label(value)) for value in target_types),
        ]
        date_widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
        self.fields["from"] = forms.DateField(
            required=False, label="From (UTC)", widget=date_widget
        )
        self.fields["to"] = forms.DateField(required=False, label="To (UTC)", widget=date_widget)

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        start, end = cleaned.get("from"), cleaned.get("to")
        if start and end and start > end:
            self.add_error("to", "The end date is before the start date.")
        return cleaned

    def filters(self) -> dict[str, Any]:
        """Keyword arguments for ``selectors.activity_list`` (call after ``is_valid``)."""
        data = self.cleaned_data
        actor = data.get("actor", "")
        return {
            "actor": actor,
            # An actor picked from the list means that actor, not everyone whose label
            # contains it; free text searches.
            "actor_exact": actor in self.actor_labels,
            "verb": data.get("verb", ""),
            "target_type": data.get("type", ""),
            "date_from": data.get("from"),
            "date_to": data.get("to"),
        }


def _filter_form(
    request: AuthenticatedRequest, brand: Brand, role: Role | None
) -> ActivityFilterForm:
    # The choices come from the rows the user may see, so they name nothing hidden.
    user = request.user
    return ActivityFilterForm(
        request.GET,
        actor_labels=selectors.activity_actor_labels(user=user, brand=brand, role=role),
        target_types=selectors.activity_target_types(user=user, brand=brand, role=role),
    )


@require_GET
@policies.brand_capability("activity.view")
def activity_list(
    request: AuthenticatedRequest, *, brand: Brand, role: Role | None
) -> HttpResponse:
    form = _filter_form(request, brand, role)
    valid = form.is_valid()
    page = rows = None
    if valid:
        entries = selectors.activity_list(
            user=request.user, brand=brand, role=role, **form.filters()
        )
        page = paginate(request, entries, per_page=PAGE_SIZE)
        redact = selectors.activity_redactor(user=request.user, brand=brand)
        rows = selectors.activity_rows([redact(entry) for entry in page.object_list])
    export_query = request.GET.copy()
    export_query.pop("page", None)
    context = {
        "brand": brand,
        "tab": "activity",
        "form": form,
        "page": page,
        "rows": rows,
        "filtered": any(request.GET.get(name) for name in ("actor", "verb", "type", "from", "to")),
        "export_query": export_query.urlencode(),
        "can_export": policies.can(request.user, "activity.export", brand, role=role),
    }
    return render_page(
        request, TEMPLATE, context, partial="activity-table", status=200 if valid else 422
    )


@require_GET
@policies.brand_capability("activity.export")
def activity_export(
    request: AuthenticatedRequest, *, brand: Brand, role: Role | None
) -> HttpResponse | StreamingHttpResponse:
    chosen = request.GET.get("format", "csv")
    if chosen not in EXPORT_FORMATS:
        return HttpResponse(
            "Unknown export format: choose csv or json.",
            status=422,
            content_type="text/plain; charset=utf-8",
        )
    form = _filter_form(request, brand, role)
    if not form.is_valid():
        problems = "; ".join(
            f"{field}: {' '.join(map(str, errors))}" for field, errors in form.errors.items()
        )
        return HttpResponse(
            f"Invalid filters — {problems}", status=422, content_type="text/plain; charset=utf-8"
        )
    content_type, render_rows = EXPORT_FORMATS[chosen]
    entries = selectors.activity_list(user=request.user, brand=brand, role=role, **form.filters())
    redact = selectors.activity_redactor(user=request.user, brand=brand)
    shown = (redact(entry) for entry in entries.iterator(chunk_size=2000))
    response = StreamingHttpResponse(render_rows(shown), content_type=content_type)
    today = timezone.now().astimezone(dt.UTC).date().isoformat()
    response["Content-Disposition"] = (
        f'attachment; filename="{brand.slug}-activity-{today}.{chosen}"'
    )
    return response
