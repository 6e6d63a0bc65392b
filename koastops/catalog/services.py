"""Catalog writes. One function per user intent; each checks the policy, validates the
whole object, saves and writes its activity row in one transaction, so a refused change
writes nothing and every change that lands is logged.

Edits and status changes lock the row (``select_for_update``), compare the version the
caller's edit was based on (``expected_version``; ``StaleVersion`` when it moved on), read
"before" for the activity row under that lock, and bump the version. Status changes only
through archive / restore."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from koastops.accounts import policies
from koastops.accounts.models import User
from koastops.activity.services import activity_record, diff, snapshot
from koastops.catalog.models import AdAccount, Brand, CatalogStatus, Market, Pixel, Platform
from koastops.core import crypto
from koastops.core.exceptions import StaleVersion

BRAND_FIELDS = ("name", "slug", "description", "status", "markets")
AD_ACCOUNT_FIELDS = (
    "platform",
    "external_id",
    "name",
    "currency",
    "time_zone",
    "status",
    "markets",
)
PIXEL_FIELDS = ("platform", "external_id", "name", "capi_enabled", "status", "ad_accounts")


class AlreadyInState(Exception):
    """Archive of something archived, or restore of something active: nothing to do."""

    def __init__(self, status: str) -> None:
        self.status = status
        super().__init__(
            "Already archived." if status == CatalogStatus.ARCHIVED else "Already active."
        )


def _brand_of(obj: Brand | AdAccount | Pixel) -> Brand:
    return obj if isinstance(obj, Brand) else obj.brand


def _log_created(
    user: User, obj: Brand | AdAccount | Pixel, verb: str, fields: tuple[str, ...]
) -> None:
    activity_record(
        verb=verb, actor=user, target=obj, brand=_brand_of(obj), after=snapshot(obj, fields)
    )


def _lock[CatalogObject: (Brand, AdAccount, Pixel)](
    obj: CatalogObject, expected_version: int | None
) -> CatalogObject:
    """The row as it is now, locked until the transaction ends; ``StaleVersion`` when it
    is no longer the version the caller's change was based on."""
    locked = type(obj).objects.select_for_update().get(pk=obj.pk)
    if not isinstance(locked, Brand):
        locked.brand = obj.brand  # never changes; saves a query (and locks no brand row)
    if expected_version is not None and locked.version != expected_version:
        raise StaleVersion(expected_version=expected_version, current_version=locked.version)
    return locked


def _save_changes(
    user: User,
    obj: Brand | AdAccount | Pixel,
    verb: str,
    fields: tuple[str, ...],
    before: dict[str, Any],
) -> None:
    """Save the locked row with a new version and log what changed; an edit that changes
    nothing saves nothing, keeps the version and writes no activity row."""
    changed_before, changed_after = diff(before, snapshot(obj, fields))
    if not changed_after:
        return
    obj.version += 1
    _save(obj)
    activity_record(
        verb=verb,
        actor=user,
        target=obj,
        brand=_brand_of(obj),
        before=changed_before,
        after=changed_after,
    )


def _check_brand_unique(brand: Brand) -> None:
    others = Brand.objects.exclude(pk=brand.pk)
    errors = {}
    if brand.name and others.filter(name__iexact=brand.name).exists():
        errors["name"] = f"Another brand is already called {brand.name}."
    if brand.slug and others.filter(slug=brand.slug).exists():
        errors["slug"] = (
            f"Another brand already uses the slug {brand.slug}. Choose a different one."
        )
    if errors:
        raise ValidationError(errors)


def _check_external_id_free(obj: AdAccount | Pixel, noun: str) -> None:
    """(platform, external id) is unique install-wide; say so on the field."""
    taken = type(obj).objects.filter(platform=obj.platform, external_id=obj.external_id)
    if obj.pk:
        taken = taken.exclude(pk=obj.pk)
    if obj.platform in Platform.values and obj.external_id and taken.exists():
        label = Platform(obj.platform).label
        raise ValidationError(
            {"external_id": f"Another {label} {noun} already uses {obj.external_id}."}
        )


