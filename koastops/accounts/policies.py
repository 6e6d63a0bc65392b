"""The one place that decides who may see and do what — and the only module that calls
django-guardian.

Views, htmx fragments, the API and tasks ask this module; none decides access on its
own. A brand the user holds no role on answers 404 (its existence does not leak); a
brand the user may see but not change answers 403 on change.

Roles are granted per brand as guardian object permissions on the brand
(``catalog.role_<role>``), each mirrored by a ``Membership`` row whose unique key allows
one role per user and brand; a media buyer can be narrowed to chosen ad accounts with
``catalog.use_adaccount`` on each. Admin is ``is_superuser`` and may do everything.
Nothing is cached across requests, so a revoked role or a deactivated user loses
access on the very next request, API call or task run.

``CAPABILITIES`` is the capability table; ``docs/permissions.md`` shows the same table
to users and the tests check that the two agree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from functools import wraps
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import (
    BooleanField,
    CharField,
    Exists,
    ExpressionWrapper,
    OuterRef,
    Q,
    QuerySet,
    StringAgg,
    Subquery,
    Value,
)
from django.db.models.functions import Cast, Concat, Length
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.utils.timezone import now
from guardian.shortcuts import assign_perm, remove_perm

from koastops.accounts.http import AuthenticatedRequest, BrandRequest
from koastops.accounts.models import (
    AdAccountUserObjectPermission,
    BrandUserObjectPermission,
    Membership,
    Role,
    User,
)
from koastops.core import sqlcache

if TYPE_CHECKING:
    from koastops.activity.models import ActivityEntry
    from koastops.catalog.models import AdAccount, Brand, Pixel

ALL_ROLES: frozenset[Role] = frozenset(Role)
OPS = frozenset({Role.OPS_LEAD})
LAUNCHERS = frozenset({Role.OPS_LEAD, Role.MEDIA_BUYER})
# Launch capabilities a media buyer holds on their own launches only (ops leads and
# admins on every launch of the brand): see can_on_launch.
OWN_LAUNCH_ONLY = frozenset({"launch.edit", "launch.submit", "launch.cancel"})
ROLE_PERMS = [f"catalog.{role.codename}" for role in Role]
ROLE_CODENAMES = [role.codename for role in Role]
NARROW_PERM = "catalog.use_adaccount"

# capability -> the roles that hold it on their brand. Admin holds every capability;
# an empty set means "admin only".
CAPABILITIES: dict[str, frozenset[Role]] = {
    "brand.view": ALL_ROLES,
    "brand.create": frozenset(),
    "brand.edit": frozenset(),
    "catalog.view": ALL_ROLES,
    "catalog.manage": OPS,
    "members.view": OPS,
    "members.manage": OPS,
    "activity.view": ALL_ROLES,
    "activity.export": frozenset({Role.OPS_LEAD, Role.ANALYST, Role.LEGAL_REVIEWER}),
    "taxonomy.view": ALL_ROLES,
    "taxonomy.manage": OPS,
    "naming.view": ALL_ROLES,
    "naming.manage": OPS,
    "naming.defaults": frozenset(),
    "consent.manage": OPS,
    "consent.sign_off": frozenset({Role.LEGAL_REVIEWER}),
    "launch.view": ALL_ROLES,
    "launch.create": LAUNCHERS,
    "launch.edit": LAUNCHERS,
    "launch.submit": LAUNCHERS,
    "launch.cancel": LAUNCHERS,
    "launch.export": LAUNCHERS,
    "launch.approve": OPS,
    "launch.limits": OPS,
    "conversions.upload": frozenset({Role.ANALYST}),
    "quality.view": ALL_ROLES,
    "quality.manage": OPS,
    "quality.refresh": frozenset({Role.OPS_LEAD, Role.ANALYST}),
    "system.view": frozenset(),
    "consent.view": ALL_ROLES,
    "consent.export": frozenset({Role.OPS_LEAD, Role.LEGAL_REVIEWER}),
}

# Segregation of duties: capabilities that need the role itself. Admin status alone does
# not pass them — an admin signs off consent only while holding the legal-reviewer role
# on that brand. (Approving one's own work is refused by the services, for everyone.)
ROLE_BOUND: frozenset[str] = frozenset({"consent.sign_off"})


# --- who is who ---------------------------------------------------------------------------


def is_active_user(user: Any) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def is_admin(user: Any) -> bool:
    return is_active_user(user) and bool(user.is_superuser)


def role_for(user: Any, brand: Brand) -> Role | None:
    """The user's role on the brand (one query), or None."""
    if not is_active_user(user):
        return None
    role = Membership.objects.filter(user=user, brand=brand).values_list("role", flat=True).first()
    return Role(role) if role else None


