"""Consent forms: the matrix's filters, the brand's sign-off validity and the config editor.

The editor only reads what was typed and builds the content document from it; the
content rules are ``content.parse_content`` plus the brand checks, which the service runs.
Their errors come back keyed by content path (``defaults.ad_storage``, ``pixels.0.id``,
``regions.1``) and ``ConfigForm.add_service_error`` puts each one on the field it names
(a pixel's or an event's index is mapped back to its row); ``content.warnings`` are put
on their fields the same way, as warnings that never stop a save.

Pixels and events are one select per row, named by the row's database id
(``pixel_<pk>``, ``event_<pk>``): a row added to the brand between the page and the save
cannot shift another row's answer onto the wrong pixel. "—" means not listed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from koastops.consent import content as consent_content
from koastops.consent.content import (
    CATEGORIES,
    LDU_COUNTRIES,
    LDU_STATES,
    MODES,
    PLATFORMS,
    SIGNALS,
    STATUSES,
)
from koastops.consent.services import VALIDITY_MONTHS_MAX

# --- the matrix ---------------------------------------------------------------------------


class MatrixFilterForm(forms.Form):
    """``?q=`` and ``?status=`` of the matrix; a bad value is ignored (no filter)."""

    q = forms.CharField(label="Search markets", required=False, max_length=100, strip=True)
    status = forms.ChoiceField(
        label="Status", required=False, choices=[("", "Any status"), *STATUSES.items()]
    )

    def values(self) -> tuple[str, str]:
        self.is_valid()
        cleaned = getattr(self, "cleaned_data", {})
        return cleaned.get("q") or "", cleaned.get("status") or ""


class PolicyForm(forms.Form):
    signoff_validity_months = forms.IntegerField(
        label="Sign-offs stay valid for (months)",
        min_value=1,
        max_value=VALIDITY_MONTHS_MAX,
        help_text=f"1 to {VALIDITY_MONTHS_MAX} months. Existing sign-offs keep their expiry.",
        error_messages={
            "required": f"Enter a number of months from 1 to {VALIDITY_MONTHS_MAX}.",
            "invalid": f"Enter a whole number of months from 1 to {VALIDITY_MONTHS_MAX}.",
        },
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0, required=False)


# --- the editor -----------------------------------------------------------------------------

NOT_SET = "not_set"  # a signal left out of the gtag call ("" would read as a missing answer)
SIGNAL_CHOICES = [("denied", "Denied"), ("granted", "Granted"), (NOT_SET, "Not set")]
# Always sent by their select, radio or number input: shown without "(optional)". A
# missing one (a hand-made request) gets the parser's own message.
_ALWAYS_SENT = (*SIGNALS, "platform", "mode", "wait_for_update", "regions", "grant_on")
ROW_CHOICES = [("", "— not listed"), *CATEGORIES.items()]


def _select(label: str, choices: Sequence[tuple[Any, str]], help_text: str = "") -> forms.Field:
    # A CharField with a select: an unknown value reaches the parser, whose message goes on
    # the field like every other.
    return forms.CharField(
        label=label,
        required=False,
        help_text=help_text,
        widget=forms.Select(choices=[(str(k), v) for k, v in choices]),
    )


@dataclass(frozen=True, slots=True)
class Row:
    """A pixel or an event row of the editor."""

    field: str  # the form field's name
    key: str  # the pixel's external id / the event's name
    name: str  # the pixel's name / the event's display name
    note: str = ""  # "archived", "draft"…


@dataclass
class _Index:
    """Content list index -> the field of its row (for errors and warnings by path)."""

    pixels: list[str] = field(default_factory=list)
    events: list[str] = field(default_factory=list)


# content path -> form field, for the fixed fields
_FIELD_OF_PATH = {
    **{f"defaults.{signal}": signal for signal in SIGNALS},
    "platform": "platform",
    "platform_name": "platform_name",
    "mode": "mode",
    "wait_for_update": "wait_for_update",
    "regions": "regions",
    "meta.revoke_before_init": "revoke_before_init",
    "meta.grant_on": "grant_on",
    "ldu.enabled": "ldu_enabled",
    "ldu.country": "ldu_country",
    "ldu.state": "ldu_state",
    "internal_notes": "internal_notes",
}


class ConfigForm(forms.Form):
    platform = _select("Consent platform", list(PLATFORMS.items()))
    platform_name = forms.CharField(
        label="Platform name",
        required=False,
        help_text="Only for a custom / in-house platform: its name.",
        widget=forms.TextInput(attrs={"maxlength": consent_content.PLATFORM_NAME_MAX}),
    )
    ad_storage = _select("ad_storage", SIGNAL_CHOICES, SIGNALS["ad_storage"])
    analytics_storage = _select("analytics_storage", SIGNAL_CHOICES, SIGNALS["analytics_storage"])
    ad_user_data = _select("ad_user_data", SIGNAL_CHOICES, SIGNALS["ad_user_data"])
    ad_personalization = _select(
        "ad_personalization", SIGNAL_CHOICES, SIGNALS["ad_personalization"]
    )
    mode = forms.CharField(
        label="Consent Mode",
        required=False,
        widget=forms.RadioSelect(choices=list(MODES.items())),
    )
    wait_for_update = forms.CharField(
        label="wait_for_update (milliseconds)",
        required=False,
        help_text="How long Google tags wait for the banner's answer "
        f"(0 to {consent_content.WAIT_MAX_MS:,}).",
        widget=forms.NumberInput(attrs={"min": 0, "max": consent_content.WAIT_MAX_MS}),
    )
    regions = forms.CharField(
        label="Regions",
        required=False,
        help_text="ISO 3166 codes, comma-separated (DE, or US-CA for a state).",
        widget=forms.TextInput(attrs={"spellcheck": "false", "autocomplete": "off"}),
    )
    revoke_before_init = forms.BooleanField(
        label="Meta: call fbq('consent', 'revoke') before fbq('init')", required=False
    )
    grant_on = _select(
        "Meta: grant when the visitor accepts",
        [(k, v) for k, v in CATEGORIES.items() if k != "none"],
    )
    ldu_enabled = forms.BooleanField(
        label="Apply Meta Limited Data Use (US state privacy laws)", required=False
    )
    ldu_country = _select("LDU country", list(LDU_COUNTRIES.items()))
    ldu_state = _select("LDU state", list(LDU_STATES.items()))
    internal_notes = forms.CharField(
        label="Internal notes — not part of what legal signs off",
        required=False,
        help_text="For the team: why the config is as it is. Editing them keeps the sign-off.",
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(
        self,
        data: Mapping[str, Any] | None = None,
        *,
        pixels: Sequence[Row],
        events: Sequence[Row],
        initial: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(data, initial=dict(initial or {}))
        self.pixel_rows = list(pixels)
        self.event_rows = list(events)
        for row in self.pixel_rows:
            self.fields[row.field] = _select(f"Pixel {row.name} ({row.key})", ROW_CHOICES)
        for row in self.event_rows:
            self.fields[row.field] = _select(f"Event {row.key}", ROW_CHOICES)
        for name in _ALWAYS_SENT:
            self.fields[name].required = True
            self.fields[name].error_messages["required"] = "Choose or enter a value."
        self.fields["regions"].error_messages["required"] = (
            "Name at least one region (the market's code)."
        )
        self.warnings: dict[str, list[str]] = {}
        self.top_warnings: list[str] = []
        self._submitted = _Index()
        self._regions: list[str] = []

    @classmethod
    def for_content(
        cls,
        content: Mapping[str, Any],
        *,
        notes: str,
        pixels: Sequence[Row],
        events: Sequence[Row],
    ) -> ConfigForm:
        defaults = content.get("defaults") or {}
        meta = content.get("meta") or {}
        ldu = content.get("ldu") or {}
        initial: dict[str, Any] = {
            "platform": content.get("platform") or "onetrust",
            "platform_name": content.get("platform_name") or "",
            **{signal: defaults.get(signal) or NOT_SET for signal in SIGNALS},
            "mode": content.get("mode") or "basic",
            "wait_for_update": content.get("wait_for_update", 0),
            "regions": ", ".join(content.get("regions") or []),
            "revoke_before_init": bool(meta.get("revoke_before_init")),
            "grant_on": meta.get("grant_on") or "marketing",
            "ldu_enabled": bool(ldu.get("enabled")),
            "ldu_country": str(ldu.get("country", 0)),
            "ldu_state": str(ldu.get("state", 0)),
            "internal_notes": notes,
        }
        by_pixel = {p["id"]: p["category"] for p in content.get("pixels") or []}
        by_event = {e["name"].lower(): e["category"] for e in content.get("events") or []}
        for row in pixels:
            initial[row.field] = by_pixel.get(row.key, "")
        for row in events:
            initial[row.field] = by_event.get(row.key.lower(), "")
        return cls(pixels=pixels, events=events, initial=initial)

    # --- the content ----------------------------------------------------------------------

    def content(self) -> dict[str, Any]:
        """The content the form describes (after ``is_valid``). Pixels and events go in
        sorted as the canonical form sorts them, so an error's index is the row's."""
        data = self.cleaned_data
        pixels = sorted(
            ((row, data.get(row.field) or "") for row in self.pixel_rows if data.get(row.field)),
            key=lambda pair: pair[0].key.lower(),
        )
        events = sorted(
            ((row, data.get(row.field) or "") for row in self.event_rows if data.get(row.field)),
            key=lambda pair: pair[0].key.lower(),
        )
        self._submitted = _Index(
            pixels=[row.field for row, _ in pixels], events=[row.field for row, _ in events]
        )
        regions = [part.strip() for part in (data.get("regions") or "").split(",")]
        self._regions = [part for part in regions if part]
        return {
            "platform": data.get("platform") or None,
            "platform_name": data.get("platform_name") or "",
            "defaults": {
                signal: None if data.get(signal) in (None, "", NOT_SET) else data.get(signal)
                for signal in SIGNALS
            },
            "mode": data.get("mode") or None,
            "wait_for_update": (data.get("wait_for_update") or "0").strip(),
            "regions": self._regions,
            "pixels": [{"id": row.key, "category": category} for row, category in pixels],
            "events": [{"name": row.key, "category": category} for row, category in events],
            "meta": {
                "revoke_before_init": bool(data.get("revoke_before_init")),
                "grant_on": data.get("grant_on") or "marketing",
            },
            "ldu": {
                "enabled": bool(data.get("ldu_enabled")),
                "country": data.get("ldu_country") or "0",
                "state": data.get("ldu_state") or "0",
            },
        }

    @property
    def notes(self) -> str:
        return str(self.cleaned_data.get("internal_notes") or "")

    # --- errors and warnings by the field --------------------------------------------------

    def _locate(self, path: str, index: _Index) -> str | None:
        if path in _FIELD_OF_PATH:
            return _FIELD_OF_PATH[path]
        parts = path.split(".")
        if parts[0] == "regions" and len(parts) == 2:
            return "regions"
        if parts[0] in ("pixels", "events") and len(parts) >= 2 and parts[1].isdigit():
            rows = index.pixels if parts[0] == "pixels" else index.events
            number = int(parts[1])
            return rows[number] if number < len(rows) else None
        return None

    def add_service_error(self, error: ValidationError) -> None:
        """Each message of the service's ``ValidationError`` on the field its path names;
        the rest (``market``, a list too long) at the top."""
        if not hasattr(error, "error_dict"):
            for message in error.messages:
                self.add_error(None, message)
            return
        for path, errors in error.error_dict.items():
            messages = [message for item in errors for message in item.messages]
            name = self._locate(path, self._submitted)
            for message in messages:
                if name is not None and name in self.fields:
                    if path.startswith("regions.") and path.split(".")[1].isdigit():
                        number = int(path.split(".")[1])
                        if number < len(self._regions):
                            message = f"{self._regions[number]}: {message}"
                    self.add_error(name, message)
                elif path in (NON_FIELD_ERRORS, "market", "content"):
                    self.add_error(None, message)
                else:
                    self.add_error(None, f"{path}: {message}")

    def set_warnings(self, content: Mapping[str, Any], *, regime: str) -> None:
        """``content.warnings`` of ``content`` (the canonical form) by their fields."""
        by_key = {row.key: row.field for row in self.pixel_rows}
        by_event = {row.key.lower(): row.field for row in self.event_rows}
        index = _Index(
            pixels=[by_key.get(p["id"], "") for p in content.get("pixels") or []],
            events=[by_event.get(e["name"].lower(), "") for e in content.get("events") or []],
        )
        self.warnings = {}
        self.top_warnings = []
        for finding in consent_content.warnings(content, regime=regime):
            name = self._locate(finding.path, index)
            if name and name in self.fields:
                self.warnings.setdefault(name, []).append(finding.message)
            else:
                self.top_warnings.append(finding.message)
        for name in self.warnings:
            bound = self[name]
            described = []
            if bound.help_text:
                described.append(f"{bound.auto_id}_helptext")
            if self.is_bound and bound.errors:
                described.append(f"{bound.auto_id}_error")
            described.append(f"{bound.auto_id}_warning")
            self.fields[name].widget.attrs["aria-describedby"] = " ".join(described)

    def warning_count(self) -> int:
        return sum(len(messages) for messages in self.warnings.values()) + len(self.top_warnings)
