"""UI template tags: ``{% icon "name" %}`` inlines a vendored Lucide SVG,
``{% status_badge %}`` prints a status, ``{% href %}`` is a cheap ``{% url %}``.

``{% icon "check" %}`` gives ``<svg class="icon" aria-hidden="true" focusable="false" …>``
(decorative: the text next to it says the same). ``{% icon "x" label="Close" %}`` gives
``role="img"`` and an ``aria-label`` instead, for an icon that stands alone.

The SVGs live in ``static/vendor/lucide/icons/<name>.svg`` (see docs/ui.md, "Icons", to
add one). Each file is read once per process and kept in a module-level cache. An icon
whose arguments are all literal strings (nearly all of them) is rendered once, when the
template is compiled: on a page it costs nothing more than the text around it. Other
calls cost a dictionary lookup.

An unknown name is a typo: when ``settings.UI_ICON_STRICT`` is on (the default with DEBUG,
and the test run sets it: pyproject's pytest ``env``) it raises ``TemplateSyntaxError`` so
the page and its tests fail loudly; in production it renders nothing rather than a 500.

``{% href 'catalog:brand_detail' brand.slug %}`` takes the arguments of ``{% url %}``
(``as var`` too) and gives the same URL through ``koastops.core.links.fast_reverse``: the
pattern is reversed once per process, then each link is a substitution (a ``{% url %}``
walks the resolver every time, ~25 µs, which adds up over a brand switcher and row menus).
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from django import template
from django.conf import settings
from django.template.base import FilterExpression, Node, Parser, Token
from django.urls import NoReverseMatch
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeString, mark_safe

from koastops.core.links import fast_reverse

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


@lru_cache(maxsize=2048)
def _svg(name: str, label: str, extra_class: str) -> SafeString | None:
    body = _body(name)
    if body is None:
        return None
    if label:
        a11y = f'role="img" aria-label="{escape(label)}" focusable="false"'
    else:
        a11y = 'aria-hidden="true" focusable="false"'
    extra = f" {escape(extra_class)}" if extra_class else ""
    return mark_safe(_OPEN.format(extra=extra, a11y=a11y) + body + "</svg>")  # noqa: S308


def icon(name: str, label: str = "", extra_class: str = "") -> SafeString:
    """Inline the Lucide icon ``name``; ``label`` makes it an image with that name."""
    svg = _svg(str(name), str(label), str(extra_class))
    if svg is None:
        if _strict():
            raise template.TemplateSyntaxError(f"Unknown icon {name!r}: not in {icon_dir()}")
        return mark_safe("")
    return svg


def _literal(expression: FilterExpression) -> str | None:
    """The value of a quoted string argument without filters, else None."""
    if expression.is_var or expression.filters:
        return None
    return str(expression.var)


class _ConstantNode(Node):
    """Markup known when the template is compiled (``as var``: stored, not printed)."""

    child_nodelists = ()

    def __init__(self, html: str, asvar: str | None) -> None:
        self.html, self.asvar = html, asvar

    def render(self, context: template.Context) -> str:
        if self.asvar:
            context[self.asvar] = self.html
            return ""
        return self.html


class _IconNode(Node):
    child_nodelists = ()

    def __init__(
        self, name: FilterExpression, options: dict[str, FilterExpression], asvar: str | None
    ) -> None:
        self.name, self.options, self.asvar = name, options, asvar

    def render(self, context: template.Context) -> str:
        options = {key: value.resolve(context) for key, value in self.options.items()}
        html = icon(self.name.resolve(context), **options)
        if self.asvar:
            context[self.asvar] = html
            return ""
        return html


def _split(
    parser: Parser, token: Token, allowed: tuple[str, ...]
) -> tuple[list[FilterExpression], dict[str, FilterExpression], str | None]:
    """A tag's positional and keyword arguments, and the name after ``as`` (or None)."""
    bits = token.split_contents()
    tag = bits.pop(0)
    asvar = None
    if len(bits) >= 2 and bits[-2] == "as":
        asvar = bits[-1]
        bits = bits[:-2]
    args: list[FilterExpression] = []
    kwargs: dict[str, FilterExpression] = {}
    for bit in bits:
        key, sep, value = bit.partition("=")
        if sep and re.fullmatch(r"\w+", key):
            if key not in allowed or key in kwargs:
                raise template.TemplateSyntaxError(f"{tag!r} got an unexpected argument {key!r}")
            kwargs[key] = parser.compile_filter(value)
        elif kwargs:
            raise template.TemplateSyntaxError(f"{tag!r}: a positional argument after a keyword")
        else:
            args.append(parser.compile_filter(bit))
    return args, kwargs, asvar


@register.tag("icon")
def icon_tag(parser: Parser, token: Token) -> Node:
    """``{% icon "name" [label=…] [extra_class=…] %}`` (see the module docstring)."""
    args, kwargs, asvar = _split(parser, token, ("label", "extra_class"))
    positional = ("name", "label", "extra_class")
    if not 1 <= len(args) <= len(positional):
        raise template.TemplateSyntaxError("'icon' takes a name, then label= and extra_class=")
    for key, value in zip(positional[1:], args[1:], strict=False):
        if key in kwargs:
            raise template.TemplateSyntaxError(f"'icon' got {key!r} twice")
        kwargs[key] = value
    literals = [_literal(args[0]), *(_literal(value) for value in kwargs.values())]
    if all(value is not None for value in literals):
        options = {key: str(_literal(value)) for key, value in kwargs.items()}
        return _ConstantNode(icon(str(literals[0]), **options), asvar)
    return _IconNode(args[0], kwargs, asvar)


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