def can(
    user: Any, capability: str, brand: Brand | None = None, *, role: Role | None = None
) -> bool:
    """May the user exercise ``capability`` on ``brand``? Pass ``role`` if already known."""
    allowed = CAPABILITIES[capability]  # KeyError for an unknown capability: a bug
    if is_admin(user) and capability not in ROLE_BOUND:
        return True
    if brand is None or not allowed:
        return False
    if role is None:
        role = role_for(user, brand)
    return role in allowed


def require(allowed: bool, message: str = "You may not do this.") -> None:
    if not allowed:
        raise PermissionDenied(message)


# --- scoped querysets (constant queries: subqueries, never per-row checks) ----------------


def brands_for(user: Any) -> QuerySet[Brand]:
    """Every brand the user holds a role on (all for admins), archived ones included.

    The same rows as guardian's ``get_objects_for_user(user, ROLE_PERMS, klass=Brand,
    any_perm=True, use_groups=False, with_superuser=True, accept_global_perms=False)``,
    written out: the brand grants have their own table with a real foreign key, and
    guardian's general path costs more to build than the query costs to run (every page
    asks twice: the brand switcher and the brand in the URL)."""
    from django.contrib.contenttypes.models import ContentType

    from koastops.catalog.models import Brand

    if not is_active_user(user):
        return Brand.objects.none()
    if user.is_superuser:
        return Brand.objects.all()
    grants = BrandUserObjectPermission.objects.filter(
        user_id=user.pk,
        permission__content_type=ContentType.objects.get_for_model(Brand),
        permission__codename__in=ROLE_CODENAMES,
    )
    return Brand.objects.filter(pk__in=grants.values("content_object_id"))


def brands_of_user_id(user_id: int, content_type_id: int) -> QuerySet[Brand]:
    """``brands_for`` a non-admin, active user, from ids (for statements compiled once
    with markers, ``koastops.core.sqlcache``): ``content_type_id`` is the Brand's."""
    from koastops.catalog.models import Brand

    grants = BrandUserObjectPermission.objects.filter(
        user_id=user_id,
        permission__content_type_id=content_type_id,
        permission__codename__in=ROLE_CODENAMES,
    )
    return Brand.objects.filter(pk__in=grants.values("content_object_id"))


def brand_content_type_id() -> int:
    from django.contrib.contenttypes.models import ContentType

    from koastops.catalog.models import Brand

    return int(ContentType.objects.get_for_model(Brand).pk)


def brand_for_view(user: Any, slug: str) -> Brand:
    """The brand, or 404 when it does not exist or the user holds no role on it."""
    brand = brands_for(user).filter(slug=slug).first()
    if brand is None:
        raise Http404("No such brand.")
    return brand


_BRAND_FIELDS: list[str] = []  # Brand's concrete fields (attnames), filled on first use


def _brand_fields() -> list[str]:
    from koastops.catalog.models import Brand

    if not _BRAND_FIELDS:
        _BRAND_FIELDS.extend(field.attname for field in Brand._meta.concrete_fields)
    return _BRAND_FIELDS


def _role_subquery(user_id: Any) -> Subquery:
    role = Membership.objects.filter(user_id=user_id, brand=OuterRef("pk")).values("role")[:1]
    return Subquery(role, output_field=CharField())


def _brand_with_role_query(user_id: int, content_type_id: int, slug: str) -> QuerySet[Any]:
    from koastops.catalog.models import Brand

    grants = BrandUserObjectPermission.objects.filter(
        user_id=user_id,
        permission__content_type_id=content_type_id,
        permission__codename__in=ROLE_CODENAMES,
    )
    return (
        Brand.objects.filter(pk__in=grants.values("content_object_id"), slug=slug)
        .annotate(viewer_role=_role_subquery(user_id))
        .order_by()
        .values_list(*_brand_fields(), "viewer_role")[:1]
    )


def _any_brand_with_role_query(user_id: int, slug: str) -> QuerySet[Any]:
    from koastops.catalog.models import Brand

    return (
        Brand.objects.filter(slug=slug)
        .annotate(viewer_role=_role_subquery(user_id))
        .order_by()
        .values_list(*_brand_fields(), "viewer_role")[:1]
    )


