"""Catalog writes. One function per user intent; each checks the policy, validates the
whole object and saves atomically, so a refused change writes nothing.

Activity-log rows are added with the activity app (issue #3)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from koastops.accounts import policies
from koastops.accounts.models import User
from koastops.catalog.models import AdAccount, Brand, CatalogStatus, Market, Pixel
from koastops.core import crypto


def _apply(obj: Any, fields: dict[str, Any]) -> None:
    for name, value in fields.items():
        setattr(obj, name, value)


@transaction.atomic
def brand_create(
    *, user: User, name: str, slug: str, description: str = "", markets: Iterable[Market] = ()
) -> Brand:
    policies.require(policies.can_create_brand(user), "Only admins can create brands.")
    brand = Brand(name=name, slug=slug, description=description)
    brand.full_clean()
    brand.save()
    brand.markets.set(markets)
    return brand


@transaction.atomic
def brand_update(
    *, user: User, brand: Brand, markets: Iterable[Market] | None = None, **fields: Any
) -> Brand:
    policies.require(policies.can_edit_brand(user, brand), "You may not edit this brand.")
    _apply(brand, fields)
    brand.full_clean()
    brand.save()
    if markets is not None:
        brand.markets.set(markets)
    return brand


def _set_status(obj: Brand | AdAccount | Pixel, status: str) -> bool:
    """Compare-and-set the status; False when it already had it (nothing changes)."""
    archived_at = timezone.now() if status == CatalogStatus.ARCHIVED else None
    changed = (
        type(obj)
        .objects.filter(pk=obj.pk)
        .exclude(status=status)
        .update(status=status, archived_at=archived_at, updated_at=timezone.now())
    )
    obj.status, obj.archived_at = status, archived_at
    return changed == 1


@transaction.atomic
def brand_archive(*, user: User, brand: Brand) -> bool:
    policies.require(policies.can_edit_brand(user, brand), "You may not archive this brand.")
    return _set_status(brand, CatalogStatus.ARCHIVED)


@transaction.atomic
def brand_restore(*, user: User, brand: Brand) -> bool:
    policies.require(policies.can_edit_brand(user, brand), "You may not restore this brand.")
    return _set_status(brand, CatalogStatus.ACTIVE)


@transaction.atomic
def ad_account_create(
    *, user: User, brand: Brand, markets: Iterable[Market] = (), **fields: Any
) -> AdAccount:
    policies.require(policies.can_manage_catalog(user, brand), "You may not add ad accounts.")
    ad_account = AdAccount(brand=brand, **fields)
    ad_account.full_clean()
    ad_account.save()
    ad_account.markets.set(markets)
    return ad_account


@transaction.atomic
def ad_account_update(
    *, user: User, ad_account: AdAccount, markets: Iterable[Market] | None = None, **fields: Any
) -> AdAccount:
    policies.require(
        policies.can_manage_catalog(user, ad_account.brand), "You may not edit ad accounts."
    )
    _apply(ad_account, fields)
    ad_account.full_clean()
    ad_account.save()
    if markets is not None:
        ad_account.markets.set(markets)
    return ad_account


@transaction.atomic
def ad_account_archive(*, user: User, ad_account: AdAccount) -> bool:
    policies.require(
        policies.can_manage_catalog(user, ad_account.brand), "You may not archive ad accounts."
    )
    return _set_status(ad_account, CatalogStatus.ARCHIVED)


@transaction.atomic
def ad_account_restore(*, user: User, ad_account: AdAccount) -> bool:
    policies.require(
        policies.can_manage_catalog(user, ad_account.brand), "You may not restore ad accounts."
    )
    return _set_status(ad_account, CatalogStatus.ACTIVE)


def _check_ad_accounts_belong(brand: Brand, ad_accounts: Iterable[AdAccount]) -> None:
    from django.core.exceptions import ValidationError

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
    return pixel


@transaction.atomic
def pixel_update(
    *, user: User, pixel: Pixel, ad_accounts: Iterable[AdAccount] | None = None, **fields: Any
) -> Pixel:
    policies.require(policies.can_manage_catalog(user, pixel.brand), "You may not edit pixels.")
    _apply(pixel, fields)
    pixel.full_clean()
    pixel.save()
    if ad_accounts is not None:
        ad_accounts = list(ad_accounts)
        _check_ad_accounts_belong(pixel.brand, ad_accounts)
        pixel.ad_accounts.set(ad_accounts)
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
    return pixel


def pixel_access_token(*, pixel: Pixel) -> str:
    """The decrypted token, for platform clients only; never pass it to a template."""
    return crypto.decrypt(pixel.access_token_encrypted) if pixel.access_token_encrypted else ""


@transaction.atomic
def pixel_archive(*, user: User, pixel: Pixel) -> bool:
    policies.require(policies.can_manage_catalog(user, pixel.brand), "You may not archive pixels.")
    return _set_status(pixel, CatalogStatus.ARCHIVED)


@transaction.atomic
def pixel_restore(*, user: User, pixel: Pixel) -> bool:
    policies.require(policies.can_manage_catalog(user, pixel.brand), "You may not restore pixels.")
    return _set_status(pixel, CatalogStatus.ACTIVE)
