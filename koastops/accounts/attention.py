"""The accounts app's "needs attention" item (see ``koastops.dashboard.attention``):
brands without an active ops lead. Shown to admins only: without an ops lead nobody but
an admin can invite one, so nobody else could act on it."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from koastops.accounts import policies
from koastops.accounts.models import Membership, Role
from koastops.core.lookups import any_of
from koastops.dashboard import attention

if TYPE_CHECKING:
    from koastops.catalog.models import Brand


@attention.register("accounts.no_ops_lead")
def no_ops_lead(
    *, user: Any, brands: Sequence[Brand], roles: Mapping[int, Role]
) -> Iterator[attention.AttentionItem]:
    if not policies.is_admin(user):
        return
    members = attention.slug_url("members:list")
    led = set(
        Membership.objects.filter(
            any_of("brand_id", [brand.pk for brand in brands]),
            role=Role.OPS_LEAD,
            user__is_active=True,
        ).values_list("brand_id", flat=True)
    )
    for brand in brands:
        if brand.pk not in led:
            yield attention.AttentionItem(
                brand=brand,
                key="accounts.no_ops_lead",
                tone="failing",
                title="No active ops lead",
                detail="Nobody but an admin can invite members or add ad accounts and pixels.",
                who="Only admins see this, as only an admin can add an ops lead: invite one on the members page.",
                href=members(brand.slug),
                count=1,
            )
