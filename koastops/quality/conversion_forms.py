"""Forms of the CRM pages: the upload and the reconciliation filters."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django import forms

from koastops.quality.conversion_services import max_size_label
from koastops.quality.models import ImportMode
from koastops.quality.reconciliation import MAX_DAYS

DEFAULT_DAYS = 30


class UploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="UTF-8 CSV with the columns below (a spreadsheet's “CSV UTF-8”).",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )
    mode = forms.ChoiceField(
        label="If some rows have errors",
        choices=[
            (ImportMode.ALL_OR_NOTHING, "All or nothing: import nothing until every row is valid"),
            (ImportMode.VALID_ROWS, "Import the valid rows and list the others"),
        ],
        initial=ImportMode.ALL_OR_NOTHING,
        widget=forms.RadioSelect,
    )
    source = forms.CharField(
        label="Source",
        initial="crm",
        max_length=40,
        help_text="Which system the conversions come from; ids are unique per source.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text += f" At most {max_size_label()}."


class ReconciliationFilterForm(forms.Form):
    account = forms.TypedChoiceField(label="Ad account", coerce=int, required=False)
    event = forms.ChoiceField(label="Event", required=False)
    start = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(
        self, data: Any, *, accounts: list[tuple[int, str]], events: list[str], today: dt.date
    ) -> None:
        super().__init__(data)
        self.today = today
        cast(forms.ChoiceField, self.fields["account"]).choices = accounts
        cast(forms.ChoiceField, self.fields["event"]).choices = [
            ("", "Every event"),
            *((e, e) for e in events),
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        end = data.get("end") or self.today
        start = data.get("start") or end - dt.timedelta(days=DEFAULT_DAYS - 1)
        if "start" in self.errors or "end" in self.errors:
            return data
        if not (start.year >= 2000 and end.year <= 2100):
            self.add_error("start", "Choose dates between 2000 and 2100.")
        elif start > end:
            self.add_error("start", "The start must be on or before the end.")
        elif (end - start).days >= MAX_DAYS:
            self.add_error("start", f"At most {MAX_DAYS} days at a time.")
        data["start"], data["end"] = start, end
        return data
