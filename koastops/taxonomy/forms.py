"""Tracking-plan forms: the plan list's filters and the event editor.

The editor is one page of several Django forms: the event's own fields, one small form
per parameter row (prefix ``param-<n>``) and one per platform mapping (``map-<platform>``).
The forms only read what was typed (and refuse NUL characters); the content rules live in
``content.parse_event``, which the service runs: its errors come back keyed by content path
(``parameters[2].type``) and ``EventEditor.add_service_error`` puts each one on the field
of the row it names, so every message sits next to what caused it.

Rows are added and removed by submit buttons (``add_param``, ``remove_param=<n>``) that
re-render the form without saving: it works without JavaScript, and with htmx the form
swaps itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from koastops.taxonomy.catalogue import (
    MAPPING_PLATFORMS,
    MAPPING_TARGET_LABELS,
    PARAM_TYPES,
    SOURCES,
    STATUSES,
)
from koastops.taxonomy.content import MAX_PARAMS
from koastops.taxonomy.selectors import PLAN_FACETS

# --- the plan list's filters ------------------------------------------------------------


class PlanFilterForm(forms.Form):
    """``?q=``, ``?status=``, ``?source=``, ``?platform=`` of the plan list. A bad value of one
    is ignored (no filter) and never costs the others."""

    q = forms.CharField(label="Search", required=False, max_length=100, strip=True)
    status = forms.ChoiceField(
        label="Status", required=False, choices=[("", "Any status"), *STATUSES.items()]
    )
    source = forms.ChoiceField(
        label="Source",
        required=False,
        choices=[("", "Any source"), *PLAN_FACETS["source"].items()],
    )
    platform = forms.ChoiceField(
        label="Platform",
        required=False,
        choices=[("", "Any platform"), *PLAN_FACETS["platform"].items()],
    )

    def values(self) -> tuple[str, dict[str, str]]:
        """(search, facets in effect), e.g. ``("lead", {"status": "active"})``."""
        self.is_valid()
        cleaned = getattr(self, "cleaned_data", {})
        facets = {name: cleaned[name] for name in PLAN_FACETS if cleaned.get(name)}
        return cleaned.get("q") or "", facets


# --- the editor ---------------------------------------------------------------------------


def _text(label: str, *, limit: int, help_text: str = "", rows: int = 0) -> forms.CharField:
    # No max_length validator: the content parser says "at most N characters" (the same
    # words for the page, the API and the import); the attribute only helps the typist.
    widget: forms.Widget = (
        forms.Textarea(attrs={"rows": rows, "maxlength": limit})
        if rows
        else forms.TextInput(attrs={"maxlength": limit})
    )
    return forms.CharField(
        label=label, required=False, strip=True, help_text=help_text, widget=widget
    )


def _choice(label: str, choices: Mapping[str, str]) -> forms.CharField:
    # A plain CharField with a select: an unknown value reaches the parser, whose message
    # ("Expected one of …") goes on the field like every other.
    return forms.CharField(
        label=label, required=False, widget=forms.Select(choices=list(choices.items()))
    )


def _names(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


class EventForm(forms.Form):
    """The event's own fields. ``status`` only when creating: an existing event changes
    status through the detail page's actions (each with its own activity verb)."""

    name = _text(
        "Name",
        limit=50,
        help_text="As sent to the platforms: letters, digits and _, starting with a letter.",
    )
    display_name = _text("Display name", limit=120)
    description = _text(
        "Business meaning", limit=2000, rows=3, help_text="What counts as this event here."
    )
    trigger = _text("Trigger", limit=2000, rows=2, help_text="Fires when …")
    owner = _text("Owner", limit=120, help_text="The team or person who answers for it.")
    status = _choice("Status", STATUSES)
    sources = _choice("Sources", SOURCES)
    event_id_required = forms.BooleanField(
        label="event_id required (deduplication of browser and server events)", required=False
    )

    def __init__(self, *args: Any, editing: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"].widget.attrs["spellcheck"] = "false"
        self.fields["name"].required = True
        self.fields["name"].error_messages["required"] = "An event needs a name."
        for name in ("status", "sources"):  # a select always sends one of its values
            self.fields[name].required = True
        if editing:
            del self.fields["status"]


class ParameterForm(forms.Form):
    name = _text("Name", limit=40)
    type = _choice("Type", PARAM_TYPES)
    required = forms.BooleanField(label="Required", required=False)
    allowed_values = _text(
        "Allowed values", limit=4000, help_text="Comma-separated; leave empty for any value."
    )
    pattern = _text("Pattern", limit=200, help_text="A regular expression (text and lists).")
    description = _text("Description", limit=240)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"].widget.attrs["spellcheck"] = "false"
        self.fields["pattern"].widget.attrs["spellcheck"] = "false"

    def is_blank(self) -> bool:
        data = self.cleaned_data
        return not any(
            data.get(key) for key in ("name", "allowed_values", "pattern", "description")
        )

    def to_content(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "type": data["type"] or "string",
            "required": data["required"],
            "allowed_values": _names(data["allowed_values"]),
            "pattern": data["pattern"],
            "description": data["description"],
        }


class MappingForm(forms.Form):
    target = _text("Maps to", limit=100)
    custom = forms.BooleanField(label="Custom event (not a Meta standard event)", required=False)
    parameters = _text(
        "Parameters sent",
        limit=2000,
        help_text="Comma-separated names of this event's parameters.",
    )

    def __init__(self, *args: Any, platform: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.platform = platform
        self.label = MAPPING_PLATFORMS[platform]
        self.fields["target"].label = MAPPING_TARGET_LABELS[platform]
        self.fields["target"].widget.attrs["spellcheck"] = "false"
        self.fields["parameters"].widget.attrs["spellcheck"] = "false"
        if platform == "meta":
            self.fields["target"].widget.attrs["list"] = "meta-standard-events"
            self.fields["target"].help_text = (
                "A Meta standard event (Purchase, Lead, …), or a custom event name with"
                " “custom” ticked."
            )
        else:
            del self.fields["custom"]

    def is_blank(self) -> bool:
        data = self.cleaned_data
        return not data.get("target") and not data.get("parameters") and not data.get("custom")

    def to_content(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "platform": self.platform,
            "target": data["target"],
            "custom": bool(data.get("custom")),
            "parameters": _names(data["parameters"]),
        }


_ROW_PATH = re.compile(r"^(parameters|mappings)\[(\d+)\]\.([a-z_]+)")


@dataclass(frozen=True)
class SummaryItem:
    """One line of the error summary: the message and the id of the input it is about."""

    text: str
    field_id: str = ""


def _row_initial(form: forms.Form) -> dict[str, Any]:
    """What was typed into a bound row (to show it again in an unbound form)."""
    return {name: form[name].value() for name in form.fields}


def _content_initial(content: Mapping[str, Any]) -> tuple[dict[str, Any], list[dict], dict]:
    event = {key: content.get(key) for key in EventForm.base_fields}
    params = [
        {**param, "allowed_values": ", ".join(param.get("allowed_values") or [])}
        for param in content.get("parameters") or []
    ]
    mappings = {
        mapping["platform"]: {
            **mapping,
            "parameters": ", ".join(mapping.get("parameters") or []),
        }
        for mapping in content.get("mappings") or []
    }
    return event, params, mappings


def _row_count(data: Mapping[str, Any]) -> int:
    raw = str(data.get("param-rows", "0"))
    if not raw.isascii() or not raw.isdigit() or len(raw) > 3:
        return 0
    return min(int(raw), MAX_PARAMS)


class EventEditor:
    """The event form, its parameter rows and its mapping rows, as one form on the page."""

    def __init__(
        self,
        *,
        editing: bool,
        data: Mapping[str, Any] | None = None,
        event: dict[str, Any] | None = None,
        params: list[dict[str, Any]] | None = None,
        mappings: dict[str, dict[str, Any]] | None = None,
        version: int | None = None,
    ) -> None:
        self.editing = editing
        self.version = version
        self.non_field_errors: list[str] = []
        self.row_changed = False  # a row was added or removed: re-render, save nothing
        if data is not None:
            self.event = EventForm(data, editing=editing)
            self.params = [
                ParameterForm(data, prefix=f"param-{n}") for n in range(_row_count(data))
            ]
            self.mappings = [
                MappingForm(data, prefix=f"map-{platform}", platform=platform)
                for platform in MAPPING_PLATFORMS
            ]
            self._row_action(data)
        else:
            self.event = EventForm(initial=event or {}, editing=editing)
            rows = params if params is not None else [{}]
            self.params = [
                ParameterForm(initial=row, prefix=f"param-{n}") for n, row in enumerate(rows)
            ]
            self.mappings = [
                MappingForm(
                    initial=(mappings or {}).get(platform, {}),
                    prefix=f"map-{platform}",
                    platform=platform,
                )
                for platform in MAPPING_PLATFORMS
            ]
        self._param_index: list[int] = []
        self._mapping_index: list[int] = []

    @classmethod
    def for_content(
        cls, content: Mapping[str, Any], *, editing: bool, version: int | None = None
    ) -> EventEditor:
        event, params, mappings = _content_initial(content)
        return cls(editing=editing, event=event, params=params, mappings=mappings, version=version)

    # --- rows -------------------------------------------------------------------------

    def _row_action(self, data: Mapping[str, Any]) -> None:
        """``add_param`` / ``remove_param=<n>``: the same form with one row more or less,
        unbound (nothing is checked or saved)."""
        remove = str(data.get("remove_param", ""))
        adding = "add_param" in data
        if not adding and not (remove.isascii() and remove.isdigit() and len(remove) < 4):
            return
        self.row_changed = True
        event = _row_initial(self.event)
        rows = [_row_initial(form) for form in self.params]
        if adding and len(rows) < MAX_PARAMS:
            rows.append({})
        elif not adding and int(remove) < len(rows):
            del rows[int(remove)]
        mappings = [_row_initial(form) for form in self.mappings]
        self.event = EventForm(initial=event, editing=self.editing)
        self.params = [
            ParameterForm(initial=row, prefix=f"param-{n}") for n, row in enumerate(rows)
        ]
        self.mappings = [
            MappingForm(initial=row, prefix=f"map-{platform}", platform=platform)
            for platform, row in zip(MAPPING_PLATFORMS, mappings, strict=True)
        ]

    @property
    def can_add_param(self) -> bool:
        return len(self.params) < MAX_PARAMS

    # --- validation -----------------------------------------------------------------------

    def all_forms(self) -> Iterator[forms.Form]:
        yield self.event
        yield from self.params
        yield from self.mappings

    def is_valid(self) -> bool:
        """Django's own checks (NUL characters) on every row; the content rules are the
        service's."""
        valid = True
        for form in self.all_forms():
            valid = form.is_valid() and valid
        return valid and not self.non_field_errors

    def content(self, *, status: str = "draft") -> dict[str, Any]:
        """The content dict the form describes (call after ``is_valid``); blank rows left
        out, and remembered so an error's path finds its row again."""
        data = self.event.cleaned_data
        self._param_index = [n for n, form in enumerate(self.params) if not form.is_blank()]
        self._mapping_index = [n for n, form in enumerate(self.mappings) if not form.is_blank()]
        return {
            "name": data["name"],
            "display_name": data["display_name"],
            "description": data["description"],
            "trigger": data["trigger"],
            "owner": data["owner"],
            "status": data.get("status", status) or status,
            "sources": data["sources"] or "browser",
            "event_id_required": data["event_id_required"],
            "parameters": [self.params[n].to_content() for n in self._param_index],
            "mappings": [self.mappings[n].to_content() for n in self._mapping_index],
        }

    def add_error(self, message: str) -> None:
        self.non_field_errors.append(message)

    def add_service_error(self, error: ValidationError) -> None:
        """Put each message of a service's ``ValidationError`` on the field its path names
        (``parameters[2].type`` → the third typed row's type), the rest at the top."""
        if not hasattr(error, "error_dict"):
            self.non_field_errors.extend(error.messages)
            return
        for path, errors in error.error_dict.items():
            messages = [message for item in errors for message in item.messages]
            form, field = self._locate(path)
            if form is None:
                self.non_field_errors.extend(
                    f"{path}: {message}" if path not in (NON_FIELD_ERRORS, "(event)") else message
                    for message in messages
                )
                continue
            for message in messages:
                form.add_error(field, message)

    def _locate(self, path: str) -> tuple[forms.Form | None, str | None]:
        if path in self.event.fields:
            return self.event, path
        found = _ROW_PATH.match(path)
        if found is None:
            return None, None
        kind, index, name = found.group(1), int(found.group(2)), found.group(3)
        rows = self._param_index if kind == "parameters" else self._mapping_index
        forms_ = self.params if kind == "parameters" else self.mappings
        if index >= len(rows):
            return None, None
        form = forms_[rows[index]]
        if name not in form.fields:
            name = "target" if kind == "mappings" else "name"
        return form, name

    # --- for the template ---------------------------------------------------------------

    @property
    def has_errors(self) -> bool:
        return bool(self.non_field_errors) or any(
            form.is_bound and form.errors for form in self.all_forms()
        )

    def summary(self) -> list[SummaryItem]:
        items = [SummaryItem(message) for message in self.non_field_errors]
        groups: list[tuple[str, forms.Form]] = [("", self.event)]
        groups += [(f"Parameter {n + 1}", form) for n, form in enumerate(self.params)]
        groups += [(f"{form.label} mapping", form) for form in self.mappings]
        for title, form in groups:
            if not form.is_bound:
                continue
            items.extend(
                SummaryItem(f"{title}: {message}" if title else str(message))
                for message in form.non_field_errors()
            )
            for bound in form:
                for message in bound.errors:
                    label = f"{title} — {bound.label}" if title else bound.label
                    items.append(SummaryItem(f"{label}: {message}", bound.id_for_label))
        return items
