"""Filters of the launch checklist component (``launches/_checks.html``): a result's
details as readable rows, and the override given on a check."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()

DETAIL_VALUE_MAX = 300  # characters of one value shown; the API has them whole


def _text(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(_text(item) for item in value) or "none"
    if isinstance(value, dict):
        return "; ".join(f"{key}: {_text(item)}" for key, item in value.items()) or "none"
    text = str(value)
    return text if len(text) <= DETAIL_VALUE_MAX else text[: DETAIL_VALUE_MAX - 1] + "…"


@register.filter
def detail_rows(details: Any) -> list[tuple[str, str]]:
    """``{"missing_markets": ["DE", "AT"]}`` → ``[("Missing markets", "DE, AT")]``; a
    non-mapping (a bad row) gives one row "Details"."""
    if not details:
        return []
    if not isinstance(details, dict):
        return [("Details", _text(details))]
    return [
        (str(key).replace("_", " ").capitalize(), _text(value)) for key, value in details.items()
    ]


@register.filter
def override_for(overrides: Any, key: str) -> Any:
    """The override given on the check ``key`` (``overrides``: check key → override)."""
    if not isinstance(overrides, dict):
        return None
    return overrides.get(key)
