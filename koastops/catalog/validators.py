"""Pure validation rules for catalog identifiers (no database, no HTTP)."""

from __future__ import annotations

import re
import zoneinfo
from functools import cache

from django.core.exceptions import ValidationError
from iso4217 import Currency

AD_ACCOUNT_ID_RULES: dict[str, tuple[re.Pattern[str], str]] = {
    "meta": (
        re.compile(r"^act_\d{1,20}$"),
        "A Meta ad account id is act_ followed by digits, e.g. act_1234567890.",
    ),
    "google": (
        re.compile(r"^\d{3}-\d{3}-\d{4}$"),
        "A Google Ads customer id looks like 123-456-7890.",
    ),
    "linkedin": (
        re.compile(r"^\d{1,20}$"),
        "A LinkedIn ad account id is digits only, e.g. 508123456.",
    ),
}

PIXEL_ID_RULES: dict[str, tuple[re.Pattern[str], str]] = {
    "meta": (
        re.compile(r"^\d{5,20}$"),
        "A Meta pixel (dataset) id is digits only, e.g. 111222333444555.",
    ),
    "google": (
        re.compile(r"^(AW-\d{5,15}|G-[A-Z0-9]{4,15})$"),
        "A Google tag id looks like AW-123456789 or G-ABC123XYZ.",
    ),
    "linkedin": (re.compile(r"^\d{1,20}$"), "A LinkedIn Insight Tag partner id is digits only."),
}


def validate_ad_account_external_id(platform: str, value: str) -> None:
    pattern, message = AD_ACCOUNT_ID_RULES[platform]
    if not pattern.match(value):
        raise ValidationError(message, code="invalid_external_id")


def validate_pixel_external_id(platform: str, value: str) -> None:
    pattern, message = PIXEL_ID_RULES[platform]
    if not pattern.match(value):
        raise ValidationError(message, code="invalid_external_id")


@cache
def currency_codes() -> frozenset[str]:
    return frozenset(c.value for c in Currency)


def validate_currency(value: str) -> None:
    if value not in currency_codes():
        raise ValidationError(
            "%(value)s is not an ISO 4217 currency code (e.g. EUR, USD, GBP).",
            code="invalid_currency",
            params={"value": value},
        )


@cache
def time_zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_time_zone(value: str) -> None:
    if value not in time_zone_names():
        raise ValidationError(
            "%(value)s is not an IANA time zone (e.g. Europe/Berlin, America/New_York).",
            code="invalid_time_zone",
            params={"value": value},
        )


@cache
def currency_choices() -> tuple[tuple[str, str], ...]:
    """("EUR", "EUR — Euro"), … by code, for the currency picker."""
    return tuple(
        (c.value, f"{c.value} — {c.currency_name}") for c in sorted(Currency, key=lambda c: c.value)
    )


@cache
def time_zone_choices() -> tuple[tuple[str, tuple[tuple[str, str], ...]], ...]:
    """The IANA zones grouped by region ("Europe": Europe/Berlin, …); names without a region
    (UTC, GMT, EST5EDT, …) under "Other", last."""
    groups: dict[str, list[str]] = {}
    for name in sorted(time_zone_names()):
        region = name.split("/", 1)[0] if "/" in name else "Other"
        groups.setdefault(region, []).append(name)
    regions = sorted(groups, key=lambda region: (region == "Other", region))
    return tuple((region, tuple((n, n) for n in groups[region])) for region in regions)