def brand_and_role_for_view(user: Any, slug: str) -> tuple[Brand, Role | None]:
    """``brand_for_view`` and ``role_for`` in one query: the brand (404 as there) and the
    user's role on it (None for an admin without one). The statement is compiled once per
    process (``koastops.core.sqlcache``): every brand page runs it."""
    from django.contrib.contenttypes.models import ContentType

    from koastops.catalog.models import Brand

    if not is_active_user(user):
        raise Http404("No such brand.")
    if user.is_superuser:
        found = sqlcache.rows("brand_with_role:admin", _any_brand_with_role_query, user.pk, slug)
    else:
        content_type = ContentType.objects.get_for_model(Brand)
        found = sqlcache.rows(
            "brand_with_role", _brand_with_role_query, user.pk, content_type.pk, slug
        )
    if not found:
        raise Http404("No such brand.")
    *values, role = found[0]
    brand = Brand.from_db(Brand.objects.db, _brand_fields(), values)
    return brand, Role(role) if role else None


def _switcher_query(user_id: int, content_type_id: int) -> QuerySet[Any]:
    from koastops.catalog.models import Brand

    grants = BrandUserObjectPermission.objects.filter(
        user_id=user_id,
        permission__content_type_id=content_type_id,
        permission__codename__in=ROLE_CODENAMES,
    )
    return (
        Brand.objects.filter(pk__in=grants.values("content_object_id"))
        .order_by("name")
        .values_list("pk", "name", "slug")[:50]
    )


def _admin_switcher_query() -> QuerySet[Any]:
    from koastops.catalog.models import Brand

    return Brand.objects.order_by("name").values_list("pk", "name", "slug")[:50]


def switcher_brands(user: Any) -> list[tuple[int, str, str]]:
    """``(pk, name, slug)`` of the first 50 brands (by name) the user may see: the brand
    switcher of every page (one query, compiled once per process)."""
    from django.contrib.contenttypes.models import ContentType

    from koastops.catalog.models import Brand

    if not is_active_user(user):
        return []
    if user.is_superuser:
        found = sqlcache.rows("switcher:admin", _admin_switcher_query)
    else:
        content_type = ContentType.objects.get_for_model(Brand)
        found = sqlcache.rows("switcher", _switcher_query, user.pk, content_type.pk)
    return [(pk, name, slug) for pk, name, slug in found]


def _narrowings(user: Any) -> QuerySet[AdAccountUserObjectPermission]:
    return AdAccountUserObjectPermission.objects.filter(
        user=user, permission__codename="use_adaccount"
    )


def is_narrowed_anywhere(user: Any) -> bool:
    """Does a narrowing limit the user on any brand (one query; none for admins)? Lists
    across many brands ask once, then build their filters with ``narrowed=False`` for the
    many users nobody narrowed: the per-row subqueries cost more to plan than the list
    itself."""
    if is_admin(user) or not is_active_user(user):
        return False
    return bool(sqlcache.rows("narrowed", _narrowed_query, user.pk))


def _narrowed_query(user_id: int) -> QuerySet[Any]:
    return _narrowings(user_id).values_list("pk")[:1]


def ad_account_visible_q(user: Any, *, narrowed: bool = True) -> Q:
    """A filter on ``AdAccount`` rows, for any brand: the accounts the user may see and
    use on brands they may see (combine with ``brands_for`` or a brand already checked).
    A media buyer narrowed on a brand sees only the chosen accounts of that brand; on a
    brand where nobody narrowed them, all of its accounts. Subqueries only, so a list or
    a count per brand costs no extra query."""
    if is_admin(user):
        return Q()
    if not is_active_user(user):
        return Q(pk__in=[])
    if not narrowed:  # the caller asked is_narrowed_anywhere: no narrowing anywhere
        return Q()
    narrowed_on_brand = _narrowings(user).filter(content_object__brand=OuterRef("brand"))
    chosen = _narrowings(user).filter(content_object=OuterRef("pk"))
    return Q(~Exists(narrowed_on_brand)) | Q(Exists(chosen))


def pixel_visible_q(user: Any, *, narrowed: bool = True) -> Q:
    """A filter on ``Pixel`` rows, for any brand. A narrowed media buyer sees a pixel that
    is linked to at least one of their ad accounts, or to none (a pixel not yet linked
    belongs to the brand, not to an account they may not see); a pixel linked only to
    other accounts is hidden. The accounts they may not see are never named: list the
    pixel's accounts through ``ad_accounts_for`` / ``ad_account_visible_q``."""
    if is_admin(user):
        return Q()
    if not is_active_user(user):
        return Q(pk__in=[])
    if not narrowed:  # see ad_account_visible_q
        return Q()
    from koastops.catalog.models import Pixel

    narrowed_on_brand = _narrowings(user).filter(content_object__brand=OuterRef("brand"))
    links = Pixel.ad_accounts.through.objects.filter(pixel=OuterRef("pk"))
    chosen_linked = _narrowings(user).filter(content_object__pixels=OuterRef("pk"))
    return Q(~Exists(narrowed_on_brand)) | Q(~Exists(links)) | Q(Exists(chosen_linked))


