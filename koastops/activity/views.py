"""A brand's activity page (a feed: one line per entry, details on demand) and its CSV /
JSON exports.

Filters are a plain GET form with the names the API uses too (``actor``, ``verb``,
``target_type``, ``date_from``, ``date_to``, ``q``), so a filtered view is a link one can
share and the same query string gives the same rows on the page, in the exports and over
the API; htmx swaps only the feed and pushes the URL. Invalid filters answer 422 with the
error by the field and no rows, never a silently wider list.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django import forms
from django.forms.utils import flatatt
from django.http import HttpResponse, QueryDict, StreamingHttpResponse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET

from koastops.accounts import policies
from koastops.accounts.http import AuthenticatedRequest
from koastops.accounts.models import Role
from koastops.activity import export, feed, selectors
from koastops.activity.verbs import VERBS, grouped_choices
from koastops.catalog.models import Brand
from koastops.core.forms import form_field
from koastops.core.htmx import render_page
from koastops.core.ids import MAX_ID
from koastops.core.links import fast_reverse
from koastops.core.pagination import paginate, paginate_cached

TEMPLATE = "activity/activity_list.html"
EXPORT_FORMATS = {
    "csv": ("text/csv; charset=utf-8", export.csv_lines),
    "json": ("application/json", export.json_chunks),
}
# The filters, by the names the page, its exports and the API share.
FILTER_NAMES = ("actor", "verb", "target_type", "date_from", "date_to", "q")
# Names the page used before: still understood, so old links keep working.
OLD_NAMES = {"type": "target_type", "from": "date_from", "to": "date_to"}
ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def filter_query(request: AuthenticatedRequest) -> QueryDict:
    """The request's query with the old filter names turned into the shared ones (a new
    name wins over its old one)."""
    query = request.GET.copy()
    for old, new in OLD_NAMES.items():
        if old in query:
            values = query.pop(old)
            if new not in query:
                query.setlist(new, values)
    # Read as the API reads them: an actor without surrounding spaces, a model label in
    # lower case.
    if "actor" in query:
        query.setlist("actor", [value.strip() for value in query.getlist("actor")])
    if "target_type" in query:
        query.setlist(
            "target_type", [value.strip().lower() for value in query.getlist("target_type")]
        )
    return query


class StrictDayField(forms.DateField):
    """A day as YYYY-MM-DD only (as the API takes it), not the other formats Django reads."""

    input_formats = ["%Y-%m-%d"]
    default_error_messages = {"invalid": "Use a day as YYYY-MM-DD."}

    def to_python(self, value: Any) -> dt.date | None:
        if isinstance(value, str) and value and not ISO_DAY.fullmatch(value):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


class ActivityFilterForm(forms.Form):
    """The page's filters, named as in the exports and the API: ``actor`` (a user id, or
    an actor's label such as an email address, exact), ``verb``, ``target_type``,
    ``date_from``, ``date_to`` (YYYY-MM-DD, whole UTC days) and ``q`` (search in who and
    on what). The choices come from the rows the user may see, so they name nothing
    hidden; the verbs offered are those that occur, grouped by what they are about."""

    q = forms.CharField(required=False, max_length=100, strip=True, label="Search")
    actor = forms.ChoiceField(required=False, label="Who")
    verb = forms.ChoiceField(required=False, label="What")
    target_type = forms.ChoiceField(required=False, label="On")
    date_from = StrictDayField(
        required=False,
        label="From (UTC)",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    date_to = StrictDayField(
        required=False,
        label="To (UTC)",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(
        self,
        data: Any,
        *,
        actors: list[selectors.Actor],
        kinds: selectors.ActivityKinds,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(data, **kwargs)
        self.actors = actors
        chosen_actor = str(self.data.get("actor") or "").strip()
        actor_choices = [(actor.value, actor.choice_label) for actor in actors]
        if chosen_actor and chosen_actor not in dict(actor_choices) and len(chosen_actor) <= 254:
            # An id or an email address from a link (or the API's form of the filter): it
            # filters exactly as it does there, and stays visible as chosen.
            actor_choices.append((chosen_actor, chosen_actor))
        form_field(self, "actor", forms.ChoiceField).choices = [("", "Anyone"), *actor_choices]
        verbs = set(kinds.verbs)
        chosen_verb = self.data.get("verb")
        if chosen_verb in VERBS:  # a registered verb that does not occur: no rows, no error
            verbs.add(chosen_verb)
        form_field(self, "verb", forms.ChoiceField).choices = [
            ("", "Any action"),
            *grouped_choices(verbs),
        ]
        form_field(self, "target_type", forms.ChoiceField).choices = [
            ("", "Any object"),
            *((value, selectors.target_type_label(value)) for value in kinds.target_types),
        ]

    def clean_actor(self) -> str:
        value = str(self.cleaned_data.get("actor") or "").strip()
        if "\x00" in value:
            raise forms.ValidationError("Null characters are not allowed.")
        if selectors.is_user_id(value) and not 1 <= int(value) <= MAX_ID:
            raise forms.ValidationError(f"A user id is between 1 and {MAX_ID}.")
        return value

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end date is before the start date.")
        return cleaned

    def filters(self) -> dict[str, Any]:
        """Keyword arguments for ``selectors.activity_list`` (call after ``is_valid``)."""
        data = self.cleaned_data
        return {
            "actor": data.get("actor", ""),
            "verb": data.get("verb", ""),
            "target_type": data.get("target_type", ""),
            "date_from": data.get("date_from"),
            "date_to": data.get("date_to"),
            "q": data.get("q", ""),
        }


def select_markup(bound: forms.BoundField) -> SafeString:
    """A filter's ``<select>``, as Django's widget renders it (the same attributes: id,
    ``aria-invalid`` after an error; the first matching option selected; optgroups) but
    without a template per option: the page renders three of them on every request."""
    attrs = bound.build_widget_attrs(dict(bound.field.widget.attrs))
    attrs.setdefault("id", bound.auto_id)
    value = bound.value()
    chosen = "" if value is None else str(value)
    found = False

    def option(option_value: Any, label: Any) -> str:
        nonlocal found
        text = str(option_value)
        selected = not found and text == chosen
        found = found or selected
        mark = " selected" if selected else ""
        return f'<option value="{escape(text)}"{mark}>{escape(label)}</option>'

    parts = [f'<select name="{escape(bound.html_name)}"{flatatt(attrs)}>']
    choices: list[tuple[Any, Any]] = list(
        form_field(bound.form, bound.name, forms.ChoiceField).choices  # type: ignore[arg-type]
    )
    for group_value, group_label in choices:
        if isinstance(group_label, list | tuple):
            parts.append(f'<optgroup label="{escape(group_value)}">')
            parts.extend(option(value, label) for value, label in group_label)
            parts.append("</optgroup>")
        else:
            parts.append(option(group_value, group_label))
    parts.append("</select>")
    return mark_safe("".join(parts))  # noqa: S308 - every value in it is escaped


def input_markup(bound: forms.BoundField) -> SafeString:
    """A filter's ``<input>`` (the date fields), as Django's widget renders it (the same
    attributes, ``aria-invalid`` after an error) without the widget's template."""
    widget = bound.field.widget
    attrs = bound.build_widget_attrs({})
    attrs.setdefault("id", bound.auto_id)
    attrs = {**widget.attrs, **attrs}
    value = widget.format_value(bound.value())
    shown = "" if value is None else f' value="{escape(value)}"'
    input_type = getattr(widget, "input_type", "text")
    # As Django's attrs.html: in order, True as a bare name, False left out.
    rest = "".join(
        f" {escape(name)}" if given is True else f' {escape(name)}="{escape(given)}"'
        for name, given in attrs.items()
        if given is not False and given is not None
    )
    return mark_safe(  # noqa: S308 - every value in it is escaped
        f'<input type="{input_type}" name="{escape(bound.html_name)}"{shown}{rest}>'
    )


