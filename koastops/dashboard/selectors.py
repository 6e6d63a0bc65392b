"""Reads of the start page: the brands the user may see with their role, in one query."""

from __future__ import annotations

from django.db.models import OuterRef, Subquery

from koastops.accounts import policies
from koastops.accounts.models import Membership, Role, User
from koastops.catalog.models import Brand, CatalogStatus


def brands_with_roles(*, user: User) -> tuple[list[Brand], dict[int, Role]]:
    """The active brands the user may see (``policies.brands_for``), by name, and the
    user's role on each by brand id (the membership row, as ``policies.role_for`` reads
    it). One query. An admin sees every brand and needs no role: an empty map."""
    brands = policies.brands_for(user).filter(status=CatalogStatus.ACTIVE)
    if policies.is_admin(user):
        return list(brands.order_by("name")), {}
    role = Membership.objects.filter(user=user, brand=OuterRef("pk")).values("role")[:1]
    rows: list[Brand] = list(brands.annotate(my_role=Subquery(role)).order_by("name"))
    # A grant without its membership row cannot happen (they are written together); such
    # a brand would be left out of the map and narrowed as the policy says.
    roles = {
        brand.pk: Role(role_value)
        for brand in rows
        if (role_value := getattr(brand, "my_role", None))
    }
    return rows, roles
