"""Forms of the launch pages. The launch form renders the top fields and holds their
errors; it does not validate: ``inputs.parse`` (through the services) is the one parser,
so the page, the API and duplicate agree. ``gather`` turns the posted fields
(``ad_sets-<i>-name``, ``ad_sets-<i>-ads-<j>-landing_url``, …) into the mapping
``inputs.parse`` reads; ``structure_rows`` turns that mapping (or a stored launch's
``inputs.as_data``) plus the service's errors by path back into rows for the template."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.forms.utils import ErrorDict
from django.http import QueryDict

from koastops.catalog.models import AdAccount, Market, Pixel
from koastops.core.forms import form_field
from koastops.launches.content import UTM_FIELDS
from koastops.launches.models import BudgetType, Objective
from koastops.taxonomy.models import EventDefinition

TOP_FIELDS = (
    "ad_account",
    "pixel",
    "objective",
    "optimization_event",
    "budget_type",
    "budget_amount",
    "start_at",
    "end_at",
    "campaign_name",
)
SET_FIELDS = ("name", "market", "audience_note")
AD_FIELDS = ("name", "landing_url", *UTM_FIELDS)
AD_LABELS = {
    "name": "Ad name",
    "landing_url": "Landing URL",
    "utm_source": "utm_source",
    "utm_medium": "utm_medium",
    "utm_campaign": "utm_campaign",
    "utm_content": "utm_content",
    "utm_term": "utm_term",
}
SET_LABELS = {"name": "Ad set name", "market": "Market", "audience_note": "Audience note"}
# Index bound of a posted row: far above the parser's limits, small enough for an int.
MAX_INDEX = 9999

_SET_KEY = re.compile(r"^ad_sets-(\d{1,4})-(name|market|audience_note)$")
_AD_KEY = re.compile(
    r"^ad_sets-(\d{1,4})-ads-(\d{1,4})-(name|landing_url|utm_source|utm_medium|utm_campaign"
    r"|utm_content|utm_term)$"
)


def gather(post: QueryDict) -> dict[str, Any]:
    """The posted form as ``inputs.parse`` reads it. Row indices need not be contiguous
    (rows are added and removed in the page): they are sorted, and only their order counts."""
    data: dict[str, Any] = {name: post.get(name, "") for name in TOP_FIELDS}
    data["markets"] = post.getlist("markets")
    sets: dict[int, dict[str, Any]] = {}
    ads: dict[int, dict[int, dict[str, str]]] = {}
    for key in post:
        if match := _SET_KEY.match(key):
            sets.setdefault(int(match[1]), {})[match[2]] = post.get(key, "")
        elif match := _AD_KEY.match(key):
            set_index, ad_index = int(match[1]), int(match[2])
            sets.setdefault(set_index, {})
            ads.setdefault(set_index, {}).setdefault(ad_index, {})[match[3]] = post.get(key, "")
    data["ad_sets"] = [
        {
            **{field: sets[i].get(field, "") for field in SET_FIELDS},
            "ads": [
                {field: ad.get(field, "") for field in AD_FIELDS}
                for _, ad in sorted(ads.get(i, {}).items())
            ],
        }
        for i in sorted(sets)
    ]
    return data


def empty_ad() -> dict[str, str]:
    return dict.fromkeys(AD_FIELDS, "")


def empty_ad_set() -> dict[str, Any]:
    return {**dict.fromkeys(SET_FIELDS, ""), "ads": [empty_ad()]}


def ad_row(
    set_index: int, j: int, ad: Mapping[str, Any], errors: Mapping[str, list[str]]
) -> dict[str, Any]:
    prefix = f"ad_sets-{set_index}-ads-{j}"
    path = f"ad_sets.{set_index}.ads.{j}"
    return {
        "index": j,
        "set_index": set_index,
        "prefix": prefix,
        "errors": errors.get(path, []),
        "fields": [
            {
                "name": field,
                "id": f"id_{prefix}-{field}",
                "html_name": f"{prefix}-{field}",
                "label": AD_LABELS[field],
                "value": ad.get(field) or "",
                "errors": errors.get(f"{path}.{field}", []),
                "required": field in ("name", "landing_url"),
                "check_level": {"name": "ad", "utm_campaign": "utm_campaign"}.get(field, ""),
                "type": "url" if field == "landing_url" else "text",
            }
            for field in AD_FIELDS
        ],
    }


def ad_set_row(
    i: int, ad_set: Mapping[str, Any], errors: Mapping[str, list[str]] | None = None
) -> dict[str, Any]:
    """One ad set (and its ads) as the template renders it, at index ``i``."""
    errors = errors or {}
    path = f"ad_sets.{i}"
    raw_ads = ad_set.get("ads")
    ad_list = (
        list(raw_ads) if isinstance(raw_ads, Sequence) and not isinstance(raw_ads, str) else []
    )
    return {
        "index": i,
        "prefix": f"ad_sets-{i}",
        "errors": errors.get(path, []) + errors.get(f"{path}.ads", []),
        "values": {field: ad_set.get(field) or "" for field in SET_FIELDS},
        "field_errors": {field: errors.get(f"{path}.{field}", []) for field in SET_FIELDS},
        "ads": [
            ad_row(i, j, ad if isinstance(ad, Mapping) else {}, errors)
            for j, ad in enumerate(ad_list)
        ],
    }


def structure_rows(
    data: Mapping[str, Any], errors: Mapping[str, list[str]] | None = None
) -> list[dict[str, Any]]:
    """The ad sets of ``data`` (``gather`` or ``inputs.as_data``), numbered 0, 1, … as the
    service's error paths number them, so each message lands next to its input."""
    raw = data.get("ad_sets")
    sets = list(raw) if isinstance(raw, Sequence) and not isinstance(raw, str) else []
    return [ad_set_row(i, s if isinstance(s, Mapping) else {}, errors) for i, s in enumerate(sets)]