def label_markup(bound: forms.BoundField) -> SafeString:
    """``<label for="id_x">Label</label>`` (``BoundField.label_tag`` without a template)."""
    return mark_safe(  # noqa: S308 - every value in it is escaped
        f'<label for="{escape(bound.id_for_label)}">{escape(bound.label)}</label>'
    )


def _filter_form(
    request: AuthenticatedRequest, query: QueryDict, brand: Brand, role: Role | None
) -> ActivityFilterForm:
    actors, kinds = selectors.activity_choices(user=request.user, brand=brand, role=role)
    return ActivityFilterForm(query, actors=actors, kinds=kinds)


@require_GET
@policies.brand_capability("activity.view")
def activity_list(
    request: AuthenticatedRequest, *, brand: Brand, role: Role | None
) -> HttpResponse:
    query = filter_query(request)
    form = _filter_form(request, query, brand, role)
    valid = form.is_valid()
    page = rows = days = None
    if valid:
        filters = form.filters()
        source = selectors.activity_page_source(
            user=request.user, brand=brand, role=role, **filters
        )
        # KOASTOPS_PAGE_SIZE entries a page, the total read with them (a window count).
        if source is not None:
            page = paginate_cached(request, source[0], source[1], *source[2])
            shown = selectors.entries_of(list(page.object_list))
        else:
            entries = selectors.activity_list(user=request.user, brand=brand, role=role, **filters)
            page = paginate(request, entries, one_query=True)
            shown = list(page.object_list)
        redact = selectors.activity_redactor(user=request.user, brand=brand)
        names = {int(a.value): a.name for a in form.actors if selectors.is_user_id(a.value)}
        days = feed.feed_days(
            [redact(entry) for entry in shown],
            brand=brand,
            now=timezone.now(),
            names=names,
        )
        rows = [row for day in days for row in day.rows]
    kept = query.copy()
    kept.pop("page", None)
    if page is not None:
        page.querystring = kept.urlencode()  # type: ignore[attr-defined]
    context = {
        "brand": brand,
        "tab": "activity",
        "list_url": fast_reverse("activity:list", args=[brand.slug]),
        "export_url": fast_reverse("activity:export", args=[brand.slug]),
        "form": form,
        "selects": {name: select_markup(form[name]) for name in ("actor", "verb", "target_type")},
        "dates": {
            name: label_markup(form[name]) + input_markup(form[name])
            for name in ("date_from", "date_to")
        },
        "page": page,
        "days": days,
        "rows": rows,
        "filtered": any(query.get(name) for name in FILTER_NAMES),
        "export_query": kept.urlencode(),
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
    form = _filter_form(request, filter_query(request), brand, role)
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
