from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject


def navigation(request: HttpRequest) -> dict[str, Any]:
    """Brands for the switcher, ``(pk, name, slug)`` of the first 50 by name, fetched
    lazily (one query, only if the template uses it; see templatetags/navigation.py)."""
    from koastops.accounts import policies

    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_brands": ()}
    return {"nav_brands": SimpleLazyObject(lambda: policies.switcher_brands(user))}
