"""The picker widgets render a real, working <select> that pickers.js can find."""

from __future__ import annotations

import re

from django import forms

from koastops.core.widgets import PickerSelect, PickerSelectMultiple


class PickForm(forms.Form):
    one = forms.CharField(
        widget=PickerSelect(
            choices=[("", "Choose…"), ("a", "Apple"), ("Fruit", [("b", "Banana & co")])],
            placeholder="Type a fruit…",
        )
    )
    many = forms.MultipleChoiceField(
        required=False,
        choices=[("1", "One"), ("2", "Two"), ("3", "Three")],
        widget=PickerSelectMultiple(attrs={"size": 4}),
    )


def options(html: str) -> list[tuple[str, str, bool]]:
    return [
        (value, label, bool(selected))
        for value, selected, label in re.findall(
            r'<option value="([^"]*)"( selected)?>([^<]*)</option>', html
        )
    ]


def test_single_picker_is_a_select_marked_for_pickers_js():
    html = str(PickForm()["one"])
    assert html.startswith('<select name="one"') and 'id="id_one"' in html
    assert 'data-picker="single"' in html and 'data-placeholder="Type a fruit…"' in html
    assert " required" in html and " multiple" not in html
    # Nothing preselected: without JS the browser shows "Choose…", not the first fruit.
    assert options(html) == [
        ("", "Choose…", False),
        ("a", "Apple", False),
        ("b", "Banana &amp; co", False),
    ]
    assert '<optgroup label="Fruit"><option value="b">' in html


def test_bound_value_is_selected_and_labels_are_escaped():
    form = PickForm(data={"one": "b", "many": ["1", "3"]})
    assert ("b", "Banana &amp; co", True) in options(str(form["one"]))
    assert [o for o in options(str(form["many"])) if o[2]] == [
        ("1", "One", True),
        ("3", "Three", True),
    ]


def test_multiple_picker_keeps_attributes():
    html = str(PickForm()["many"])
    assert 'data-picker="multiple"' in html and " multiple" in html and 'size="4"' in html
    assert 'data-placeholder="Type to search…"' in html  # the default hint


def test_a_value_no_longer_offered_stays_shown_and_selected():
    """Never swap a stored value for another one silently: it is shown, labelled."""
    form = PickForm(data={"one": "<gone>", "many": ["2", "9"]})
    assert ("&lt;gone&gt;", "&lt;gone&gt; (no longer offered)", True) in options(str(form["one"]))
    assert ("9", "9 (no longer offered)", True) in options(str(form["many"]))
    assert "<gone>" not in str(form["one"])  # escaped like any value


def test_errors_reach_the_select_for_pickers_js_to_copy():
    form = PickForm(data={"one": ""})
    assert not form.is_valid()
    html = str(form["one"])
    assert 'aria-invalid="true"' in html and 'aria-describedby="id_one_error"' in html
