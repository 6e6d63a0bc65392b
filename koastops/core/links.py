"""``reverse()`` for pages that print many links: each URL pattern is reversed once per
process (with placeholder arguments), then every link is string substitution.

A ``reverse()`` walks the resolver and costs ~25 µs; a page with a brand switcher, a
sidebar and row menus prints 50-150 links, which made URL building the largest single
cost of a list page. ``fast_reverse(name, args)`` gives the same string as
``reverse(name, args=args)`` for arguments made of URL-safe characters (slugs, ids), and
falls back to ``reverse()`` for anything else (which then quotes, or raises
``NoReverseMatch``, as usual). The cache is keyed by the script prefix and the URLconf in
effect, so ``override_settings(ROOT_URLCONF=…)`` and a ``SCRIPT_NAME`` both work. Only for
names with one instance (no ``current_app``: the project has no instance namespaces).

In templates: ``{% href 'catalog:brand_detail' brand.slug %}`` (``koastops.core``'s
``ui`` library), the same arguments as ``{% url %}``, ``as var`` included.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from django.conf import settings
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse

# Digits only, so every stock converter (int, slug, str, path) accepts the placeholder.
_MARKER = "7914086420{:02d}"
_MARKERS = re.compile(r"7914086420(\d\d)")
# What may be substituted as-is: a slug or an id needs no quoting.
_SAFE = re.compile(r"[-a-zA-Z0-9_]+")

# (prefix, urlconf, name, positional count, keyword names) -> [text, index, text, …], or
# None when the pattern cannot be reversed with placeholders (a converter refused one).
_PATTERNS: dict[tuple[str, str, str, int, tuple[str, ...]], list[Any] | None] = {}


def _compile(name: str, nargs: int, kwnames: tuple[str, ...]) -> list[Any] | None:
    args = [_MARKER.format(i) for i in range(nargs)]
    kwargs = {key: _MARKER.format(nargs + i) for i, key in enumerate(kwnames)}
    try:
        url = reverse(name, args=args or None, kwargs=kwargs or None)
    except NoReverseMatch:
        # Either the name is wrong (reverse() below raises the same error for the real
        # arguments) or a converter refused a placeholder: no fast path for this name.
        return None
    pieces: list[Any] = []
    position = 0
    seen: set[int] = set()
    for match in _MARKERS.finditer(url):
        index = int(match.group(1))
        if index >= nargs + len(kwnames) or index in seen:
            return None
        seen.add(index)
        pieces.extend((url[position : match.start()], index))
        position = match.end()
    if len(seen) != nargs + len(kwnames):
        return None  # an argument the URL does not show as given (a converter changed it)
    pieces.append(url[position:])
    return pieces


def fast_reverse(
    name: str, args: Sequence[Any] = (), kwargs: Mapping[str, Any] | None = None
) -> str:
    """``reverse(name, args=args, kwargs=kwargs)``, without walking the resolver again."""
    values = [str(value) for value in args]
    kwnames: tuple[str, ...] = ()
    if kwargs:
        kwnames = tuple(kwargs)
        values.extend(str(value) for value in kwargs.values())
    for value in values:
        if not _SAFE.fullmatch(value):
            return reverse(name, args=args or None, kwargs=dict(kwargs) if kwargs else None)
    key = (get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF, name, len(args), kwnames)
    try:
        pieces = _PATTERNS[key]
    except KeyError:
        pieces = _PATTERNS[key] = _compile(name, len(args), kwnames)
    if pieces is None:
        return reverse(name, args=args or None, kwargs=dict(kwargs) if kwargs else None)
    if len(pieces) == 1:
        return str(pieces[0])
    return "".join(values[piece] if type(piece) is int else piece for piece in pieces)


def url_pattern(name: str) -> str:
    """The URL of ``name`` with one argument left as ``{}`` (for ``str.format``), for a
    loop that builds one link per row: ``url_pattern("catalog:brand_detail").format(slug)``.
    The argument must be a slug or an id."""
    key = (get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF, name, 1, ())
    try:
        pieces = _PATTERNS[key]
    except KeyError:
        pieces = _PATTERNS[key] = _compile(name, 1, ())
    if pieces is None or len(pieces) != 3:
        raise NoReverseMatch(f"{name!r} does not take a single slug or id")
    return (
        pieces[0].replace("{", "{{").replace("}", "}}")
        + "{}"
        + pieces[2].replace("{", "{{").replace("}", "}}")
    )
