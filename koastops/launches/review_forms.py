"""The ops lead's decision form on the review page: approve, reject or request changes, a
comment, the version the page was rendered on, and one written reason per blocking check
that failed (an override). The form checks shapes; the services check the rules (a
comment for reject and request changes, an override for each blocking failure) and
their errors come back by field: ``comment``, ``overrides.<check key>``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from koastops.core.forms import add_service_error, parse_version
from koastops.launches.models import CheckResult
from koastops.launches.services import COMMENT_MAX, REASON_MAX

APPROVE, REJECT, REQUEST_CHANGES = "approve", "reject", "request_changes"
DECISION_CHOICES = [
    (APPROVE, "Approve"),
    (REQUEST_CHANGES, "Request changes"),
    (REJECT, "Reject"),
]
OVERRIDE_PREFIX = "overrides."


class _Radios(forms.RadioSelect):
    """Rendered in a fieldset: the error summary links to the first option."""

    def id_for_label(self, id_: str, index: str | None = None) -> str:
        return f"{id_}_{index or 0}" if id_ else ""


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(
        label="Decision",
        choices=DECISION_CHOICES,
        widget=_Radios,
        error_messages={
            "required": "Choose approve, request changes or reject.",
            "invalid_choice": "Choose approve, request changes or reject.",
        },
    )
    comment = forms.CharField(
        label="Comment",
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        max_length=COMMENT_MAX,
        help_text="Required to reject or request changes: the media buyer reads it.",
    )
    version = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, blocking: Iterable[CheckResult] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.blocking = list(blocking)
        for result in self.blocking:
            self.fields[OVERRIDE_PREFIX + result.key] = forms.CharField(
                label=f"Override “{result.title}”: your reason",
                widget=forms.Textarea(attrs={"rows": 2}),
                required=False,
                max_length=REASON_MAX,
                help_text="Required to approve despite this failure; logged with your name.",
            )

    def clean_version(self) -> int:
        version = parse_version(self.cleaned_data.get("version"))
        if version is None:
            raise ValidationError("This form is out of date: reload the page.")
        return version

    def override_fields(self) -> list[forms.BoundField]:
        return [self[OVERRIDE_PREFIX + result.key] for result in self.blocking]

    def overrides(self) -> dict[str, str]:
        """check key → reason, the ones given."""
        data = self.cleaned_data
        return {
            result.key: data.get(OVERRIDE_PREFIX + result.key) or ""
            for result in self.blocking
            if (data.get(OVERRIDE_PREFIX + result.key) or "").strip()
        }

    def add_service_error(self, exc: ValidationError) -> None:
        add_service_error(self, exc)