def ad_accounts_for(user: Any, brand: Brand, *, role: Role | None = None) -> QuerySet[AdAccount]:
    """The brand's ad accounts the user may use: all of them, unless the user is a media
    buyer narrowed to chosen ones (one query either way). Pass the user's ``role`` on the
    brand when known: only a media buyer can be narrowed, so for any other role the
    narrowing subqueries (costly to plan) are left out."""
    if role is not None and role != Role.MEDIA_BUYER and is_active_user(user):
        return brand.ad_accounts.all()
    return brand.ad_accounts.filter(ad_account_visible_q(user))


def pixels_for(user: Any, brand: Brand, *, role: Role | None = None) -> QuerySet[Pixel]:
    """The brand's pixels the user may see (see ``pixel_visible_q``; ``role`` as in
    ``ad_accounts_for``)."""
    if role is not None and role != Role.MEDIA_BUYER and is_active_user(user):
        return brand.pixels.all()
    return brand.pixels.filter(pixel_visible_q(user))


def visible_ad_account_labels(user: Any, brand: Brand) -> frozenset[str] | None:
    """For texts that name ad accounts by label (activity rows): the labels of the
    brand's accounts the user may see, or None when they may see all of them (one query;
    none for admins)."""
    if is_admin(user):
        return None
    from koastops.catalog.models import AdAccount

    chosen = AdAccount.objects.filter(
        brand=brand, pk__in=_narrowings(user).values("content_object_id")
    )
    labels = frozenset(str(ad_account) for ad_account in chosen)
    return labels or None


def activity_for(user: Any, brand: Brand, *, role: Role | None = None) -> QuerySet[ActivityEntry]:
    """The brand's activity rows the user may see, as one queryset (subqueries, no
    per-row check): rows on the brand itself for every role; rows on members only with
    ``members.view``; rows on ad accounts and pixels only for those the user may see
    (a narrowed media buyer). Rows on any other kind of target are for admins only, so
    a new kind of object stays hidden until this function says who may see it. Pass
    ``role`` if already known."""
    from koastops.activity.models import ActivityEntry

    queryset: QuerySet[ActivityEntry] = ActivityEntry.objects.filter(brand_id=brand.pk)
    if is_admin(user):
        return queryset
    if role is None:
        role = role_for(user, brand)
    if not can(user, "activity.view", brand, role=role):
        return queryset.none()

    def ids_of(visible: QuerySet[Any]) -> Subquery:
        return Subquery(visible.order_by().annotate(key=Cast("pk", CharField())).values("key"))

    visible = Q(target_type="catalog.brand")
    if role == Role.MEDIA_BUYER:
        # Only a media buyer can be narrowed: only then do rows depend on the object.
        visible |= Q(
            target_type="catalog.adaccount", target_id__in=ids_of(ad_accounts_for(user, brand))
        )
        visible |= Q(target_type="catalog.pixel", target_id__in=ids_of(pixels_for(user, brand)))
    else:
        visible |= Q(target_type__in=["catalog.adaccount", "catalog.pixel"])
    if can(user, "members.view", brand, role=role):
        visible |= Q(target_type="accounts.user")
    if can(user, "taxonomy.view", brand, role=role):
        visible |= Q(target_type__in=["taxonomy.eventdefinition", "taxonomy.trackingplan"])
    if can(user, "naming.view", brand, role=role):
        visible |= Q(target_type="taxonomy.namingrule")
    if can(user, "consent.view", brand, role=role):
        visible |= Q(target_type__in=["consent.consentconfig", "consent.consentpolicy"])
    if can(user, "quality.view", brand, role=role):
        from koastops.quality.models import Alert, PixelConnection

        visible |= Q(
            target_type__in=[
                "quality.qualitysettings",
                "quality.alertrule",
                "quality.conversionimport",
            ]
        )
        # Rows on a pixel's connection or an alert follow the pixel: a narrowed media
        # buyer sees only those of the pixels they may see (and alerts on no pixel).
        if role == Role.MEDIA_BUYER:
            pixels = pixels_for(user, brand).values("pk")
            visible |= Q(
                target_type="quality.pixelconnection",
                target_id__in=ids_of(PixelConnection.objects.filter(pixel__in=pixels)),
            )
            visible |= Q(
                target_type="quality.alert",
                target_id__in=ids_of(
                    Alert.objects.filter(Q(pixel__isnull=True) | Q(pixel__in=pixels))
                ),
            )
        else:
            visible |= Q(target_type__in=["quality.pixelconnection", "quality.alert"])
    if can(user, "launch.view", brand, role=role):
        # Rows on a launch or budget limits follow the ad account (narrowed buyers).
        from koastops.launches.models import BudgetLimit, Launch

        if role == Role.MEDIA_BUYER:
            accounts = ad_accounts_for(user, brand, role=role).values("pk")
            visible |= Q(
                target_type="launches.launch",
                target_id__in=ids_of(Launch.objects.filter(ad_account__in=accounts)),
            )
            visible |= Q(
                target_type="launches.budgetlimit",
                target_id__in=ids_of(BudgetLimit.objects.filter(ad_account__in=accounts)),
            )
        else:
            visible |= Q(target_type__in=["launches.launch", "launches.budgetlimit"])
    return queryset.filter(visible)


