"""A brand's members: list (ops leads and admins), grant or change a role, revoke.

Writes go through ``koastops.accounts.services``, which check the policy again, change
the grants and write the activity row in one transaction."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest
from ninja import Query, Router, Status

from koastops.accounts import policies, services
from koastops.accounts.models import Role, User
from koastops.api.common import brand_with_capability, invalid, renamed, responses
from koastops.api.pagination import paginate
from koastops.api.schemas import DbId, MemberFilters, MemberGrantIn, MemberOut, MemberPage
from koastops.catalog.models import Brand

router = Router(tags=["members"])

# Services name model fields; the API names the fields of its request body.
_SERVICE_FIELDS = {"user": "email", "ad_accounts": "ad_account_ids"}


def _member_rows(brand: Brand, users: Iterable[User]) -> list[dict[str, Any]]:
    """Members with their role and narrowing: two queries for the whole page."""
    users = list(users)
    roles = policies.roles_by_user(brand, users)
    narrowed = policies.narrowed_ad_account_ids(brand, users)
    return [
        {
            "id": user.pk,
            "email": user.email,
            "full_name": user.full_name,
            "role": roles.get(user.pk),
            "ad_account_ids": sorted(narrowed[user.pk]) if user.pk in narrowed else None,
            "is_active": user.is_active,
        }
        for user in users
    ]


@router.get("/brands/{slug}/members", response=responses({200: MemberPage}))
def member_list(request: HttpRequest, slug: str, filters: Query[MemberFilters]) -> dict[str, Any]:
    """Everyone holding a role on the brand (capability ``members.view``)."""
    brand, _ = brand_with_capability(request, slug, "members.view")
    queryset = policies.members_for(brand).order_by("email")
    if filters.q:
        queryset = queryset.filter(
            Q(email__icontains=filters.q) | Q(full_name__icontains=filters.q)
        )
    page = paginate(queryset, filters)
    page["items"] = _member_rows(brand, page["items"])
    return page


@router.post("/brands/{slug}/members", response=responses({200: MemberOut}))
def member_grant(request: HttpRequest, slug: str, payload: MemberGrantIn) -> dict[str, Any]:
    """Grant an existing user a role on the brand, or change their role (one per brand).
    A media buyer can be narrowed to chosen ad accounts of the brand."""
    brand, _ = brand_with_capability(request, slug, "members.manage")
    user = User.objects.filter(email__iexact=payload.email.strip()).first()
    if user is None:
        raise invalid("email", "No user has this email address; invite them in the app first.")
    ad_accounts = None
    if payload.ad_account_ids is not None:
        if payload.role != Role.MEDIA_BUYER and payload.ad_account_ids:
            raise invalid("ad_account_ids", "Only a media buyer can be narrowed to ad accounts.")
        wanted = set(payload.ad_account_ids)
        ad_accounts = list(brand.ad_accounts.filter(pk__in=wanted))
        if len(ad_accounts) != len(wanted):
            raise invalid("ad_account_ids", "Choose ad accounts of this brand only.")
    try:
        services.member_grant_role(
            actor=request.auth, brand=brand, user=user, role=payload.role, ad_accounts=ad_accounts
        )
    except ValidationError as exc:
        raise renamed(exc, _SERVICE_FIELDS) from exc
    return _member_rows(brand, [user])[0]


@router.delete(
    "/brands/{slug}/members/{user_id}",
    response=responses({204: None}, errors=(401, 403, 404)),
)
def member_revoke(request: HttpRequest, slug: str, user_id: DbId) -> Status[None]:
    """Take the user's role on the brand away (and any ad account narrowing)."""
    brand, _ = brand_with_capability(request, slug, "members.manage")
    user = policies.members_for(brand).filter(pk=user_id).first()
    if user is None:
        raise Http404("No such member.")
    services.member_revoke_role(actor=request.auth, brand=brand, user=user)
    return Status(204, None)
