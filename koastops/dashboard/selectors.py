"""Reads of the start page: the brands the user may see with their role, in one query."""

from __future__ import annotations

from koastops.accounts import policies
from koastops.accounts.models import Role, User
from koastops.catalog.models import Brand, CatalogStatus


def brands_with_roles(*, user: User) -> tuple[list[Brand], dict[int, Role]]:
    """The active brands the user may see, by name, and the user's role on each (by
    brand id). One query: an admin sees every brand and holds no role (an empty map); for
    anyone else the role grants are the brands (``policies.roles_of``)."""
    if policies.is_admin(user):
        brands = list(
            policies.brands_for(user).filter(status=CatalogStatus.ACTIVE).order_by("name")
        )
        return brands, {}
    if not policies.is_active_user(user):
        return [], {}
    rows = [
        (brand, role)
        for brand, role in policies.roles_of(user)
        if brand.status == CatalogStatus.ACTIVE
    ]
    return [brand for brand, _ in rows], {brand.pk: role for brand, role in rows}