def _save(obj: Brand | AdAccount | Pixel) -> None:
    """Save; when a concurrent transaction took the same name, slug or (platform,
    external id) after our check, say so by the field instead of failing with a 500."""
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError:
        if isinstance(obj, Brand):
            _check_brand_unique(obj)
        else:
            _check_external_id_free(obj, "ad account" if isinstance(obj, AdAccount) else "pixel")
        raise


# --- brands ----------------------------------------------------------------------------


@transaction.atomic
def brand_create(
    *,
    user: User,
    name: str,
    slug: str = "",
    description: str = "",
    markets: Iterable[Market] = (),
) -> Brand:
    """A new brand (admins). Without a slug, one is derived from the name."""
    policies.require(policies.can_create_brand(user), "Only admins can create brands.")
    name = name.strip()
    slug = slug.strip() or slugify(name)[:60].strip("-")
    if name and not slug:
        raise ValidationError(
            {"slug": "The name has no letters a slug can use: enter a slug, e.g. acme-de."}
        )
    brand = Brand(name=name, slug=slug, description=description)
    _check_brand_unique(brand)
    brand.full_clean()
    _save(brand)
    brand.markets.set(markets)
    _log_created(user, brand, "brand.created", BRAND_FIELDS)
    return brand


@transaction.atomic
def brand_update(
    *,
    user: User,
    brand: Brand,
    expected_version: int,
    name: str | None = None,
    slug: str | None = None,
    description: str | None = None,
    markets: Iterable[Market] | None = None,
) -> Brand:
    """Edit the brand; ``None`` leaves a field as it is. Returns the saved brand."""
    policies.require(policies.can_edit_brand(user, brand), "You may not edit this brand.")
    brand = _lock(brand, expected_version)
    before = snapshot(brand, BRAND_FIELDS)
    if name is not None:
        brand.name = name.strip()
    if slug is not None:
        brand.slug = slug.strip()
    if description is not None:
        brand.description = description
    _check_brand_unique(brand)
    brand.full_clean()
    if markets is not None:
        brand.markets.set(markets)
    _save_changes(user, brand, "brand.updated", BRAND_FIELDS, before)
    return brand


def _set_status[CatalogObject: (Brand, AdAccount, Pixel)](
    user: User,
    obj: CatalogObject,
    status: str,
    verb: str,
    expected_version: int | None,
) -> None:
    """Lock, compare the version, set the status and log it. ``AlreadyInState`` (nothing
    written) when it already has that status. The caller's ``obj`` is brought up to date."""
    locked = _lock(obj, expected_version)
    if locked.status == status:
        raise AlreadyInState(status)
    previous = locked.status
    locked.status = status
    locked.archived_at = timezone.now() if status == CatalogStatus.ARCHIVED else None
    locked.version += 1
    locked.save(update_fields=["status", "archived_at", "version", "updated_at"])
    activity_record(
        verb=verb,
        actor=user,
        target=locked,
        brand=_brand_of(locked),
        before={"status": previous},
        after={"status": status},
    )
    obj.status, obj.archived_at, obj.version = locked.status, locked.archived_at, locked.version
    obj.updated_at = locked.updated_at


@transaction.atomic
def brand_archive(*, user: User, brand: Brand, expected_version: int | None = None) -> None:
    policies.require(policies.can_edit_brand(user, brand), "You may not archive this brand.")
    _set_status(user, brand, CatalogStatus.ARCHIVED, "brand.archived", expected_version)


@transaction.atomic
def brand_restore(*, user: User, brand: Brand, expected_version: int | None = None) -> None:
    policies.require(policies.can_edit_brand(user, brand), "You may not restore this brand.")
    _set_status(user, brand, CatalogStatus.ACTIVE, "brand.restored", expected_version)


# --- ad accounts -----------------------------------------------------------------------


def _check_markets_belong(
    brand: Brand, markets: list[Market], already: frozenset[int] = frozenset()
) -> None:
    allowed = set(brand.markets.values_list("pk", flat=True)) | already
    outside = sorted(m.code for m in markets if m.pk not in allowed)
    if outside:
        raise ValidationError(
            {"markets": f"{', '.join(outside)} is not one of {brand.name}'s markets."}
        )


