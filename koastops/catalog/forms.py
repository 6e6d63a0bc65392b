"""Catalog forms. They validate what the user typed and put every error next to its field;
the services still run ``full_clean()`` and own the writes.

The model forms here check uniqueness themselves (in ``clean()``) instead of leaving it to
``ModelForm.validate_unique()``: the model's constraints would report a duplicate
(platform, external id) or a case-insensitive duplicate name as a non-field error with a
generic message, and the user needs it by the field, in words."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils.text import slugify

from koastops.catalog import validators
from koastops.catalog.models import AdAccount, Brand, CatalogStatus, Market, Pixel, Platform
from koastops.core.forms import IdModelMultipleChoiceField, form_field
from koastops.core.widgets import PickerSelect, PickerSelectMultiple


def market_label(market: Market) -> str:
    """How a market reads in a picker: "DE — Germany" (search finds the code or the name)."""
    return f"{market.code} — {market.name}"


def _market_picker(form: forms.BaseForm, markets: QuerySet[Market]) -> None:
    """The ``markets`` field (a ``_market_widget``) offers ``markets``, read in one query."""
    field = form_field(form, "markets", forms.ModelMultipleChoiceField)
    field.queryset = markets
    field.label_from_instance = market_label  # type: ignore[method-assign,assignment]


def _market_widget() -> PickerSelectMultiple:
    return PickerSelectMultiple(attrs={"size": 8}, placeholder="Type a country or code…")


def _picker_widget(form: forms.BaseForm, name: str) -> PickerSelect:
    widget = form.fields[name].widget
    if not isinstance(widget, PickerSelect):
        raise TypeError(f"{type(form).__name__}.{name} has no PickerSelect")
    return widget


def _id_format_help(rules: dict[str, Any]) -> str:
    """The id format of every platform (each rule's message names its platform)."""
    return " ".join(message for _, message in rules.values())


def _check_external_id_free(
    form: forms.ModelForm, model: type[AdAccount] | type[Pixel], noun: str
) -> None:
    """The (platform, external id) pair is unique install-wide; say so on the field."""
    platform = form.cleaned_data.get("platform")
    external_id = form.cleaned_data.get("external_id")
    if not platform or not external_id:
        return
    taken = model.objects.filter(platform=platform, external_id=external_id)
    if form.instance.pk:
        taken = taken.exclude(pk=form.instance.pk)
    if taken.exists():
        form.add_error(
            "external_id",
            ValidationError(
                "Another %(platform)s %(noun)s already uses %(external_id)s.",
                code="duplicate_external_id",
                params={
                    "platform": Platform(platform).label,
                    "noun": noun,
                    "external_id": external_id,
                },
            ),
        )


class VersionedForm(forms.ModelForm):
    """An edit form carries the version of the object it was rendered from (hidden), so
    the service can refuse the save when someone else changed the object meanwhile."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["version"] = forms.CharField(
                required=False, widget=forms.HiddenInput, initial=self.instance.version
            )

    def clean_version(self) -> int:
        value = (self.cleaned_data.get("version") or "").strip()
        if not value.isascii() or not value.isdigit() or len(value) > 9:
            raise ValidationError(
                "This form is out of date or incomplete: reload the page and make your"
                " changes again.",
                code="version_missing",
            )
        return int(value)

    def full_clean(self) -> None:
        super().full_clean()
        # A bad hidden version is not the user's typing: show it at the top of the form.
        if "version" in self.errors:
            self.add_error(None, self.errors.pop("version"))


class BrandForm(VersionedForm):
    class Meta:
        model = Brand
        fields = ["name", "slug", "description", "markets"]
        help_texts = {
            "slug": "Used in addresses. Leave blank to derive it from the name.",
            "markets": "The countries this brand advertises in; pick as many as apply.",
        }
        widgets = {"description": forms.Textarea(attrs={"rows": 3}), "markets": _market_widget()}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["slug"].required = False
        _market_picker(self, Market.objects.order_by("name"))

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        others = Brand.objects.filter(name__iexact=name)
        if self.instance.pk:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise ValidationError(
                "Another brand is already called %(name)s.",
                code="duplicate_name",
                params={"name": name},
            )
        return name

    def clean(self) -> dict[str, Any]:
        # Not calling super().clean(): it switches on ModelForm.validate_unique(), whose
        # messages for our constraints are generic; the checks below say it by the field.
        cleaned = self.cleaned_data
        slug = cleaned.get("slug") or ""
        if not slug and "slug" not in self.errors and cleaned.get("name"):
            slug = slugify(cleaned["name"])[:60].strip("-")
            if not slug:
                self.add_error(
                    "slug", "The name has no letters a slug can use: enter a slug, e.g. acme-de."
                )
            cleaned["slug"] = slug
        if slug:
            others = Brand.objects.filter(slug=slug)
            if self.instance.pk:
                others = others.exclude(pk=self.instance.pk)
            if others.exists():
                self.add_error(
                    "slug",
                    ValidationError(
                        "Another brand already uses the slug %(slug)s. Choose a different one.",
                        code="duplicate_slug",
                        params={"slug": slug},
                    ),
                )
        return cleaned


class AdAccountForm(VersionedForm):
    class Meta:
        model = AdAccount
        fields = ["name", "platform", "external_id", "currency", "time_zone", "markets"]
        labels = {"external_id": "External id", "time_zone": "Time zone"}
        help_texts = {
            "currency": "The account's billing currency (ISO 4217), e.g. EUR.",
            "time_zone": "As set in the ad account (IANA name), e.g. Europe/Berlin.",
        }
        widgets = {
            "currency": PickerSelect(placeholder="Type a code or currency…"),
            "time_zone": PickerSelect(placeholder="Type a city or region…"),
            "markets": _market_widget(),
        }

    def __init__(self, *args: Any, brand: Brand, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["external_id"].help_text = _id_format_help(validators.AD_ACCOUNT_ID_RULES)
        self.fields["external_id"].widget.attrs["spellcheck"] = "false"
        # An ad account serves some of its brand's markets (plus any it already had, so an
        # edit never silently drops a market the brand has since removed).
        offered = Q(brands=brand)
        if self.instance.pk:
            offered |= Q(ad_accounts=self.instance)
        _market_picker(self, Market.objects.filter(offered).distinct().order_by("name"))
        self.fields["markets"].help_text = (
            "The brand's markets this account serves. Add a market to the brand first if it"
            " is missing here."
        )
        # The values are still checked by the model's validators (the service runs
        # full_clean()), with the same message for the page and the API; the pickers only
        # offer the valid ones. A stored value no longer offered stays shown (see widgets).
        _picker_widget(self, "currency").choices = [
            ("", "Choose a currency…"),
            *validators.currency_choices(),
        ]
        _picker_widget(self, "time_zone").choices = [
            ("", "Choose a time zone…"),
            *validators.time_zone_choices(),
        ]

    def clean_currency(self) -> str:
        return self.cleaned_data["currency"].strip().upper()

    def clean_time_zone(self) -> str:
        return self.cleaned_data["time_zone"].strip()

    def clean(self) -> dict[str, Any]:
        # Not calling super().clean(): see BrandForm.clean.
        _check_external_id_free(self, AdAccount, "ad account")
        return self.cleaned_data


class PixelForm(VersionedForm):
    """Edit a pixel. Its credentials have their own page (``PixelTokenForm``)."""

    class Meta:
        model = Pixel
        fields = ["name", "platform", "external_id", "capi_enabled", "ad_accounts"]
        field_classes = {"ad_accounts": IdModelMultipleChoiceField}  # no 500 on a huge id
        labels = {
            "external_id": "Pixel (dataset) id",
            "capi_enabled": "Conversions API (server events) is set up",
            "ad_accounts": "Ad accounts using this pixel",
        }
        help_texts = {
            "ad_accounts": "Only this brand's active ad accounts; pick as many as use it.",
        }
        widgets = {
            "ad_accounts": PickerSelectMultiple(
                attrs={"size": 6}, placeholder="Type an ad account name…"
            )
        }

    def __init__(self, *args: Any, ad_accounts: QuerySet[AdAccount], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["external_id"].help_text = _id_format_help(validators.PIXEL_ID_RULES)
        self.fields["external_id"].widget.attrs["spellcheck"] = "false"
        # The brand's active accounts, plus those already linked (so an edit does not drop
        # a link to an account archived since).
        allowed = Q(status=CatalogStatus.ACTIVE)
        if self.instance.pk:
            allowed |= Q(pixels=self.instance)
        form_field(self, "ad_accounts", forms.ModelMultipleChoiceField).queryset = (
            ad_accounts.filter(allowed).distinct().order_by("name")
        )

    def clean(self) -> dict[str, Any]:
        # Not calling super().clean(): see BrandForm.clean.
        _check_external_id_free(self, Pixel, "pixel")
        return self.cleaned_data


class PixelCreateForm(PixelForm):
    access_token = forms.CharField(
        label="Access token",
        required=False,
        max_length=2000,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Lets koastops read the pixel's event statistics. Stored encrypted and never shown again.",
    )


class PixelTokenForm(forms.Form):
    access_token = forms.CharField(
        label="New access token",
        max_length=2000,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Replaces the stored token. Stored encrypted and never shown again.",
    )


STATUS_FILTERS = [("active", "Active"), ("archived", "Archived"), ("all", "All")]


class ListFilterForm(forms.Form):
    """``?q=`` and ``?status=`` of the list pages; anything unknown falls back to the default."""

    q = forms.CharField(label="Search", required=False, max_length=100, strip=True)
    status = forms.ChoiceField(label="Status", required=False, choices=STATUS_FILTERS)

    def values(self) -> tuple[str, str]:
        """(search, status); a bad value of one does not throw away the other."""
        self.is_valid()
        return self.cleaned_data.get("q") or "", self.cleaned_data.get("status") or "active"


# The pixel list's facet filters: the overview's stat cards and the attention panel link
# to exactly these (``?token=missing``, ``?capi=off``, ``?fired=never``). Each value has the
# words of its removable chip in the filter bar.
PIXEL_FACETS: dict[str, dict[str, str]] = {
    "token": {"missing": "Without access token", "set": "With access token"},
    "capi": {"on": "With Conversions API", "off": "Without Conversions API"},
    "fired": {"never": "Never fired", "ever": "Has fired"},
}


class PixelFilterForm(ListFilterForm):
    """The list filters plus the pixel facets; an unknown facet value is ignored (the
    default: no filter), and never costs the search or the status."""

    token = forms.ChoiceField(required=False, choices=[("", "Any"), *PIXEL_FACETS["token"].items()])
    capi = forms.ChoiceField(required=False, choices=[("", "Any"), *PIXEL_FACETS["capi"].items()])
    fired = forms.ChoiceField(required=False, choices=[("", "Any"), *PIXEL_FACETS["fired"].items()])

    def facets(self) -> dict[str, str]:
        """The facets in effect, e.g. ``{"token": "missing"}`` (call after ``values()``)."""
        self.is_valid()
        return {
            name: self.cleaned_data[name] for name in PIXEL_FACETS if self.cleaned_data.get(name)
        }
