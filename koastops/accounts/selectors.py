"""Member reads for the members page, shaped for a constant number of queries: one page
of users, then one query each for their roles, their narrowing and who may be
deactivated (all asked of the policy module) — never a lookup per row."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.db.models import Count, IntegerField, Q, QuerySet, Subquery
from django.http import Http404

from koastops.accounts import policies
from koastops.accounts.models import Membership, Role, User
from koastops.catalog.models import AdAccount, Brand, CatalogStatus


class NarrowedAccount(NamedTuple):
    pk: int
    name: str


@dataclass
class MemberRow:
    """One line of the members table, with the values its change-role form shows."""

    user: User
    role: Role | None
    narrowed_to: Sequence[AdAccount | NarrowedAccount]  # empty: all of the brand's ad accounts
    can_deactivate: bool
    form_role: str = ""
    form_ad_account_ids: set[int] = field(default_factory=set)
    errors: Any = None  # the change-role form's errors after an invalid POST
    non_field_errors: Any = None
    action_errors: list[str] = field(default_factory=list)  # a refused revoke / deactivate
    is_sole_ops_lead: bool = False  # the brand's last active ops lead
    is_self: bool = False  # the signed-in user's own row
    editing: bool = False  # the change-role editor is open on this row
    confirm: str = ""  # "role" or "revoke": asking the actor to confirm a change of their own
    form: Any = None  # the open editor's form (a MemberRoleForm)
    # Filled in by the view, so the template's row loop only prints strings.
    name: str = ""
    pk_str: str = ""
    edit_url: str = ""
    revoke_url: str = ""
    deactivate_url: str = ""
    ad_accounts_text: str = ""  # "All ad accounts" or the narrowing's names
    has_notes: bool = False  # a refused revoke / deactivate or a confirmation step
    show_menu: bool = True  # the actions menu (not for the last ops lead, unless admin)
    role_text: str = ""  # the role's label, or "—"
    email: str = ""
    badge: str = ""  # the status badge's markup (Active / Deactivated)
    actions: str = ""  # the actions menu's markup (members.manage only; escaped)
    start: str = ""  # the row's markup up to the role cell's content (views._row_markup)
    middle: str = ""  # from the role cell's end to the actions cell's content
    end: str = ""  # the rest of the row

    @property
    def is_media_buyer(self) -> bool:
        return self.role == Role.MEDIA_BUYER


def member_list(*, brand: Brand, search: str = "") -> QuerySet[User]:
    """The brand's members by email, each with their role on it (``member_access`` reads
    it from the row instead of asking again)."""
    queryset = policies.with_brand_role(policies.members_for(brand), brand).annotate(
        brand_active_ops_leads=_active_ops_lead_count(brand.pk)
    )
    if search:
        queryset = queryset.filter(Q(email__icontains=search) | Q(full_name__icontains=search))
    return queryset.order_by("email")


_MEMBER_ROW_FIELDS = (
    "pk",
    "email",
    "full_name",
    "is_active",
    "is_superuser",
    "brand_role_codename",
    "brand_active_ops_leads",
    "narrowed_joined",
)


_USER_FIELDS = ["id", "is_superuser", "is_active", "email", "full_name"]


def member_rows_source(
    *, actor: User, brand: Brand, search: str = ""
) -> tuple[str, Callable[..., QuerySet[Any]], tuple[int | str, ...]]:
    """The page of the members table as ``(key, build, values)`` for ``paginate_cached``
    (its statement compiled once per process): ``values()`` rows of ``member_list``'s
    users with, read in the same statement, their role, the brand's count of active ops
    leads, their narrowing (``narrowed_joined``) and, for a non-admin actor, whether the
    actor may deactivate them (``deactivatable``). ``row_from_values`` makes a row of one."""
    admin = policies.is_admin(actor)

    def build(brand_id: int, *rest: Any) -> QuerySet[Any]:
        queryset = policies.members_of_brand_id(brand_id).annotate(
            brand_role_codename=policies.brand_role_codename(brand_id),
            brand_active_ops_leads=_active_ops_lead_count(brand_id),
            narrowed_joined=policies.narrowed_accounts_joined(brand_id),
        )
        fields = list(_MEMBER_ROW_FIELDS)
        if not admin:
            queryset = queryset.annotate(deactivatable=policies.deactivatable_expression(rest[0]))
            fields.append("deactivatable")
        if search:
            term = rest[-1]
            queryset = queryset.filter(Q(email__icontains=term) | Q(full_name__icontains=term))
        rows: QuerySet[Any] = queryset.order_by("email").values(*fields)
        return rows

    values: tuple[int | str, ...] = (brand.pk,) if admin else (brand.pk, actor.pk)
    if search:
        values = (*values, search)
    return f"member_rows:{'admin' if admin else 'user'}:{bool(search)}", build, values


def member_row_values(*, actor: User, brand: Brand, user_id: int) -> dict[str, Any] | None:
    """``member_rows_source``'s row of one member (one query), or None."""
    _key, build, values = member_rows_source(actor=actor, brand=brand)
    return build(*values).filter(pk=user_id).first()