@transaction.atomic
def ad_account_create(
    *,
    user: User,
    brand: Brand,
    platform: str,
    external_id: str,
    name: str,
    currency: str,
    time_zone: str,
    markets: Iterable[Market] = (),
) -> AdAccount:
    policies.require(policies.can_manage_catalog(user, brand), "You may not add ad accounts.")
    markets = list(markets)
    _check_markets_belong(brand, markets)
    ad_account = AdAccount(
        brand=brand,
        platform=platform,
        external_id=external_id.strip(),
        name=name.strip(),
        currency=currency.strip().upper(),
        time_zone=time_zone.strip(),
    )
    ad_account.full_clean(validate_constraints=False)
    _check_external_id_free(ad_account, "ad account")
    _save(ad_account)
    ad_account.markets.set(markets)
    _log_created(user, ad_account, "ad_account.created", AD_ACCOUNT_FIELDS)
    return ad_account


@transaction.atomic
def ad_account_update(
    *,
    user: User,
    ad_account: AdAccount,
    expected_version: int,
    platform: str | None = None,
    external_id: str | None = None,
    name: str | None = None,
    currency: str | None = None,
    time_zone: str | None = None,
    markets: Iterable[Market] | None = None,
) -> AdAccount:
    """Edit the ad account; ``None`` leaves a field as it is. Returns the saved account."""
    policies.require(
        policies.can_manage_catalog(user, ad_account.brand), "You may not edit ad accounts."
    )
    ad_account = _lock(ad_account, expected_version)
    before = snapshot(ad_account, AD_ACCOUNT_FIELDS)
    if platform is not None:
        ad_account.platform = platform
    if external_id is not None:
        ad_account.external_id = external_id.strip()
    if name is not None:
        ad_account.name = name.strip()
    if currency is not None:
        ad_account.currency = currency.strip().upper()
    if time_zone is not None:
        ad_account.time_zone = time_zone.strip()
    ad_account.full_clean(validate_constraints=False)
    _check_external_id_free(ad_account, "ad account")
    if markets is not None:
        markets = list(markets)
        # Markets it already serves may stay, even if the brand has dropped them since.
        already = frozenset(ad_account.markets.values_list("pk", flat=True))
        _check_markets_belong(ad_account.brand, markets, already)
        ad_account.markets.set(markets)
    _save_changes(user, ad_account, "ad_account.updated", AD_ACCOUNT_FIELDS, before)
    return ad_account


@transaction.atomic
def ad_account_archive(
    *, user: User, ad_account: AdAccount, expected_version: int | None = None
) -> None:
    policies.require(
        policies.can_manage_catalog(user, ad_account.brand), "You may not archive ad accounts."
    )
    _set_status(user, ad_account, CatalogStatus.ARCHIVED, "ad_account.archived", expected_version)


@transaction.atomic
def ad_account_restore(
    *, user: User, ad_account: AdAccount, expected_version: int | None = None
) -> None:
    policies.require(
        policies.can_manage_catalog(user, ad_account.brand), "You may not restore ad accounts."
    )
    _set_status(user, ad_account, CatalogStatus.ACTIVE, "ad_account.restored", expected_version)


# --- pixels ----------------------------------------------------------------------------


def _check_ad_accounts_allowed(
    brand: Brand, ad_accounts: list[AdAccount], already: frozenset[int] = frozenset()
) -> None:
    """A pixel is used by its brand's own ad accounts; newly linked ones must be active
    (a link kept from before may point at an account archived since)."""
    if any(a.brand_id != brand.pk for a in ad_accounts):
        raise ValidationError(
            {"ad_accounts": "Only the brand's own ad accounts can use its pixels."}
        )
    archived = sorted(a.name for a in ad_accounts if a.is_archived and a.pk not in already)
    if archived:
        raise ValidationError(
            {"ad_accounts": f"{', '.join(archived)} is archived: restore it before linking it."}
        )


def _log_token(user: User, pixel: Pixel, *, is_set: bool) -> None:
    # The log says that the token changed, never what it is.
    activity_record(
        verb="pixel.token_changed" if is_set else "pixel.token_removed",
        actor=user,
        target=pixel,
        brand=pixel.brand,
        after={"access_token": "set" if is_set else "not set"},
    )


