"""Member and access writes. Each checks the policy, changes the grants and writes its
activity row in one transaction; emails go out only after the commit.

Every write about one user (grant, revoke, narrow, deactivate) starts by locking that
user's row, so concurrent changes of one user run one after another and each reads the
state the previous one left. The rules live here, not in the forms: the page and the API
get the same refusals (a ``ValidationError`` naming the field)."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F

from koastops.accounts import policies, tasks
from koastops.accounts.models import Role, User
from koastops.accounts.tokens import api_tokens_revoke_all
from koastops.activity.services import activity_record
from koastops.catalog.models import AdAccount, Brand, CatalogStatus


def _lock_user(user: User) -> User:
    """The user's row, locked until the end of the transaction (fresh values)."""
    return User.objects.select_for_update().get(pk=user.pk)


def _role(value: Role | str) -> Role:
    try:
        return Role(value)
    except ValueError:
        choices = ", ".join(role.value for role in Role)
        raise ValidationError({"role": f"Choose one of: {choices}."}) from None


def _check_narrowing(*, brand: Brand, role: Role, ad_accounts: list[AdAccount]) -> None:
    if not ad_accounts:
        return
    if role != Role.MEDIA_BUYER:
        raise ValidationError(
            {"ad_accounts": "Only a media buyer can be narrowed to ad accounts; choose none."}
        )
    if any(account.brand_id != brand.pk for account in ad_accounts):
        raise ValidationError({"ad_accounts": "Choose ad accounts of this brand only."})
    archived = sorted(
        account.name for account in ad_accounts if account.status != CatalogStatus.ACTIVE
    )
    if archived:
        raise ValidationError(
            {"ad_accounts": f"Archived ad accounts cannot be chosen: {', '.join(archived)}."}
        )


def _refuse_removing_last_ops_lead(*, actor: User, brand: Brand, user: User, field: str) -> None:
    """Only an admin may leave a brand without an active ops lead (someone must be able to
    manage its members)."""
    if policies.is_admin(actor):
        return
    leads = policies.lock_ops_leads(brand)
    if user.pk in leads and not leads - {user.pk}:
        raise ValidationError(
            {
                field: f"{user.email} is the last ops lead of {brand.name}. Make someone else "
                "ops lead first; only an admin can leave a brand without one."
            }
        )


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
    role = _role(role)
    chosen = list(ad_accounts)
    _check_narrowing(brand=brand, role=role, ad_accounts=chosen)
    email = User.objects.normalize_email(email).strip().lower()
    user = User.objects.filter(email__iexact=email).first()
    created = False
    if user is None:
        user = User(email=email, full_name=full_name)
        user.set_unusable_password()
        # Uniqueness is the database's to enforce (the lookup above found no such user): a
        # check here could see a concurrent invitation's row commit in between and refuse
        # with a constraint error instead of joining it through the IntegrityError below.
        user.full_clean(exclude=["password"], validate_unique=False, validate_constraints=False)
        try:
            with transaction.atomic():
                user.save()
            created = True
        except IntegrityError:
            # Someone invited the same address at this very moment and committed first:
            # their invitation stands (and its email); this one only grants the role.
            user = User.objects.get(email__iexact=email)
    if created:
        activity_record(
            verb="member.invited", actor=actor, target=user, brand=brand, after={"email": email}
        )
        tasks.send_invitation.delay_on_commit(
            user_id=user.pk, brand_id=brand.pk, inviter_id=actor.pk
        )
    elif not user.is_active:
        raise ValidationError({"email": "This user is deactivated; an admin must reactivate them."})
    member_grant_role(actor=actor, brand=brand, user=user, role=role, ad_accounts=chosen)
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
    """Grant or change the user's role on the brand (one role per brand). A media buyer
    can be narrowed at once (``ad_accounts``; None leaves the narrowing as it is)."""
    policies.require(policies.can(actor, "members.manage", brand), "You may not manage members.")
    role = _role(role)
    chosen = None if ad_accounts is None else list(ad_accounts)
    _check_narrowing(brand=brand, role=role, ad_accounts=chosen or [])
    user = _lock_user(user)
    if not user.is_active:
        raise ValidationError({"user": "A deactivated user cannot be given a role."})
    previous = policies.membership_role(user, brand)
    if previous == Role.OPS_LEAD and role != Role.OPS_LEAD:
        _refuse_removing_last_ops_lead(actor=actor, brand=brand, user=user, field="role")
    policies.grant_role(user, brand, role)
    if previous != role:
        activity_record(
            verb="member.role_granted" if previous is None else "member.role_changed",
            actor=actor,
            target=user,
            brand=brand,
            before={"role": previous.value if previous else None},
            after={"role": role.value},
        )
    if role == Role.MEDIA_BUYER and chosen is not None:
        _narrow(actor=actor, brand=brand, user=user, ad_accounts=chosen)