# --- launches -----------------------------------------------------------------------------


def launch_visible_q(user: Any, *, narrowed: bool = True) -> Q:
    """A filter on ``Launch`` rows, for any brand: those on ad accounts the user may use
    (a narrowed media buyer sees only launches on their accounts). Combine with the
    brands the user may see. Subqueries only."""
    from koastops.catalog.models import AdAccount

    if is_admin(user):
        return Q()
    if not is_active_user(user):
        return Q(pk__in=[])
    if not narrowed:
        return Q()
    return Q(ad_account__in=AdAccount.objects.filter(ad_account_visible_q(user)).values("pk"))


def can_on_launch(user: Any, capability: str, launch: Any, *, role: Role | None = None) -> bool:
    """May the user exercise a ``launch.*`` capability on this launch? The capability on
    its brand, the launch's ad account one the user may use (a narrowed media buyer), and
    for editing, submitting and cancelling a media buyer's own launch only (one or two
    queries; none more when ``role`` is passed and the user is not a media buyer)."""
    brand = launch.brand
    if not can(user, capability, brand, role=role):
        return False
    if is_admin(user):
        return True
    if role is None:
        role = role_for(user, brand)
    if role == Role.MEDIA_BUYER:
        if capability in OWN_LAUNCH_ONLY and launch.created_by_id != user.pk:
            return False
        return ad_accounts_for(user, brand, role=role).filter(pk=launch.ad_account_id).exists()
    return True


def may_review(user: Any, launch: Any) -> bool:
    """Four eyes: nobody reviews a launch they created or submitted — admins included
    (the services refuse it; pages use this to offer the buttons)."""
    return is_active_user(user) and user.pk not in (launch.created_by_id, launch.submitted_by_id)


def holders_of(brand_id: int, capability: str) -> QuerySet[User]:
    """The active users whose role on the brand holds ``capability`` (one query): whom to
    notify, e.g. the brand's legal reviewers for ``consent.sign_off``. Admins without such
    a role are not included: they are not the ones asked to act."""
    roles = [role.value for role in CAPABILITIES[capability]]
    return User.objects.filter(
        is_active=True, memberships__brand_id=brand_id, memberships__role__in=roles
    ).distinct()


def members_for(brand: Brand) -> QuerySet[User]:
    """Users holding any role on the brand."""
    grants = BrandUserObjectPermission.objects.filter(
        content_object=brand, permission__codename__in=ROLE_CODENAMES, user=OuterRef("pk")
    )
    return User.objects.filter(Exists(grants))


def with_brand_role(users: QuerySet[User], brand: Brand) -> QuerySet[User]:
    """The users, each with ``brand_role_codename``: the codename of their role on the
    brand (None without one), read in the same query (``roles_by_user`` then needs none)."""
    grants = BrandUserObjectPermission.objects.filter(
        content_object=brand, permission__codename__in=ROLE_CODENAMES, user=OuterRef("pk")
    ).values("permission__codename")[:1]
    return users.annotate(brand_role_codename=Subquery(grants))


# --- the members page's row statement (compiled once per process: ids are parameters) ----
_NARROW_ITEM = "\x1f"  # between two narrowed ad accounts
_NARROW_PART = "\x1e"  # between an ad account's name and its id


