"""Helpers shared by the routers: the brand behind ``{slug}`` with a capability check,
and the translation of service errors into the API's field-naming error format."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404

from koastops.accounts import policies
from koastops.accounts.http import ApiRequest
from koastops.accounts.models import Role
from koastops.catalog.models import Brand

# What a brand slug can be (``SlugField(max_length=60)``): anything else names no brand,
# and never reaches the database (PostgreSQL refuses a NUL in a string).
_SLUG = re.compile(r"[-a-zA-Z0-9_]{1,60}")


def responses(ok: dict[int, Any], *, errors: tuple[int, ...] = (401, 403, 404, 422)) -> dict:
    """The ``response=`` of an operation: its success shape plus the documented errors."""
    from koastops.api.schemas import ErrorOut, ValidationErrorOut

    shapes = {code: ValidationErrorOut if code == 422 else ErrorOut for code in errors}
    return ok | shapes


def brand_with_capability(
    request: ApiRequest, slug: str, capability: str
) -> tuple[Brand, Role | None]:
    """404 for a brand the token's user holds no role on (its existence does not leak),
    403 when their role lacks ``capability``."""
    if not _SLUG.fullmatch(slug):
        raise Http404("No such brand.")
    brand = policies.brand_for_view(request.auth, slug)
    role = policies.role_for(request.auth, brand)
    policies.require(
        policies.can(request.auth, capability, brand, role=role),
        f"Your role on this brand does not allow this ({capability}).",
    )
    return brand, role


def field_errors(exc: ValidationError, *, location: str = "body") -> list[dict[str, Any]]:
    """A Django ``ValidationError`` as ``[{"loc": [location, field], "msg": ...}]``."""
    if hasattr(exc, "error_dict"):
        return [
            {
                "loc": [location] if field == "__all__" else [location, field],
                "msg": message,
                "type": "value_error",
            }
            for field, messages in exc.message_dict.items()
            for message in messages
        ]
    return [{"loc": [location], "msg": message, "type": "value_error"} for message in exc.messages]


def renamed(exc: ValidationError, names: Mapping[str, str]) -> ValidationError:
    """The same errors under the API's field names (services name model fields)."""
    if not hasattr(exc, "error_dict"):
        return exc
    return ValidationError(
        {names.get(field, field): errors for field, errors in exc.error_dict.items()}
    )


def invalid(field: str, message: str) -> ValidationError:
    return ValidationError({field: message})
