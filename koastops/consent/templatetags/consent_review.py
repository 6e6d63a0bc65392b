"""Filters of the consent pages: a content value as a person reads it.

``{{ value|readable }}``: ``None`` and "" -> "not set", ``True`` / ``False`` -> yes / no,
a list joined by commas.
"""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


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
