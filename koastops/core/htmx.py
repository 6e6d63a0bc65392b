"""Small helpers for htmx responses: toasts via ``HX-Trigger`` and page-or-partial rendering."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django_htmx.http import HttpResponseClientRedirect, HttpResponseLocation
from django_htmx.middleware import HtmxDetails

# The request headers ``wants_fragment`` reads: a page answers differently to each.
HTMX_VARY = ("HX-Request", "HX-Boosted", "HX-History-Restore-Request", "HX-Target")


class HtmxRequest(HttpRequest):
    """A request that went through django-htmx's ``HtmxMiddleware`` (every view's does)."""

    htmx: HtmxDetails


def wants_fragment(request: HtmxRequest) -> bool:
    """htmx is swapping one region of the page. Boosted links, history restores and
    navigation into ``#main`` (``HX-Location`` after a save) need the whole page."""
    htmx = request.htmx
    return bool(htmx) and not (
        htmx.boosted or htmx.history_restore_request or htmx.target == "main"
    )


def render_page(
    request: HtmxRequest,
    template: str,
    context: dict[str, Any],
    *,
    partial: str | None = None,
    status: int = 200,
) -> HttpResponse:
    """Render the whole page, or only its named partial when htmx swaps that region.
    ``Vary`` names the htmx headers, so no cache (the browser's back button included)
    hands a fragment to a full-page request or the other way round."""
    name = f"{template}#{partial}" if partial and wants_fragment(request) else template
    response = render(request, name, context, status=status)
    patch_vary_headers(response, HTMX_VARY)
    return response


def add_toast(response: HttpResponse, message: str, level: str = "success") -> HttpResponse:
    triggers: dict[str, Any] = {}
    if response.has_header("HX-Trigger"):
        triggers = json.loads(response["HX-Trigger"])
    triggers["toast"] = {"message": message, "level": level}
    response["HX-Trigger"] = json.dumps(triggers)
    return response


def saved_response(request: HtmxRequest, url: str, message: str) -> HttpResponse:
    """After a successful form POST: redirect (no JS) or navigate the main region (htmx),
    with the message as a flash or a toast."""
    if request.htmx:
        response = HttpResponseLocation(url, target="#main", select="#main", swap="outerHTML")
        return add_toast(response, message)
    messages.success(request, message)
    return redirect(url)


_TOAST_TONES = {messages.SUCCESS: "success", messages.ERROR: "error"}


def reload_with_message(
    request: HtmxRequest, url: str, message: str, *, level: int = messages.SUCCESS
) -> HttpResponse:
    """After a button POST (archive, status, template): the page reloads either way, so
    the flash message shows; htmx also gets a toast."""
    messages.add_message(request, level, message)
    if request.htmx:
        tone = _TOAST_TONES.get(level, "info")
        return add_toast(HttpResponseClientRedirect(url), message, tone)
    return redirect(url)
