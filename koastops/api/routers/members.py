"""A brand's members: list (ops leads and admins), grant or change a role, revoke.

Reads go through ``koastops.accounts.selectors`` (the members page's own), writes through
``koastops.accounts.services``, which check the policy again, hold the rules (the page
and the API refuse the same input alike), change the grants and write the activity row
in one transaction."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from ninja import Query, Router, Status

from koastops.accounts import selectors, services
from koastops.accounts.http import ApiRequest
from koastops.accounts.models import User
from koastops.api.common import brand_with_capability, field_errors, invalid, renamed, responses
from koastops.api.pagination import paginate
from koastops.api.schemas import DbId, MemberFilters, MemberGrantIn, MemberOut, MemberPage
from koastops.catalog.models import Brand

router = Router(tags=["members"])

# Services name model fields; the API names the fields of its request body or path.
_SERVICE_FIELDS = {"user": "email", "ad_accounts": "ad_account_ids"}
_PATH_FIELDS = {"user": "user_id"}
_MAX_ID = 2**63 - 1  # the database's bigint: a larger id is no id at all


def _member_rows(brand: Brand, users: Iterable[User]) -> list[dict[str, Any]]:
    """Members with their role and narrowing: two queries for the whole page."""
    return [
        {
            "id": access.user.pk,
            "email": access.user.email,
            "full_name": access.user.full_name,
            "role": access.role,
            "ad_account_ids": sorted(access.narrowed_ids) if access.narrowed_ids else None,
            "is_active": access.user.is_active,
        }
        for access in selectors.member_access(brand=brand, users=users)
    ]


@router.get("/brands/{slug}/members", response=responses({200: MemberPage}))
def member_list(request: ApiRequest, slug: str, filters: Query[MemberFilters]) -> dict[str, Any]:
    """Everyone holding a role on the brand (capability ``members.view``)."""
    brand, _ = brand_with_capability(request, slug, "members.view")
    page = paginate(selectors.member_list(brand=brand, search=filters.q), filters)
    page["items"] = _member_rows(brand, page["items"])
    return page


@router.post("/brands/{slug}/members", response=responses({200: MemberOut}))
def member_grant(request: ApiRequest, slug: str, payload: MemberGrantIn) -> dict[str, Any]:
    """Grant an existing user a role on the brand, or change their role (one per brand).
    A media buyer can be narrowed to chosen active ad accounts of the brand. Refused with
    422 naming the field: a deactivated user, a narrowing for another role, an archived
    or foreign ad account, demoting the brand's last ops lead (unless by an admin)."""
    brand, _ = brand_with_capability(request, slug, "members.manage")
    user = selectors.user_by_email(email=payload.email)
    if user is None:
        raise invalid("email", "No user has this email address; invite them in the app first.")
    ad_accounts = None
    if payload.ad_account_ids is not None:
        if any(not 0 < pk <= _MAX_ID for pk in payload.ad_account_ids):
            raise invalid("ad_account_ids", "Choose ad accounts of this brand only.")
        ad_accounts = selectors.brand_ad_accounts_by_id(brand=brand, ids=payload.ad_account_ids)
        if ad_accounts is None:
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
    response=responses({204: None}, errors=(401, 403, 404, 422)),
)
def member_revoke(request: ApiRequest, slug: str, user_id: DbId) -> Status[Any]:
    """Take the user's role on the brand away (and any ad account narrowing). Refused
    with 422 (``["path", "user_id"]``) for the brand's last ops lead, unless by an admin."""
    brand, _ = brand_with_capability(request, slug, "members.manage")
    user = selectors.member_for_change(brand=brand, user_id=user_id)
    try:
        services.member_revoke_role(actor=request.auth, brand=brand, user=user)
    except ValidationError as exc:
        return Status(422, {"detail": field_errors(renamed(exc, _PATH_FIELDS), location="path")})
    return Status(204, None)
