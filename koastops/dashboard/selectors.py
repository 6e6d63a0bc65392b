"""Reads of the start page: the brands the user may see with their role, in one query."""

from __future__ import annotations

from django.db import router
from django.db.models import OuterRef, Subquery

from koastops.accounts import policies
from koastops.accounts.models import Membership, Role, User
from koastops.catalog.models import Brand, CatalogStatus

# The brand fields the start page and the providers read (pk, name, slug; status). The
# others are deferred: a provider that reads one more field still gets it (Django loads
# it), but 200 brands cost no timestamps to parse nor full model rows to build.
BRAND_FIELDS = ["id", "name", "slug", "status"]


def brands_with_roles(*, user: User) -> tuple[list[Brand], dict[int, Role]]:
    """The active brands the user may see (``policies.brands_for``), by name, and the
    user's role on each by brand id (the membership row, as ``policies.role_for`` reads
    it). One query. An admin sees every brand and needs no role: an empty map."""
    brands = policies.brands_for(user).filter(status=CatalogStatus.ACTIVE).order_by("name")
    db = router.db_for_read(Brand)
    if policies.is_admin(user):
        return [
            Brand.from_db(db, BRAND_FIELDS, row) for row in brands.values_list(*BRAND_FIELDS)
        ], {}
    role = Membership.objects.filter(user=user, brand=OuterRef("pk")).values("role")[:1]
    rows = brands.annotate(my_role=Subquery(role)).values_list(*BRAND_FIELDS, "my_role")
    result: list[Brand] = []
    # A grant without its membership row cannot happen (they are written together); such
    # a brand would be left out of the map and narrowed as the policy says.
    roles: dict[int, Role] = {}
    for *values, role_value in rows:
        result.append(Brand.from_db(db, BRAND_FIELDS, values))
        if role_value:
            roles[values[0]] = Role(role_value)
    return result, roles
