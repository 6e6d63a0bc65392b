"""Filters of the consent review pages: a content value as a person reads it.

``{{ value|readable }}``: ``None`` and "" -> "not set", ``True`` / ``False`` -> yes / no,
a list joined by commas; ``{{ mapping|get_item:key }}``; ``{{ value|consent_label:"mode" }}``
(the label of a platform, signal state, mode, category or LDU country / state).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import template

from koastops.consent import content as consent_content

register = template.Library()

_GROUPS: dict[str, Mapping[Any, str]] = {
    "platform": consent_content.PLATFORMS,
    "signal": consent_content.SIGNALS,
    "state": consent_content.STATES,
    "mode": consent_content.MODES,
    "category": consent_content.CATEGORIES,
    "ldu_country": consent_content.LDU_COUNTRIES,
    "ldu_state": consent_content.LDU_STATES,
}


@register.filter
def readable(value: Any) -> str:
    if value is None or value == "":
        return "not set"
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if isinstance(value, list | tuple):
        return ", ".join(readable(item) for item in value) or "not set"
    return str(value)


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    if isinstance(mapping, Mapping):
        return mapping.get(key)
    return None


@register.filter
def consent_label(value: Any, group: str) -> str:
    labels = _GROUPS.get(group, {})
    if value in labels:
        return labels[value]
    return readable(value)
