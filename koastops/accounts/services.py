"""Member and access writes. Each checks the policy, changes the grants and writes its
activity row in one transaction; emails go out only after the commit."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F

from koastops.accounts import policies, tasks
from koastops.accounts.models import Role, User
from koastops.activity.services import activity_record
from koastops.catalog.models import AdAccount, Brand


@transaction.atomic
def member_invite(
    *,
    actor: User,
    brand: Brand,
    email: str,
    role: Role,
    full_name: str = "",
    ad_accounts: Iterable[AdAccount] = (),
) -> User:
    """Create the user if new (no usable password until they choose one), grant the role
    and email a set-password link (a worker sends it after the commit; the link starts with
    ``SITE_URL``). Inviting an existing user just grants the role."""
    policies.require(policies.can(actor, "members.manage", brand), "You may not invite members.")
    email = User.objects.normalize_email(email).lower()
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = User(email=email, full_name=full_name)
        user.set_unusable_password()
        user.full_clean(exclude=["password"])
        user.save()
        activity_record(
            verb="member.invited", actor=actor, target=user, brand=brand, after={"email": email}
        )
        tasks.send_invitation.delay_on_commit(
            user_id=user.pk, brand_id=brand.pk, inviter_id=actor.pk
        )
    elif not user.is_active:
        raise ValidationError({"email": "This user is deactivated; an admin must reactivate them."})
    member_grant_role(actor=actor, brand=brand, user=user, role=role, ad_accounts=ad_accounts)
    return user


@transaction.atomic
def member_grant_role(
    *,
    actor: User,
    brand: Brand,
    user: User,
    role: Role,
    ad_accounts: Iterable[AdAccount] | None = None,
) -> None:
    """Grant or change the user's role on the brand (one role per brand)."""
    policies.require(policies.can(actor, "members.manage", brand), "You may not manage members.")
    role = Role(role)
    if not user.is_active:
        raise ValidationError({"user": "A deactivated user cannot be given a role."})
    previous = policies.grant_role(user, brand, role)
    if previous != role:
        activity_record(
            verb="member.role_granted" if previous is None else "member.role_changed",
            actor=actor,
            target=user,
            brand=brand,
            before={"role": previous.value if previous else None},
            after={"role": role.value},
        )
    if role == Role.MEDIA_BUYER and ad_accounts is not None:
        member_narrow_ad_accounts(actor=actor, brand=brand, user=user, ad_accounts=ad_accounts)


@transaction.atomic
def member_narrow_ad_accounts(
    *, actor: User, brand: Brand, user: User, ad_accounts: Iterable[AdAccount]
) -> None:
    """Limit a media buyer to chosen ad accounts of the brand (none chosen: all)."""
    policies.require(policies.can(actor, "members.manage", brand), "You may not manage members.")
    if policies.role_for(user, brand) != Role.MEDIA_BUYER:
        raise ValidationError({"ad_accounts": "Only a media buyer can be narrowed to ad accounts."})
    chosen = list(ad_accounts)
    if any(account.brand_id != brand.pk for account in chosen):
        raise ValidationError({"ad_accounts": "Choose ad accounts of this brand only."})
    before_ids = policies.narrowed_ad_account_ids(brand, [user]).get(user.pk, set())
    if before_ids == {account.pk for account in chosen}:
        return
    before = sorted(str(account) for account in brand.ad_accounts.filter(pk__in=before_ids))
    policies.set_ad_account_narrowing(user, brand, chosen)
    activity_record(
        verb="member.ad_accounts_narrowed",
        actor=actor,
        target=user,
        brand=brand,
        before={"ad_accounts": before or "all"},
        after={"ad_accounts": sorted(str(account) for account in chosen) or "all"},
    )


@transaction.atomic
def member_revoke_role(*, actor: User, brand: Brand, user: User) -> bool:
    policies.require(policies.can(actor, "members.manage", brand), "You may not manage members.")
    previous = policies.revoke_role(user, brand)
    if previous is None:
        return False
    activity_record(
        verb="member.role_revoked",
        actor=actor,
        target=user,
        brand=brand,
        before={"role": previous.value},
        after={"role": None},
    )
    return True


@transaction.atomic
def user_deactivate(*, actor: User, user: User, brand: Brand | None = None) -> bool:
    """Deactivate the user: every session ends (session_version bump) and every API
    token stops working at once, since both are checked on each request."""
    policies.require(policies.can_deactivate(actor, user), "You may not deactivate this user.")
    updated = User.objects.filter(pk=user.pk, is_active=True).update(
        is_active=False, session_version=F("session_version") + 1
    )
    if updated != 1:
        return False
    user.refresh_from_db(fields=["is_active", "session_version"])
    from koastops.accounts.tokens import api_tokens_revoke_all

    api_tokens_revoke_all(user=user)
    activity_record(
        verb="member.deactivated",
        actor=actor,
        target=user,
        brand=brand,
        before={"is_active": True},
        after={"is_active": False},
    )
    return True
