"""The quality settings forms: a brand's thresholds and a pixel's stats provider. The
services validate again (the rules live there); the forms give the page its fields,
labels and help."""

from __future__ import annotations

from decimal import Decimal

from django import forms

from koastops.quality.models import Provider


class ThresholdsForm(forms.Form):
    emq_threshold = forms.DecimalField(
        label="EMQ threshold",
        min_value=Decimal(0),
        max_value=Decimal(10),
        decimal_places=1,
        max_digits=3,
        help_text="0 to 10. A key event whose Event Match Quality is below it is a problem.",
        error_messages={"required": "Enter an EMQ threshold from 0 to 10."},
    )
    dedup_threshold = forms.DecimalField(
        label="Dedup coverage threshold (%)",
        min_value=Decimal(0),
        max_value=Decimal(100),
        decimal_places=2,
        max_digits=5,
        help_text="0 to 100 %. A pixel whose dedup coverage is below it is a problem.",
        error_messages={"required": "Enter a dedup coverage threshold from 0 to 100."},
    )
    tolerance_pct = forms.DecimalField(
        label="Reconciliation tolerance band (%)",
        min_value=Decimal(0),
        max_value=Decimal(100),
        decimal_places=2,
        max_digits=5,
        help_text="0 to 100 %. A day whose platform and CRM counts differ by more is flagged.",
        error_messages={"required": "Enter a tolerance band from 0 to 100."},
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)


class ConnectionForm(forms.Form):
    provider = forms.ChoiceField(
        label="Stats come from",
        choices=Provider.choices,
        error_messages={"invalid_choice": "Choose Meta Graph API or Demo data."},
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