@transaction.atomic
def member_narrow_ad_accounts(
    *, actor: User, brand: Brand, user: User, ad_accounts: Iterable[AdAccount]
) -> None:
    """Limit a media buyer to chosen active ad accounts of the brand (none chosen: all)."""
    policies.require(policies.can(actor, "members.manage", brand), "You may not manage members.")
    chosen = list(ad_accounts)
    user = _lock_user(user)
    if policies.membership_role(user, brand) != Role.MEDIA_BUYER:
        raise ValidationError({"ad_accounts": "Only a media buyer can be narrowed to ad accounts."})
    _check_narrowing(brand=brand, role=Role.MEDIA_BUYER, ad_accounts=chosen)
    _narrow(actor=actor, brand=brand, user=user, ad_accounts=chosen)


def _narrow(*, actor: User, brand: Brand, user: User, ad_accounts: list[AdAccount]) -> None:
    """Set the narrowing (already checked, user row locked) and log it if it changed."""
    before_ids = policies.narrowed_ad_account_ids(brand, [user]).get(user.pk, set())
    if before_ids == {account.pk for account in ad_accounts}:
        return
    before = sorted(str(account) for account in brand.ad_accounts.filter(pk__in=before_ids))
    policies.set_ad_account_narrowing(user, brand, ad_accounts)
    activity_record(
        verb="member.ad_accounts_narrowed",
        actor=actor,
        target=user,
        brand=brand,
        before={"ad_accounts": before or "all"},
        after={"ad_accounts": sorted(str(account) for account in ad_accounts) or "all"},
    )


@transaction.atomic
def member_revoke_role(*, actor: User, brand: Brand, user: User) -> bool:
    """Take the user's role on the brand away (and any narrowing). False if they held none."""
    policies.require(policies.can(actor, "members.manage", brand), "You may not manage members.")
    user = _lock_user(user)
    previous = policies.membership_role(user, brand)
    if previous is None:
        return False
    if previous == Role.OPS_LEAD:
        _refuse_removing_last_ops_lead(actor=actor, brand=brand, user=user, field="user")
    policies.revoke_role(user, brand)
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
    token stops working at once, since both are checked on each request. The members
    page and the admin site both come here."""
    locked = _lock_user(user)
    # Asked under the lock: a grant on another brand cannot slip in between.
    policies.require(policies.can_deactivate(actor, locked), "You may not deactivate this user.")
    if not locked.is_active:
        return False
    if not policies.is_admin(actor):
        alone = policies.last_ops_lead_brands(locked)
        if alone:
            names = ", ".join(brand.name for brand in alone)
            raise ValidationError(
                {
                    "user": f"{locked.email} is the last ops lead of {names}. Make someone "
                    "else ops lead first; only an admin can leave a brand without one."
                }
            )
    User.objects.filter(pk=user.pk).update(
        is_active=False, session_version=F("session_version") + 1
    )
    user.refresh_from_db(fields=["is_active", "session_version"])
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
