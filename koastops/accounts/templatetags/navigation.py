"""The brand switcher of base.html: ``{% brand_switcher_items %}`` prints the ``<li>`` of
each brand in ``nav_brands`` (the ``navigation`` context processor: ``(pk, name, slug)``
of the first 50 brands the user may see), the current ``brand`` marked with
``aria-current="page"``, or "No brands yet".

Built in Python in one pass: every page prints this menu, and 50 ``{% url %}`` and loop
iterations in the template cost more than the rest of the page's layout together."""

from __future__ import annotations

from html import escape

from django import template
from django.utils.safestring import SafeString, mark_safe

from koastops.core.links import url_pattern

register = template.Library()


@register.simple_tag(takes_context=True)
def brand_switcher_items(context: template.Context) -> SafeString:
    brands = context.get("nav_brands") or ()
    if not brands:
        return mark_safe('<li><span class="menu-label">No brands yet</span></li>')
    current = context.get("brand")
    current_pk = getattr(current, "pk", None) if current else None
    detail = url_pattern("catalog:brand_detail")
    items = []
    for pk, name, slug in brands:
        here = ' aria-current="page"' if pk == current_pk else ""
        items.append(
            f'<li><a class="menu-item" href="{escape(detail.format(slug))}"{here}>'
            f"{escape(name)}</a></li>"
        )
    return mark_safe("\n".join(items))  # noqa: S308 - every value is escaped
