"""Forms of the alert pages: the list filters and the rule form. The rule form only
shapes the input; the service (``alert_services``) validates it by field."""

from __future__ import annotations

from typing import Any, cast

from django import forms

from koastops.catalog.models import Pixel
from koastops.quality.alert_selectors import STATUS_FILTERS
from koastops.quality.models import AlertKind

KIND_FILTERS = [("", "Any kind"), *AlertKind.choices]


class AlertFilterForm(forms.Form):
    """``?q=``, ``?status=`` and ``?kind=``; anything unknown falls back to the default."""

    q = forms.CharField(required=False, max_length=100, strip=True)
    status = forms.ChoiceField(required=False, choices=STATUS_FILTERS)
    kind = forms.ChoiceField(required=False, choices=KIND_FILTERS)

    def values(self) -> tuple[str, str, str]:
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return data.get("q") or "", data.get("status") or "all", data.get("kind") or ""


class AlertRuleForm(forms.Form):
    kind = forms.ChoiceField(label="Alert when", choices=AlertKind.choices)
    threshold = forms.CharField(
        label="Threshold",
        required=False,
        max_length=20,
        help_text=(
            "Pixel silent: hours. Volume drop: % of the 7-day daily average. EMQ: 0 to 10. "
            "Dedup coverage: %. Not used for a discrepancy (the brand's tolerance band) or "
            "a broken connection."
        ),
    )
    event = forms.ChoiceField(
        label="Event",
        required=False,
        help_text="Blank: every key event (the Meta events of the active tracking plan).",
    )
    pixel = forms.ChoiceField(label="Pixel", required=False)
    enabled = forms.BooleanField(label="Enabled", required=False, initial=True)
    notify_email = forms.BooleanField(
        label="Email the brand's ops leads and analysts", required=False, initial=True
    )
    webhook_url = forms.CharField(
        label="Slack-compatible webhook URL",
        required=False,
        max_length=500,
        help_text='https only; receives {"text": …} when an alert opens and resolves.',
        widget=forms.URLInput(attrs={"placeholder": "https://hooks.slack.com/services/…"}),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(
        self,
        *args: Any,
        events: list[str],
        pixels: list[Pixel],
        editing: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        event_field = cast(forms.ChoiceField, self.fields["event"])
        pixel_field = cast(forms.ChoiceField, self.fields["pixel"])
        event_field.choices = [("", "Every key event"), *((e, e) for e in events)]
        pixel_field.choices = [
            ("", "Every pixel of the brand"),
            *((str(p.pk), p.name) for p in pixels),
        ]
        if editing:
            self.fields["kind"].disabled = True
            self.fields["kind"].help_text = "A rule keeps its kind; add a rule for another."
        else:
            del self.fields["version"]
