"""Template access to the policy module: ``{% brand_capabilities brand as can %}`` then
``{% if can.members_view %}``. The policy decides; the template only hides what the user
could not use anyway (the views still check)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import template

from koastops.accounts import policies

register = template.Library()


@register.simple_tag(takes_context=True)
def brand_capabilities(context: template.Context, brand: Any) -> Mapping[str, bool]:
    return policies.capabilities_on(context["request"], brand)