def members_of_brand_id(brand_id: int) -> QuerySet[User]:
    """``members_for`` by the brand's id (a parameter of the statement, for ``sqlcache``)."""
    grants = BrandUserObjectPermission.objects.filter(
        content_object_id=brand_id, permission__codename__in=ROLE_CODENAMES, user=OuterRef("pk")
    )
    return User.objects.filter(Exists(grants))


def brand_role_codename(brand_id: int) -> Subquery:
    """The codename of the outer user's role on the brand (``with_brand_role``'s subquery)."""
    grants = BrandUserObjectPermission.objects.filter(
        content_object_id=brand_id, permission__codename__in=ROLE_CODENAMES, user=OuterRef("pk")
    ).values("permission__codename")[:1]
    return Subquery(grants)


def narrowed_accounts_joined(brand_id: int) -> Subquery:
    """The outer user's narrowing on the brand as one string
    (``id<part>length<part>name<item>…``: the name's length lets any name, separators
    included, be read back), by name and id where the database orders an aggregate;
    ``split_narrowed`` reads it."""
    item = Concat(
        Cast("content_object_id", CharField()),
        Value(_NARROW_PART),
        Cast(Length("content_object__name"), CharField()),
        Value(_NARROW_PART),
        "content_object__name",
        output_field=CharField(),
    )
    ordered = connection.features.supports_aggregate_order_by_clause
    rows = (
        AdAccountUserObjectPermission.objects.filter(
            user=OuterRef("pk"),
            content_object__brand_id=brand_id,
            permission__codename="use_adaccount",
        )
        .order_by()
        .annotate(one=Value(1))
        .values("one")
        .annotate(
            joined=StringAgg(
                item,
                Value(_NARROW_ITEM),
                order_by=("content_object__name", "content_object_id") if ordered else None,
            )
        )
        .values("joined")
    )
    return Subquery(rows, output_field=CharField())


def split_narrowed(value: str | None) -> list[tuple[int, str]]:
    """``(id, name)`` of each ad account of ``narrowed_accounts_joined``, by name and id."""
    if not value:
        return []
    pairs = []
    position, end = 0, len(value)
    while position < end:
        id_end = value.index(_NARROW_PART, position)
        length_end = value.index(_NARROW_PART, id_end + 1)
        name_end = length_end + 1 + int(value[id_end + 1 : length_end])
        pairs.append((int(value[position:id_end]), value[length_end + 1 : name_end]))
        position = name_end + len(_NARROW_ITEM)
    if not connection.features.supports_aggregate_order_by_clause:
        pairs.sort(key=lambda pair: (pair[1], pair[0]))
    return pairs


def deactivatable_expression(actor_id: int) -> ExpressionWrapper[Any]:
    """``deactivatable_user_ids`` for an active non-admin actor, as a boolean of the outer
    user, who must hold a role somewhere (a brand's member: ``members_of_brand_id``): not
    the actor, not an admin, and no role on a brand the actor does not manage members of."""
    managing = [role.codename for role in CAPABILITIES["members.manage"]]
    managed = BrandUserObjectPermission.objects.filter(
        user_id=actor_id, permission__codename__in=managing
    ).values("content_object_id")
    elsewhere = BrandUserObjectPermission.objects.filter(
        user=OuterRef("pk"), permission__codename__in=ROLE_CODENAMES
    ).exclude(content_object_id__in=managed)
    return ExpressionWrapper(
        Q(is_superuser=False) & ~Q(pk=actor_id) & ~Exists(elsewhere),
        output_field=BooleanField(),
    )


def roles_by_user(brand: Brand, users: Iterable[User]) -> dict[int, Role]:
    users = list(users)
    if users and all(hasattr(user, "brand_role_codename") for user in users):
        # Read with the users (``with_brand_role``): no query.
        codenames: dict[int, str | None] = {
            user.pk: getattr(user, "brand_role_codename", None) for user in users
        }
        return {
            pk: Role(codename.removeprefix("role_"))
            for pk, codename in codenames.items()
            if codename
        }
    rows = BrandUserObjectPermission.objects.filter(
        content_object=brand, user__in=list(users), permission__codename__in=ROLE_CODENAMES
    ).values_list("user_id", "permission__codename")
    return {user_id: Role(codename.removeprefix("role_")) for user_id, codename in rows}


def narrowed_ad_account_ids(brand: Brand, users: Iterable[User]) -> dict[int, set[int]]:
    rows = AdAccountUserObjectPermission.objects.filter(
        content_object__brand=brand, user__in=list(users), permission__codename="use_adaccount"
    ).values_list("user_id", "content_object_id")
    result: dict[int, set[int]] = {}
    for user_id, ad_account_id in rows:
        result.setdefault(user_id, set()).add(ad_account_id)
    return result


