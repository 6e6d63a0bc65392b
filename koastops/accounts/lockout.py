"""The key django-axes counts failed sign-ins under (``AXES_USERNAME_CALLABLE``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def lockout_username(request: HttpRequest | None, credentials: dict[str, Any] | None) -> str | None:
    """The email address as sign-in finds the user (case-insensitively): trimmed and
    lower-cased, so ``Lock@…`` and ``lock@…`` share one failure count and changing the
    case buys nobody more attempts."""
    field = settings.AXES_USERNAME_FORM_FIELD
    if credentials:
        value = credentials.get(field)
    elif request is not None:
        value = getattr(request, "data", request.POST).get(field)
    else:
        value = None
    return value.strip().lower() if isinstance(value, str) else value