def errors_by_path(error: ValidationError) -> dict[str, list[str]]:
    if hasattr(error, "error_dict"):
        return {path: [str(m) for m in messages] for path, messages in error.message_dict.items()}
    return {"__all__": [str(m) for m in error.messages]}


def local_input(value: Any) -> str:
    """An ISO date-time (``inputs.as_data``) as a ``datetime-local`` value (no zone: the
    form's times are the ad account's)."""
    if not value:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%dT%H:%M")
    text = str(value)
    return text[:16] if len(text) >= 16 and text[10] == "T" else text


class LaunchFilterForm(forms.Form):
    """The list's ``?q=`` (a CharField: over-long or NUL-carrying input is dropped, as the
    other lists do); the other filters are matched against their choices in the view."""

    q = forms.CharField(required=False, max_length=100, strip=True)

    def search(self) -> str:
        self.is_valid()
        return str(getattr(self, "cleaned_data", {}).get("q") or "")


class LaunchForm(forms.Form):
    """The top fields of the launch form (the structure is rendered from rows)."""

    version = forms.CharField(widget=forms.HiddenInput, required=False)
    ad_account = forms.ChoiceField(label="Ad account")
    pixel = forms.ChoiceField(label="Pixel")
    objective = forms.ChoiceField(label="Objective", choices=[("", "—"), *Objective.choices])
    optimization_event = forms.ChoiceField(label="Optimization event")
    markets = forms.MultipleChoiceField(label="Markets", widget=forms.CheckboxSelectMultiple)
    budget_type = forms.ChoiceField(label="Budget type", choices=BudgetType.choices)
    budget_amount = forms.CharField(
        label="Budget amount",
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    start_at = forms.CharField(
        label="Start", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    end_at = forms.CharField(
        label="End",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="Required for a lifetime budget.",
    )
    campaign_name = forms.CharField(
        label="Campaign name", max_length=200, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )

    def __init__(
        self,
        data: Mapping[str, Any] | None = None,
        *,
        accounts: Iterable[AdAccount],
        pixels: Iterable[Pixel],
        events: Iterable[EventDefinition],
        markets: Iterable[Market],
        initial: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(data, initial=initial)
        self.accounts = list(accounts)
        shown = {account.pk: account.name for account in self.accounts}
        form_field(self, "ad_account", forms.ChoiceField).choices = [("", "—")] + [
            (str(a.pk), f"{a.name} ({a.currency}, {a.time_zone})") for a in self.accounts
        ]
        pixel_choices: list[tuple[str, str]] = [("", "—")]
        for pixel in pixels:
            linked = [shown[a.pk] for a in pixel.ad_accounts.all() if a.pk in shown]
            suffix = f" — linked to {', '.join(linked)}" if linked else " — not linked"
            pixel_choices.append((str(pixel.pk), f"{pixel.name}{suffix}"))
        form_field(self, "pixel", forms.ChoiceField).choices = pixel_choices
        form_field(self, "optimization_event", forms.ChoiceField).choices = [("", "—")] + [
            (str(e.pk), e.name) for e in events
        ]
        self.market_choices = [(m.code, f"{m.name} ({m.code})") for m in markets]
        form_field(self, "markets", forms.ChoiceField).choices = self.market_choices
        account = self._chosen_account()
        if account is not None:
            self.fields["budget_amount"].label = f"Budget amount ({account.currency})"
            zone = account.time_zone
            self.fields["start_at"].label = f"Start (in the ad account's time zone, {zone})"
            self.fields["end_at"].label = f"End (in the ad account's time zone, {zone})"
        else:
            self.fields["budget_amount"].label = "Budget amount (in the ad account's currency)"
            self.fields["start_at"].label = "Start (in the ad account's time zone)"
            self.fields["end_at"].label = "End (in the ad account's time zone)"

    def _chosen_account(self) -> AdAccount | None:
        raw = self.data.get("ad_account") if self.is_bound else self.initial.get("ad_account")
        chosen = next((a for a in self.accounts if str(a.pk) == str(raw or "")), None)
        if chosen is None and len(self.accounts) == 1:
            return self.accounts[0]
        return chosen

    def show_errors(self, by_path: Mapping[str, list[str]]) -> None:
        """Attach the service's top-level errors to the fields (nested ones are the rows');
        the form is never validated by Django (``inputs.parse`` is the validator)."""
        self._errors = ErrorDict()
        self.cleaned_data: dict[str, Any] = {}
        for path, messages in by_path.items():
            if path in self.fields:
                self.add_error(path, messages)
            elif path == "__all__" or ("." not in path and path != "ad_sets"):
                self.add_error(None, messages)

    def wire_name_check(self, url: str) -> None:
        """The campaign name asks ``launches:name_check`` while typing; the result goes to
        ``id_campaign_name_check`` (an aria-live element the input is described by)."""
        described = "id_campaign_name_check"
        source = self.data if self.is_bound else self.initial
        trigger = "input changed delay:300ms" + (", load" if source.get("campaign_name") else "")
        if self.errors.get("campaign_name"):
            described = f"id_campaign_name_error {described}"
        self.fields["campaign_name"].widget.attrs.update(
            {
                "hx-get": f"{url}?level=campaign",
                "hx-trigger": trigger,
                "hx-target": "#id_campaign_name_check",
                "hx-swap": "innerHTML",
                "hx-sync": "this:replace",
                "data-name-check": "",
                "aria-describedby": described,
            }
        )

    def no_errors(self) -> None:
        self._errors = ErrorDict()
        self.cleaned_data = {}


class BudgetLimitForm(forms.Form):
    version = forms.CharField(widget=forms.HiddenInput, required=False)
    daily_min = forms.CharField(
        label="Daily minimum",
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        help_text="Blank: no lower bound for a daily budget.",
    )
    daily_max = forms.CharField(
        label="Daily maximum",
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        help_text="Blank: no upper bound for a daily budget.",
    )
    lifetime_max = forms.CharField(
        label="Lifetime maximum",
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        help_text="Blank: no upper bound for a lifetime budget.",
    )

    def __init__(self, *args: Any, currency: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if currency:
            for name in ("daily_min", "daily_max", "lifetime_max"):
                self.fields[name].label = f"{self.fields[name].label} ({currency})"
