"""Searchable pickers. The server renders a real ``<select>`` / ``<select multiple>``: it
works without JavaScript and is validated server-side like any select. ``static/js/pickers.js``
enhances every ``select[data-picker]`` into a searchable, keyboard-driven combobox (Tom Select)
with the selected values shown as removable chips.

A value the field holds but the choices no longer offer (a currency code withdrawn since, a
time zone dropped from the tz database, a value posted by hand) is still rendered as a
selected option, labelled as such, so an edit never silently swaps it for the first choice:
the server refuses it by the field instead, and the user sees which value it was.

Options are rendered in Python rather than through Django's per-option template: the time
zone list has about 600 of them and the template route costs milliseconds per page.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

UNKNOWN_LABEL = "{value} (no longer offered)"


def _join(parts: Iterable[SafeString]) -> SafeString:
    """Concatenate HTML already escaped (format_html keeps a SafeString as it is)."""
    return format_html_join("", "{}", ((part,) for part in parts))


def _option_html(value: str, label: str, selected: bool) -> SafeString:
    if selected:
        return format_html('<option value="{}" selected>{}</option>', value, label)
    return format_html('<option value="{}">{}</option>', value, label)


class _PickerMixin:
    """Adds ``data-picker`` (what pickers.js looks for) and a placeholder for the search input."""

    picker_kind = "single"

    def __init__(
        self,
        attrs: dict[str, Any] | None = None,
        choices: Any = (),
        *,
        placeholder: str = "Type to search…",
    ) -> None:
        attrs = {"data-picker": self.picker_kind, "data-placeholder": placeholder, **(attrs or {})}
        super().__init__(attrs, choices)  # type: ignore[call-arg]  # Select(attrs, choices)

    def _selected_values(self, value: Any) -> list[str]:
        if value is None:
            return []
        if isinstance(value, str | int) or not isinstance(value, Iterable):
            value = [value]
        return [str(v) for v in value if v is not None and str(v) != ""]

    def render(
        self,
        name: str,
        value: Any,
        attrs: dict[str, Any] | None = None,
        renderer: Any = None,
    ) -> SafeString:
        widget: forms.Select = self  # type: ignore[assignment]
        final_attrs = {"name": name, **widget.build_attrs(widget.attrs, attrs)}
        for text_only in ("maxlength", "minlength"):  # a CharField's, meaningless on a select
            final_attrs.pop(text_only, None)
        if widget.allow_multiple_selected:
            final_attrs["multiple"] = True
        selected = self._selected_values(widget.format_value(value))
        wanted = set(selected)
        seen: set[str] = set()
        parts: list[SafeString] = []
        for group_value, group_label in widget.choices:
            if isinstance(group_label, list | tuple):
                options = []
                for option_value, option_label in group_label:
                    key = "" if option_value is None else str(option_value)
                    seen.add(key)
                    options.append(_option_html(key, str(option_label), key in wanted))
                parts.append(
                    format_html('<optgroup label="{}">{}</optgroup>', group_value, _join(options))
                )
            else:
                key = "" if group_value is None else str(group_value)
                if hasattr(group_value, "value"):  # ModelChoiceIteratorValue
                    key = str(group_value.value)
                seen.add(key)
                parts.append(_option_html(key, str(group_label), key in wanted))
        # Held but no longer offered: keep it visible and selected (see the module docstring).
        parts.extend(
            _option_html(v, UNKNOWN_LABEL.format(value=v), True) for v in selected if v not in seen
        )
        attributes = format_html_join(
            "",
            ' {}="{}"',
            ((key, val) for key, val in final_attrs.items() if val not in (True, False, None)),
        )
        flags = format_html_join(
            "", " {}", ((key,) for key, val in final_attrs.items() if val is True)
        )
        return format_html("<select{}{}>{}</select>", attributes, flags, _join(parts))


class PickerSelect(_PickerMixin, forms.Select):
    """One value, searchable. Give it a first ``("", "Choose …")`` choice when the field has
    no default, so the page without JavaScript does not preselect the first real choice."""

    picker_kind = "single"


class PickerSelectMultiple(_PickerMixin, forms.SelectMultiple):
    """Several values, shown as chips; each chip has a remove button and Backspace removes
    the last one."""

    picker_kind = "multiple"
