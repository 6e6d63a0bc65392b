"""Catalog writes. One function per user intent; each checks the policy, validates the
whole object, saves and writes its activity row in one transaction, so a refused change
writes nothing and every change that lands is logged."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from koastops.accounts import policies
from koastops.accounts.models import User
from koastops.activity.services import activity_record, diff, snapshot
from koastops.catalog.models import AdAccount, Brand, CatalogStatus, Market, Pixel
from koastops.core import crypto

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


def _apply(obj: Any, fields: dict[str, Any]) -> None:
    for name, value in fields.items():
        setattr(obj, name, value)


def _log_created(user: User, obj: Brand | AdAccount | Pixel, verb: str, fields: tuple) -> None:
    brand = obj if isinstance(obj, Brand) else obj.brand
    activity_record(verb=verb, actor=user, target=obj, brand=brand, after=snapshot(obj, fields))


def _log_updated(
    user: User, obj: Brand | AdAccount | Pixel, verb: str, fields: tuple, before: dict
) -> None:
    changed_before, changed_after = diff(before, snapshot(obj, fields))
    if changed_after:
        brand = obj if isinstance(obj, Brand) else obj.brand
        activity_record(
            verb=verb,
            actor=user,
            target=obj,
            brand=brand,
            before=changed_before,
            after=changed_after,
        )


@transaction.atomic
def brand_create(
    *, user: User, name: str, slug: str, description: str = "", markets: Iterable[Market] = ()
) -> Brand:
    policies.require(policies.can_create_brand(user), "Only admins can create brands.")
    brand = Brand(name=name, slug=slug, description=description)
    brand.full_clean()
    brand.save()
    brand.markets.set(markets)
    _log_created(user, brand, "brand.created", BRAND_FIELDS)
    return brand


@transaction.atomic
def brand_update(
    *, user: User, brand: Brand, markets: Iterable[Market] | None = None, **fields: Any
) -> Brand:
    policies.require(policies.can_edit_brand(user, brand), "You may not edit this brand.")
    before = snapshot(brand, BRAND_FIELDS)
    _apply(brand, fields)
    brand.full_clean()
    brand.save()
    if markets is not None:
        brand.markets.set(markets)
    _log_updated(user, brand, "brand.updated", BRAND_FIELDS, before)
    return brand


def _set_status(user: User, obj: Brand | AdAccount | Pixel, status: str, verb: str) -> bool:
    """Compare-and-set the status and log it; False when it already had it (no change)."""
    archived_at = timezone.now() if status == CatalogStatus.ARCHIVED else None
    changed = (
        type(obj)
        .objects.filter(pk=obj.pk)
        .exclude(status=status)
        .update(status=status, archived_at=archived_at, updated_at=timezone.now())
    )
    if changed != 1:
        return False
    previous = obj.status
    obj.status, obj.archived_at = status, archived_at
    activity_record(
        verb=verb,
        actor=user,
        target=obj,
        brand=obj if isinstance(obj, Brand) else obj.brand,
        before={"status": previous},
        after={"status": status},
    )
    return True


@transaction.atomic
def brand_archive(*, user: User, brand: Brand) -> bool:
    policies.require(policies.can_edit_brand(user, brand), "You may not archive this brand.")
    return _set_status(user, brand, CatalogStatus.ARCHIVED, "brand.archived")


@transaction.atomic
def brand_restore(*, user: User, brand: Brand) -> bool:
    policies.require(policies.can_edit_brand(user, brand), "You may not restore this brand.")
    return _set_status(user, brand, CatalogStatus.ACTIVE, "brand.restored")


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
    *, user: User, brand: Brand, markets: Iterable[Market] = (), **fields: Any
) -> AdAccount:
    policies.require(policies.can_manage_catalog(user, brand), "You may not add ad accounts.")
    markets = list(markets)
    _check_markets_belong(brand, markets)
    ad_account = AdAccount(brand=brand, **fields)
    ad_account.full_clean()
    ad_account.save()
    ad_account.markets.set(markets)
    _log_created(user, ad_account, "ad_account.created", AD_ACCOUNT_FIELDS)
    return ad_account


@transaction.atomic
def ad_account_update(
    *, user: User, ad_account: AdAccount, markets: Iterable[Market] | None = None, **fields: Any
) -> AdAccount:
    policies.require(
        policies.can_manage_catalog(user, ad_account.brand), "You may not edit ad accounts."
    )
    before = snapshot(ad_account, AD_ACCOUNT_FIELDS)
    if markets is not None:
        markets = list(markets)
        already = frozenset(ad_account.markets.values_list("pk", flat=True))
        _check_markets_belong(ad_account.brand, markets, already)
    _apply(ad_account, fields)
    ad_account.full_clean()
    ad_account.save()
    if markets is not None:
        ad_account.markets.set(markets)
    _log_updated(user, ad_account, "ad_account.updated", AD_ACCOUNT_FIELDS, before)
    return ad_account


@transaction.atomic
def ad_account_archive(*, user: User, ad_account: AdAccount) -> bool:
    policies.require(
        policies.can_manage_catalog(user, ad_account.brand), "You may not archive ad accounts."
    )
    return _set_status(user, ad_account, CatalogStatus.ARCHIVED, "ad_account.archived")


@transaction.atomic
def ad_account_restore(*, user: User, ad_account: AdAccount) -> bool:
    policies.require(
        policies.can_manage_catalog(user, ad_account.brand), "You may not restore ad accounts."
    )
    return _set_status(user, ad_account, CatalogStatus.ACTIVE, "ad_account.restored")


def _check_ad_accounts_belong(brand: Brand, ad_accounts: Iterable[AdAccount]) -> None:
    foreign = [a for a in ad_accounts if a.brand_id != brand.pk]
    if foreign:
        raise ValidationError(
            {"ad_accounts": "Only the brand's own ad accounts can use its pixels."}
        )


@transaction.atomic
def pixel_create(
    *,
    user: User,
    brand: Brand,
    ad_accounts: Iterable[AdAccount] = (),
    access_token: str = "",
    **fields: Any,
) -> Pixel:
    policies.require(policies.can_manage_catalog(user, brand), "You may not add pixels.")
    ad_accounts = list(ad_accounts)
    _check_ad_accounts_belong(brand, ad_accounts)
    pixel = Pixel(brand=brand, **fields)
    pixel.full_clean()
    if access_token:
        pixel.access_token_encrypted = crypto.encrypt(access_token)
        pixel.access_token_changed_at = timezone.now()
    pixel.save()
    pixel.ad_accounts.set(ad_accounts)
    _log_created(user, pixel, "pixel.created", PIXEL_FIELDS)
    return pixel


@transaction.atomic
def pixel_update(
    *, user: User, pixel: Pixel, ad_accounts: Iterable[AdAccount] | None = None, **fields: Any
) -> Pixel:
    policies.require(policies.can_manage_catalog(user, pixel.brand), "You may not edit pixels.")
    before = snapshot(pixel, PIXEL_FIELDS)
    _apply(pixel, fields)
    pixel.full_clean()
    pixel.save()
    if ad_accounts is not None:
        ad_accounts = list(ad_accounts)
        _check_ad_accounts_belong(pixel.brand, ad_accounts)
        pixel.ad_accounts.set(ad_accounts)
    _log_updated(user, pixel, "pixel.updated", PIXEL_FIELDS, before)
    return pixel


@transaction.atomic
def pixel_set_access_token(*, user: User, pixel: Pixel, access_token: str) -> Pixel:
    """Replace (or, with an empty string, remove) the pixel's stored access token."""
    policies.require(
        policies.can_manage_catalog(user, pixel.brand), "You may not change pixel credentials."
    )
    pixel.access_token_encrypted = crypto.encrypt(access_token) if access_token else ""
    pixel.access_token_changed_at = timezone.now()
    pixel.save(update_fields=["access_token_encrypted", "access_token_changed_at", "updated_at"])
    # The log says that the token changed, never what it is.
    activity_record(
        verb="pixel.token_changed" if access_token else "pixel.token_removed",
        actor=user,
        target=pixel,
        brand=pixel.brand,
        after={"access_token": "set" if access_token else "not set"},
    )
    return pixel


def pixel_access_token(*, pixel: Pixel) -> str:
    """The decrypted token, for platform clients only; never pass it to a template."""
    return crypto.decrypt(pixel.access_token_encrypted) if pixel.access_token_encrypted else ""


@transaction.atomic
def pixel_archive(*, user: User, pixel: Pixel) -> bool:
    policies.require(policies.can_manage_catalog(user, pixel.brand), "You may not archive pixels.")
    return _set_status(user, pixel, CatalogStatus.ARCHIVED, "pixel.archived")


@transaction.atomic
def pixel_restore(*, user: User, pixel: Pixel) -> bool:
    policies.require(policies.can_manage_catalog(user, pixel.brand), "You may not restore pixels.")
    return _set_status(user, pixel, CatalogStatus.ACTIVE, "pixel.restored")
