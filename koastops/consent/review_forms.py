"""The legal reviewer's decision form (the review page): approve or reject, reasons,
comment and "valid until". The form checks the shapes (a known decision, known reasons,
a date); ``services.consent_decide`` checks the rules (a rejection needs a reason,
"other" needs a comment, the expiry within the brand's validity) and its messages are put
back by their field (``add_service_error``). The hash and the latest decision the page was
rendered for travel as hidden inputs outside the form (``read_guard``)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from koastops.consent.models import REJECTION_REASONS, Decision
from koastops.consent.services import COMMENT_MAX
from koastops.core.forms import add_service_error

DECISION_CHOICES = [(Decision.APPROVED.value, "Approve"), (Decision.REJECTED.value, "Reject")]
_HASH = re.compile(r"^[0-9a-f]{64}$")


class _FirstOption:
    """Radios and checkboxes rendered in a fieldset: the error summary links to the first
    option (Django gives the group no id of its own)."""

    def id_for_label(self, id_: str, index: str | None = None) -> str:
        return f"{id_}_{index or 0}" if id_ else ""


class _Radios(_FirstOption, forms.RadioSelect):
    pass


class _Checkboxes(_FirstOption, forms.CheckboxSelectMultiple):
    pass


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label="Decision",
        choices=DECISION_CHOICES,
        widget=_Radios,
        error_messages={
            "required": "Choose approve or reject.",
            "invalid_choice": "Choose approve or reject.",
        },
    )
    reasons = forms.MultipleChoiceField(
        label="Reasons for rejecting",
        choices=list(REJECTION_REASONS.items()),
        widget=_Checkboxes,
        required=False,
        help_text="Required when you reject; “Other” also needs a comment.",
        error_messages={"invalid_choice": "Choose reasons from the list."},
    )
    comment = forms.CharField(
        label="Comment",
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        max_length=COMMENT_MAX,
        help_text="Recorded with your decision and shown in the history and the evidence export.",
    )
    expires_on = forms.DateField(
        label="Valid until",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        required=False,
        help_text="Only for an approval. At most the brand's validity period from today.",
        error_messages={"invalid": "Enter a date (YYYY-MM-DD)."},
    )

    def add_service_error(self, exc: ValidationError) -> None:
        """The service's messages by their field (unknown keys: for the whole form)."""
        add_service_error(self, exc)

    def decision_args(self) -> dict[str, Any]:
        """The cleaned values as ``consent_decide`` takes them."""
        data = self.cleaned_data
        approve = data["decision"] == Decision.APPROVED
        expires_on: date | None = data.get("expires_on") if approve else None
        return {
            "decision": data["decision"],
            "reasons": [] if approve else list(data.get("reasons") or []),
            "comment": data.get("comment") or "",
            "expires_on": expires_on,
        }


def read_guard(data: Any) -> tuple[str, int] | None:
    """The posted ``content_hash`` and ``last_signoff`` (0 for none), or None when either is
    missing or malformed (the form is out of date or was tampered with)."""
    content_hash = str(data.get("content_hash", "")).strip()
    raw_last = str(data.get("last_signoff", "")).strip()
    if not _HASH.match(content_hash) or not raw_last.isascii() or not raw_last.isdigit():
        return None
    if len(raw_last) > 18:
        return None
    return content_hash, int(raw_last)