@lru_cache(maxsize=1024)
def _badge(css: str, tone: str, text: str) -> SafeString:
    return mark_safe(  # noqa: S308 - every value is escaped
        f'<span class="badge badge-{escape(css)}">{icon(TONE_ICONS[tone])}{escape(text)}</span>'
    )


def badge_for(status: str, text: str) -> SafeString:
    """The badge of a status value and its display text (for rows built in Python)."""
    status = str(status or "unknown")
    return _badge(status, STATUS_TONES.get(status, "unknown"), str(text))


def status_badge(obj: object = None, *, tone: str = "", label: str = "") -> SafeString:
    """``{% status_badge pixel %}`` (anything with ``status`` and ``get_status_display``)
    or ``{% status_badge tone="warning" label="No token" %}``: a badge with colour, icon and
    text. The class is ``badge badge-<status>`` (or ``badge-<tone>``); the CSS maps each
    status to its tone. One call, no include: cheap enough for every table row (the
    markup of each status and text is built once per process)."""
    if obj is not None and obj != "":
        status = str(getattr(obj, "status", "") or "unknown")
        display = getattr(obj, "get_status_display", None)
        text = str(label or (display() if callable(display) else status))
        return _badge(status, STATUS_TONES.get(status, "unknown"), text)
    shown_tone = tone if tone in TONE_ICONS else "unknown"
    return _badge(shown_tone, shown_tone, str(label or shown_tone.capitalize()))


class _BadgeNode(Node):
    child_nodelists = ()

    def __init__(
        self,
        obj: FilterExpression | None,
        options: dict[str, FilterExpression],
        asvar: str | None,
    ) -> None:
        self.obj, self.options, self.asvar = obj, options, asvar

    def render(self, context: template.Context) -> str:
        obj = self.obj.resolve(context) if self.obj is not None else None
        options = {key: value.resolve(context) for key, value in self.options.items()}
        html = status_badge(obj, **options)
        if self.asvar:
            context[self.asvar] = html
            return ""
        return html


@register.tag("status_badge")
def status_badge_tag(parser: Parser, token: Token) -> Node:
    """``{% status_badge obj %}`` or ``{% status_badge tone="…" label="…" %}``."""
    args, kwargs, asvar = _split(parser, token, ("tone", "label"))
    if len(args) > 1:
        raise template.TemplateSyntaxError("'status_badge' takes one object, or tone= label=")
    if not args and all(_literal(value) is not None for value in kwargs.values()):
        options = {key: str(_literal(value)) for key, value in kwargs.items()}
        return _ConstantNode(status_badge(**options), asvar)
    return _BadgeNode(args[0] if args else None, kwargs, asvar)


class _HrefNode(Node):
    child_nodelists = ()

    def __init__(
        self,
        name: FilterExpression,
        args: list[FilterExpression],
        kwargs: dict[str, FilterExpression],
        asvar: str | None,
    ) -> None:
        self.name, self.args, self.kwargs, self.asvar = name, args, kwargs, asvar
        self.constant_name = _literal(name)

    def render(self, context: template.Context) -> str:
        name = self.constant_name or self.name.resolve(context)
        args = [arg.resolve(context) for arg in self.args]
        kwargs: dict[str, Any] | None = None
        if self.kwargs:
            kwargs = {key: value.resolve(context) for key, value in self.kwargs.items()}
        try:
            url = fast_reverse(name, args, kwargs)
        except NoReverseMatch:
            if not self.asvar:
                raise
            url = ""  # as {% url … as var %}
        if self.asvar:
            context[self.asvar] = url
            return ""
        return conditional_escape(url) if context.autoescape else url


@register.tag("href")
def href_tag(parser: Parser, token: Token) -> Node:
    """``{% href 'name' arg … [key=value …] [as var] %}``: ``{% url %}``, cheaper."""
    bits = token.split_contents()
    if len(bits) < 2:
        raise template.TemplateSyntaxError("'href' takes at least one argument, a URL name")
    asvar = None
    if len(bits) >= 4 and bits[-2] == "as":
        asvar = bits[-1]
        bits = bits[:-2]
    name = parser.compile_filter(bits[1])
    args: list[FilterExpression] = []
    kwargs: dict[str, FilterExpression] = {}
    for bit in bits[2:]:
        key, sep, value = bit.partition("=")
        if sep and re.fullmatch(r"\w+", key):
            kwargs[key] = parser.compile_filter(value)
        elif kwargs:
            raise template.TemplateSyntaxError("'href': a positional argument after a keyword")
        else:
            args.append(parser.compile_filter(bit))
    if args and kwargs:
        raise template.TemplateSyntaxError("'href': arguments or keywords, not both")
    return _HrefNode(name, args, kwargs, asvar)
