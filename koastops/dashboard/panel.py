"""The context of ``components/attention_panel.html``, shared by the start page and the
brand overview. Per-item work is kept out of the template: the tone badges are rendered
once (the kit's status badge) and every brand's URL is built without a ``reverse()`` per
brand, so a panel over 200 brands costs what one over 2 does, plus the markup."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.template.loader import render_to_string
from django.utils.safestring import SafeString

from koastops.dashboard import attention

TONE_LABELS = {"failing": "Failing", "warning": "Warning"}


def tone_badges() -> dict[str, SafeString]:
    return {
        tone: SafeString(
            render_to_string("components/status_badge.html", {"tone": tone, "label": label})
        )
        for tone, label in TONE_LABELS.items()
    }


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
    return {
        "groups": shown,
        "more": more,
        "more_count": len(rest) - len(more),
        "all_groups": groups,
        "badges": tone_badges() if groups else {},
        "show_brand": show_brand,
        "empty_text": empty_text,
    }
