"""Placeholder views of the foundation: each part replaces its own."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse


def stub(request: Any, **kwargs: Any) -> HttpResponse:
    return HttpResponse("Not built yet.")
