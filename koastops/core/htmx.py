"""Small helpers for htmx responses: toasts via ``HX-Trigger`` and page-or-partial rendering."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def render_page(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    *,
    partial: str | None = None,
    status: int = 200,
) -> HttpResponse:
    """Render the whole page, or only its named partial when htmx asks for it."""
    name = f"{template}#{partial}" if partial and request.htmx else template
    return render(request, name, context, status=status)


def add_toast(response: HttpResponse, message: str, level: str = "success") -> HttpResponse:
    triggers: dict[str, Any] = {}
    if response.has_header("HX-Trigger"):
        triggers = json.loads(response["HX-Trigger"])
    triggers["toast"] = {"message": message, "level": level}
    response["HX-Trigger"] = json.dumps(triggers)
    return response
