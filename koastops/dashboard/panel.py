"""The context of ``components/attention_panel.html``, shared by the start page and the
brand overview. Per-item work is kept out of the template: the tone badges are rendered
once (the kit's status badge), every brand's URL is built without a ``reverse()`` per
brand, and each shown group's markup is one escaped string built here (a template
variable costs more than the f-string: ~10 per item), so a panel over 200 brands costs
what one over 2 does, plus the markup. The markup is the one the component documents."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from koastops.core.templatetags.ui import status_badge
from koastops.dashboard import attention

TONE_LABELS = {"failing": "Failing", "warning": "Warning"}


def tone_badges() -> dict[str, SafeString]:
    """The kit's status badge of each tone (``{% status_badge tone=… label=… %}``, called
    as the function it is: no template to load and render per page)."""
    return {tone: status_badge(tone=tone, label=label) for tone, label in TONE_LABELS.items()}


def _group_html(
    group: attention.BrandAttention, badges: dict[str, SafeString], *, show_brand: bool
) -> str:
    """``<div class="attention-group">`` of one brand: its name (a link to its overview)
    when the panel spans brands, then one ``<li>`` per item (badge, linked title, detail,
    who can fix it). Every value is escaped."""
    parts = ['<div class="attention-group">']
    if show_brand:
        parts.append(
            f'<h3 class="attention-brand"><a href="{escape(group.url)}">'
            f"{escape(group.brand.name)}</a></h3>"
        )
    parts.append('<ul class="attention-list">')
    for item in group.items:
        badge = badges["failing"] if item.tone == "failing" else badges["warning"]
        who = f' <span class="muted">{escape(item.who)}</span>' if item.who else ""
        parts.append(
            f'<li class="attention-item attention-{escape(item.tone)}" '
            f'data-attention="{escape(item.key)}">{badge}<div class="attention-text">'
            f'<a class="attention-title" href="{escape(item.href)}">{escape(item.title)}</a>'
            f'<p class="attention-detail">{escape(item.detail)}{who}</p></div></li>'
        )
    parts.append("</ul></div>")
    return "".join(parts)


def panel_context(
    items: Sequence[attention.AttentionItem],
    *,
    show_brand: bool,
    empty_text: str,
    limit: int | None = None,
    more_limit: int | None = None,
) -> dict[str, Any]:
    """``groups`` (at most ``limit`` brands in full), ``more`` (the next ``more_limit``
    brands with items, named in one line) and ``more_count`` (brands with items beyond
    those), ``all_groups`` (every brand's group, for counts), the badges and the texts
    the component needs."""
    groups = attention.by_brand(items)
    overview = attention.slug_url("catalog:brand_detail")
    for group in groups:
        group.url = overview(group.brand.slug)
    shown = groups if limit is None else groups[:limit]
    rest = groups[len(shown) :]
    more = rest if more_limit is None else rest[:more_limit]
    badges = tone_badges() if groups else {}
    return {
        "groups": shown,
        "more": more,
        "more_count": len(rest) - len(more),
        "all_groups": groups,
        "badges": badges,
        # Escaped markup of the shown groups and of the "also needing attention" links.
        "groups_html": mark_safe(  # noqa: S308 - every value is escaped
            "\n".join(_group_html(group, badges, show_brand=show_brand) for group in shown)
        ),
        "more_html": mark_safe(  # noqa: S308 - every value is escaped
            ", ".join(
                f'<a href="{escape(group.url)}">{escape(group.brand.name)}</a> ({len(group.items)})'
                for group in more
            )
        ),
        "show_brand": show_brand,
        "empty_text": empty_text,
    }