@transaction.atomic
def pixel_create(
    *,
    user: User,
    brand: Brand,
    platform: str,
    external_id: str,
    name: str,
    capi_enabled: bool = False,
    ad_accounts: Iterable[AdAccount] = (),
    access_token: str = "",
) -> Pixel:
    """A new pixel. A token given here is logged as ``pixel.token_changed`` after the
    ``pixel.created`` row (two rows), as when it is set later."""
    policies.require(policies.can_manage_catalog(user, brand), "You may not add pixels.")
    ad_accounts = list(ad_accounts)
    _check_ad_accounts_allowed(brand, ad_accounts)
    pixel = Pixel(
        brand=brand,
        platform=platform,
        external_id=external_id.strip(),
        name=name.strip(),
        capi_enabled=capi_enabled,
    )
    pixel.full_clean(validate_constraints=False)
    _check_external_id_free(pixel, "pixel")
    if access_token:
        pixel.access_token_encrypted = crypto.encrypt(access_token)
        pixel.access_token_changed_at = timezone.now()
    _save(pixel)
    pixel.ad_accounts.set(ad_accounts)
    _log_created(user, pixel, "pixel.created", PIXEL_FIELDS)
    if access_token:
        _log_token(user, pixel, is_set=True)
    return pixel


@transaction.atomic
def pixel_update(
    *,
    user: User,
    pixel: Pixel,
    expected_version: int,
    platform: str | None = None,
    external_id: str | None = None,
    name: str | None = None,
    capi_enabled: bool | None = None,
    ad_accounts: Iterable[AdAccount] | None = None,
) -> Pixel:
    """Edit the pixel (not its token); ``None`` leaves a field as it is."""
    policies.require(policies.can_manage_catalog(user, pixel.brand), "You may not edit pixels.")
    pixel = _lock(pixel, expected_version)
    before = snapshot(pixel, PIXEL_FIELDS)
    if platform is not None:
        pixel.platform = platform
    if external_id is not None:
        pixel.external_id = external_id.strip()
    if name is not None:
        pixel.name = name.strip()
    if capi_enabled is not None:
        pixel.capi_enabled = capi_enabled
    pixel.full_clean(validate_constraints=False)
    _check_external_id_free(pixel, "pixel")
    if ad_accounts is not None:
        ad_accounts = list(ad_accounts)
        already = frozenset(pixel.ad_accounts.values_list("pk", flat=True))
        _check_ad_accounts_allowed(pixel.brand, ad_accounts, already)
        pixel.ad_accounts.set(ad_accounts)
    _save_changes(user, pixel, "pixel.updated", PIXEL_FIELDS, before)
    return pixel


@transaction.atomic
def pixel_set_access_token(
    *, user: User, pixel: Pixel, access_token: str, expected_version: int | None = None
) -> bool:
    """Replace (or, with an empty string, remove) the pixel's stored access token.
    False (nothing written) when asked to remove a token that is not there."""
    policies.require(
        policies.can_manage_catalog(user, pixel.brand), "You may not change pixel credentials."
    )
    locked = _lock(pixel, expected_version)
    if not access_token and not locked.access_token_encrypted:
        return False
    locked.access_token_encrypted = crypto.encrypt(access_token) if access_token else ""
    locked.access_token_changed_at = timezone.now()
    locked.version += 1
    locked.save(
        update_fields=["access_token_encrypted", "access_token_changed_at", "version", "updated_at"]
    )
    _log_token(user, locked, is_set=bool(access_token))
    pixel.access_token_encrypted = locked.access_token_encrypted
    pixel.access_token_changed_at, pixel.version = locked.access_token_changed_at, locked.version
    return True


def pixel_access_token(*, pixel: Pixel) -> str:
    """The decrypted token, for platform clients only; never pass it to a template."""
    return crypto.decrypt(pixel.access_token_encrypted) if pixel.access_token_encrypted else ""


@transaction.atomic
def pixel_archive(*, user: User, pixel: Pixel, expected_version: int | None = None) -> None:
    policies.require(policies.can_manage_catalog(user, pixel.brand), "You may not archive pixels.")
    _set_status(user, pixel, CatalogStatus.ARCHIVED, "pixel.archived", expected_version)


@transaction.atomic
def pixel_restore(*, user: User, pixel: Pixel, expected_version: int | None = None) -> None:
    policies.require(policies.can_manage_catalog(user, pixel.brand), "You may not restore pixels.")
    _set_status(user, pixel, CatalogStatus.ACTIVE, "pixel.restored", expected_version)