def roles_of(user: User) -> list[tuple[Brand, Role]]:
    """The user's roles on every brand (for their own page)."""
    rows = (
        BrandUserObjectPermission.objects.filter(user=user, permission__codename__in=ROLE_CODENAMES)
        .select_related("content_object", "permission")
        .order_by("content_object__name")
    )
    return [
        (row.content_object, Role(row.permission.codename.removeprefix("role_"))) for row in rows
    ]


def deactivatable_user_ids(actor: Any, users: Iterable[User]) -> set[int]:
    """Who ``actor`` may deactivate, in one query for any number of users: an admin
    anyone but themselves; an ops lead a non-admin whose every role is on a brand where
    the ops lead manages members (so nobody loses access to a brand the lead does not run).
    """
    candidates = [user for user in users if user.pk != getattr(actor, "pk", None)]
    if is_admin(actor):
        return {user.pk for user in candidates}
    if not is_active_user(actor):
        return set()
    candidates = [user for user in candidates if not user.is_superuser]
    managing = {role.codename for role in CAPABILITIES["members.manage"]}
    # The actor's grants and the candidates' in one query (the actor is always in it, so
    # the query count is the same for an empty page).
    rows = BrandUserObjectPermission.objects.filter(
        user_id__in=[actor.pk, *(user.pk for user in candidates)],
        permission__codename__in=ROLE_CODENAMES,
    ).values_list("user_id", "content_object_id", "permission__codename")
    managed_brand_ids: set[int] = set()
    brands_by_user: dict[int, set[int]] = {}
    for user_id, brand_id, codename in rows:
        if user_id == actor.pk:
            if codename in managing:
                managed_brand_ids.add(brand_id)
        else:
            brands_by_user.setdefault(user_id, set()).add(brand_id)
    return {
        user_id
        for user_id, brand_ids in brands_by_user.items()
        if brand_ids and brand_ids <= managed_brand_ids
    }


def can_deactivate(actor: Any, user: User) -> bool:
    return user.pk in deactivatable_user_ids(actor, [user])


# --- grants (called by the members services, which lock the user and log them) ------------
#
# The user's role on a brand lives twice, written together in one transaction: the
# ``Membership`` row (unique per user and brand: at most one role, guaranteed by the
# database) and the guardian grant ``catalog.role_<role>`` the scoped querysets join on.


def membership_role(user: User, brand: Brand) -> Role | None:
    """Like ``role_for``, but whatever ``is_active`` says (a grant is about the row)."""
    role = Membership.objects.filter(user=user, brand=brand).values_list("role", flat=True).first()
    return Role(role) if role else None


@transaction.atomic
def grant_role(user: User, brand: Brand, role: Role) -> Role | None:
    """Give ``user`` exactly ``role`` on ``brand``; returns the role it replaced."""
    role = Role(role)
    previous = membership_role(user, brand)
    if previous is None:
        Membership.objects.create(user=user, brand=brand, role=role.value)
    elif previous != role:
        Membership.objects.filter(user=user, brand=brand).update(role=role.value, updated_at=now())
    for other in Role:
        if other != role:
            remove_perm(f"catalog.{other.codename}", user, brand)
    assign_perm(f"catalog.{role.codename}", user, brand)
    if role != Role.MEDIA_BUYER:
        set_ad_account_narrowing(user, brand, [])
    return previous


@transaction.atomic
def revoke_role(user: User, brand: Brand) -> Role | None:
    previous = membership_role(user, brand)
    Membership.objects.filter(user=user, brand=brand).delete()
    for role in Role:
        remove_perm(f"catalog.{role.codename}", user, brand)
    set_ad_account_narrowing(user, brand, [])
    return previous


def lock_ops_leads(brand: Brand) -> set[int]:
    """The ids of the brand's active ops leads, their membership rows locked until the end of the
    transaction: two ops leads stepping down at once are serialised, and the second sees
    that it would leave the brand without one."""
    return set(
        Membership.objects.select_for_update(of=("self",))
        .filter(brand=brand, role=Role.OPS_LEAD, user__is_active=True)
        .order_by("pk")  # one locking order for everyone: no deadlock between two leads
        .values_list("user_id", flat=True)
    )