def row_from_values(values: Mapping[str, Any], *, actor: User, admin: bool) -> MemberRow:
    """A members-table row from a ``member_rows_source`` row (no query)."""
    # An instance of the row's fields only (``from_db``: no query, the rest deferred), in
    # the model's field order.
    user = User.from_db(
        None,
        _USER_FIELDS,
        (
            values["pk"],
            values["is_superuser"],
            values["is_active"],
            values["email"],
            values["full_name"],
        ),
    )
    codename = values["brand_role_codename"]
    role = Role(codename.removeprefix("role_")) if codename else None
    narrowed = [
        NarrowedAccount(pk, name) for pk, name in policies.split_narrowed(values["narrowed_joined"])
    ]
    if admin:
        deactivatable = user.pk != actor.pk
    else:
        deactivatable = bool(values["deactivatable"]) and policies.is_active_user(actor)
    return MemberRow(
        user=user,
        role=role,
        narrowed_to=narrowed,
        can_deactivate=user.is_active and deactivatable,
        form_role=role.value if role else "",
        form_ad_account_ids={account.pk for account in narrowed},
        # The brand's only active ops lead: only an admin may demote, revoke or deactivate.
        is_sole_ops_lead=(
            role == Role.OPS_LEAD and user.is_active and values["brand_active_ops_leads"] == 1
        ),
        is_self=user.pk == actor.pk,
    )


def member_for_change(*, brand: Brand, user_id: int) -> User:
    """A member of the brand, or 404 (a user without a role here is none of its business)."""
    if not 0 < user_id < 2**63:  # beyond the database's bigint: no such row
        raise Http404("No such member.")
    user = policies.members_for(brand).filter(pk=user_id).first()
    if user is None:
        raise Http404("No such member.")
    return user


def brand_ad_accounts(*, brand: Brand) -> list[AdAccount]:
    """All of the brand's ad accounts (archived ones too: a narrowing may still name one)."""
    return list(brand.ad_accounts.order_by("name", "pk"))


def active_ad_accounts(ad_accounts: Iterable[AdAccount]) -> list[AdAccount]:
    """The ones a media buyer can be narrowed to from the page."""
    return [account for account in ad_accounts if account.status == CatalogStatus.ACTIVE]


@dataclass(frozen=True)
class MemberAccess:
    """A member's role on the brand and their narrowing (empty: all ad accounts)."""

    user: User
    role: Role | None
    narrowed_ids: frozenset[int]


def member_access(*, brand: Brand, users: Iterable[User]) -> list[MemberAccess]:
    """Role and narrowing of each user, in two queries for any number of users (the
    members page and the API both read members through this)."""
    users = list(users)
    roles = policies.roles_by_user(brand, users)
    narrowing = policies.narrowed_ad_account_ids(brand, users)
    return [
        MemberAccess(
            user=user,
            role=roles.get(user.pk),
            narrowed_ids=frozenset(narrowing.get(user.pk, ())),
        )
        for user in users
    ]


def user_by_email(*, email: str) -> User | None:
    """The user with this email address, whatever its case."""
    return User.objects.filter(email__iexact=email.strip()).first()


def brand_ad_accounts_by_id(*, brand: Brand, ids: Iterable[int]) -> list[AdAccount] | None:
    """The brand's ad accounts (any status) with these ids; None when one is not the
    brand's (or does not exist: the two are not told apart)."""
    wanted = set(ids)
    found = list(brand.ad_accounts.filter(pk__in=wanted)) if wanted else []
    return found if len(found) == len(wanted) else None


def member_rows(
    *,
    actor: User,
    brand: Brand,
    users: Iterable[User],
    ad_accounts: Sequence[AdAccount],
    mark_sole_ops_lead: bool = False,
) -> list[MemberRow]:
    """``mark_sole_ops_lead``: flag the brand's last active ops lead (one more query, and
    only when an active ops lead is among ``users``: nobody else can be that one)."""
    users = list(users)
    deactivatable = policies.deactivatable_user_ids(actor, users)
    accesses = member_access(brand=brand, users=users)
    sole_ops_lead = None
    active_leads = [
        access.user for access in accesses if access.role == Role.OPS_LEAD and access.user.is_active
    ]
    if mark_sole_ops_lead and active_leads:
        counts = {getattr(user, "brand_active_ops_leads", None) for user in users}
        if None not in counts:
            # Counted with the page of users (``member_list``): no query. An active ops
            # lead is on the page, so when the brand has only one, it is them.
            sole_ops_lead = active_leads[0].pk if counts == {1} else None
        else:
            sole_ops_lead = sole_ops_lead_id(brand=brand)
    rows = []
    for access in accesses:
        user, role, narrowed_ids = access.user, access.role, access.narrowed_ids
        rows.append(
            MemberRow(
                user=user,
                role=role,
                narrowed_to=[account for account in ad_accounts if account.pk in narrowed_ids],
                can_deactivate=user.is_active and user.pk in deactivatable,
                form_role=role.value if role else "",
                form_ad_account_ids=set(narrowed_ids),
                is_sole_ops_lead=sole_ops_lead is not None and user.pk == sole_ops_lead,
                is_self=user.pk == actor.pk,
            )
        )
    return rows


def _active_ops_lead_count(brand_id: int) -> Subquery:
    """How many active ops leads the brand has, as a subquery (the same for every row)."""
    leads = (
        Membership.objects.filter(brand_id=brand_id, role=Role.OPS_LEAD, user__is_active=True)
        .order_by()
        .values("brand")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Subquery(leads, output_field=IntegerField())


def sole_ops_lead_id(*, brand: Brand) -> int | None:
    """The id of the brand's only active ops lead, or None when it has none or several
    (one query). Only an admin can demote, revoke or deactivate that person."""
    ids = list(
        Membership.objects.filter(brand=brand, role=Role.OPS_LEAD, user__is_active=True)
        .order_by("user_id")
        .values_list("user_id", flat=True)[:2]
    )
    return ids[0] if len(ids) == 1 else None
