"""UI template tags: ``{% icon "name" %}`` inlines a vendored Lucide SVG.

``{% icon "check" %}`` gives ``<svg class="icon" aria-hidden="true" focusable="false" …>``
(decorative: the text next to it says the same). ``{% icon "x" label="Close" %}`` gives
``role="img"`` and an ``aria-label`` instead, for an icon that stands alone.

The SVGs live in ``static/vendor/lucide/icons/<name>.svg`` (see docs/ui.md, "Icons", to
add one). Each file is read once per process and kept in a module-level cache, so the tag
costs a dictionary lookup and one string format per call (it runs per table row).

An unknown name is a typo: when ``settings.UI_ICON_STRICT`` is on (the default with DEBUG,
and the test run sets it: pyproject's pytest ``env``) it raises ``TemplateSyntaxError`` so
the page and its tests fail loudly; in production it renders nothing rather than a 500.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from django import template
from django.conf import settings
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

_OPEN_TAG = re.compile(r"<svg\b[^>]*>", re.DOTALL)
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_OPEN = (
    '<svg class="icon{extra}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" '
    'width="16" height="16" fill="none" stroke="currentColor" stroke-width="2" '
    'stroke-linecap="round" stroke-linejoin="round" {a11y}>'
)


def icon_dir() -> Path:
    return Path(settings.BASE_DIR) / "static" / "vendor" / "lucide" / "icons"


@cache
def _body(name: str) -> str | None:
    """The SVG's inner markup (paths, circles), without Lucide's own <svg> tag and licence
    comment; ``None`` for an icon that is not vendored."""
    if not _NAME.match(name):
        return None
    path = icon_dir() / f"{name}.svg"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    text = _COMMENT.sub("", text)
    text = _OPEN_TAG.sub("", text, count=1).replace("</svg>", "")
    return " ".join(text.split())


def _strict() -> bool:
    return bool(getattr(settings, "UI_ICON_STRICT", settings.DEBUG))


@register.simple_tag
def icon(name: str, label: str = "", extra_class: str = "") -> SafeString:
    """Inline the Lucide icon ``name``; ``label`` makes it an image with that name."""
    body = _body(str(name))
    if body is None:
        if _strict():
            raise template.TemplateSyntaxError(f"Unknown icon {name!r}: not in {icon_dir()}")
        return mark_safe("")
    if label:
        a11y = f'role="img" aria-label="{escape(label)}" focusable="false"'
    else:
        a11y = 'aria-hidden="true" focusable="false"'
    extra = f" {escape(extra_class)}" if extra_class else ""
    return mark_safe(_OPEN.format(extra=extra, a11y=a11y) + body + "</svg>")  # noqa: S308


# A model status -> the tone shown (colour + icon). Plain strings: core knows no app.
STATUS_TONES = {
    "active": "ok",
    "done": "ok",
    "success": "ok",
    "ok": "ok",
    "archived": "archived",
    "pending": "warning",
    "warning": "warning",
    "error": "failing",
    "failed": "failing",
    "failing": "failing",
}
TONE_ICONS = {
    "ok": "circle-check",
    "warning": "triangle-alert",
    "failing": "circle-x",
    "unknown": "circle-help",
    "archived": "archive",
}


@register.simple_tag
def status_badge(obj: object = None, *, tone: str = "", label: str = "") -> SafeString:
    """``{% status_badge pixel %}`` (anything with ``status`` and ``get_status_display``)
    or ``{% status_badge tone="warning" label="No token" %}``: a badge with colour, icon and
    text. The class is ``badge badge-<status>`` (or ``badge-<tone>``); the CSS maps each
    status to its tone. One call, no include: cheap enough for every table row."""
    if obj is not None and obj != "":
        status = str(getattr(obj, "status", "") or "unknown")
        display = getattr(obj, "get_status_display", None)
        text = str(label or (display() if callable(display) else status))
        shown_tone = STATUS_TONES.get(status, "unknown")
        css = status
    else:
        shown_tone = tone if tone in TONE_ICONS else "unknown"
        css = shown_tone
        text = str(label or shown_tone.capitalize())
    return mark_safe(  # noqa: S308 - every value is escaped
        f'<span class="badge badge-{escape(css)}">{icon(TONE_ICONS[shown_tone])}'
        f"{escape(text)}</span>"
    )