def last_ops_lead_brands(user: User) -> list[Brand]:
    """The brands on which ``user`` is the only ops lead (each membership row locked)."""
    from koastops.catalog.models import Brand

    led = Membership.objects.filter(user=user, role=Role.OPS_LEAD).values("brand_id")
    rows = (
        Membership.objects.select_for_update(of=("self",))
        .filter(brand_id__in=led, role=Role.OPS_LEAD, user__is_active=True)
        .order_by("pk")
        .values_list("brand_id", "user_id")
    )
    leads: dict[int, set[int]] = {}
    for brand_id, user_id in rows:
        leads.setdefault(brand_id, set()).add(user_id)
    alone = [brand_id for brand_id, user_ids in leads.items() if user_ids == {user.pk}]
    return list(Brand.objects.filter(pk__in=alone).order_by("name")) if alone else []


def set_ad_account_narrowing(user: User, brand: Brand, ad_accounts: Iterable[AdAccount]) -> None:
    """Narrow a media buyer to ``ad_accounts`` (empty: all of the brand's accounts)."""
    AdAccountUserObjectPermission.objects.filter(
        user=user, content_object__brand=brand, permission__codename="use_adaccount"
    ).delete()
    for ad_account in ad_accounts:
        assign_perm(NARROW_PERM, user, ad_account)


# --- shorthands the existing views use ------------------------------------------------------


def can_create_brand(user: Any) -> bool:
    return can(user, "brand.create")


def can_edit_brand(user: Any, brand: Brand) -> bool:
    return can(user, "brand.edit", brand)


def can_manage_catalog(user: Any, brand: Brand) -> bool:
    """Ad accounts and pixels of the brand: create, edit, archive, set credentials."""
    return can(user, "catalog.manage", brand)


# --- decorators -----------------------------------------------------------------------------


def admin_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Install-wide pages (system diagnostics): signed-in admins only, 403 for others."""

    @login_required
    @wraps(view)
    def wrapper(request: AuthenticatedRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        require(is_admin(request.user), "Only admins can open this page.")
        return view(request, *args, **kwargs)

    return wrapper


def _capability_table(role: Role | None, admin: bool) -> Mapping[str, bool]:
    """Every capability (``members.view`` as ``members_view``) for a role, or an admin."""
    key = (role, admin)
    table = _CAPABILITY_TABLES.get(key)
    if table is None:
        table = MappingProxyType(
            {
                capability.replace(".", "_"): (admin and capability not in ROLE_BOUND)
                or (role is not None and role in allowed)
                for capability, allowed in CAPABILITIES.items()
            }
        )
        _CAPABILITY_TABLES[key] = table
    return table


_CAPABILITY_TABLES: dict[tuple[Role | None, bool], Mapping[str, bool]] = {}


def capabilities_on(request: HttpRequest, brand: Brand) -> Mapping[str, bool]:
    """Every capability of the signed-in user on ``brand`` (``members.view`` as
    ``members_view``), the same answers as ``can()``. Reuses the role
    ``brand_capability`` resolved for this request (no query then), and answers from the
    request's memo when asked again about the same brand and user (once per request)."""
    user = request.user
    memo = getattr(request, "_capabilities_memo", None)
    if memo is not None and memo[0] == (brand.pk, user.pk):
        return memo[1]  # type: ignore[no-any-return]
    known = getattr(request, "brand_role", None)
    if is_admin(user):  # the role too: role-bound capabilities need it (ROLE_BOUND)
        role = known[1] if known is not None and known[0] == brand.pk else role_for(user, brand)
        table = _capability_table(role, True)
    elif not is_active_user(user):
        table = _capability_table(None, False)
    elif known is not None and known[0] == brand.pk:
        table = _capability_table(known[1], False)
    else:
        table = _capability_table(role_for(user, brand), False)
    request._capabilities_memo = ((brand.pk, user.pk), table)  # type: ignore[attr-defined]
    return table


def brand_capability(
    capability: str,
) -> Callable[[Callable[..., HttpResponseBase]], Callable[..., HttpResponseBase]]:
    """For views under ``/brands/<slug>/``: resolve the brand (404 if the user holds no
    role on it), require ``capability`` (403) and pass ``brand`` and ``role`` on."""

    def decorator(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        @login_required
        @wraps(view)
        def wrapper(
            request: BrandRequest, slug: str, *args: Any, **kwargs: Any
        ) -> HttpResponseBase:
            brand, role = brand_and_role_for_view(request.user, slug)
            require(can(request.user, capability, brand, role=role))
            # For the page's own capability checks (templates): known, so not asked again.
            request.brand_role = (brand.pk, role)
            return view(request, *args, brand=brand, role=role, **kwargs)

        return wrapper

    return decorator
