"""Typed requests for the views that only a signed-in user reaches.

Django types ``request.user`` as ``User | AnonymousUser``; behind ``login_required`` (or
``brand_capability``) it is always a ``User``, and behind the API's token auth
``request.auth`` is one. Annotating such views with these classes says so to mypy (the
pattern django-stubs documents); nothing is checked or changed at run time.
"""

from __future__ import annotations

from django.http import HttpRequest

from koastops.accounts.models import Role, User
from koastops.core.htmx import HtmxRequest


class AuthenticatedRequest(HtmxRequest):
    """A request behind ``login_required``: its user is signed in."""

    user: User


class BrandRequest(AuthenticatedRequest):
    """A request behind ``policies.brand_capability``: the brand's pk and the user's role
    on it, kept for the page's own capability checks."""

    brand_role: tuple[int, Role | None]


class ApiRequest(HttpRequest):
    """An API request that passed ``ApiTokenAuth``: the token's user."""

    auth: User
    user: User
