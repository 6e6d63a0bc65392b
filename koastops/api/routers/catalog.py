"""Catalog writes over the API: create, edit, archive and restore brands (admins), ad
accounts and pixels (``catalog.manage``); set or remove a pixel's access token. Plus the
one-object reads whose ``ETag`` a client sends back as ``If-Match``.

Every operation goes through ``policies`` (404 for a brand the token's user holds no role
on, 403 for a missing capability) and the same catalog services as the pages, which lock
the row, compare the version and write the activity row in one transaction.

Versions: every GET of one object and every successful write answers ``ETag: "<version>"``.
A write to an existing object needs ``If-Match: "<version>"``: without it 428, with a
version that is no longer current 409 (someone else changed the object meanwhile; nothing
was written). Archiving something archived (restoring something active) is 409 too, with
``field: "status"``.

The operations are registered on the brands router: they share its paths
(``/brands``, ``/brands/{slug}``, ...) and ninja dispatches one path to one router.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Annotated, Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from ninja import Header, Path, Status

from koastops.accounts import policies
from koastops.accounts.http import ApiRequest
from koastops.api.common import brand_with_capability, renamed, responses
from koastops.api.routers.brands import router
from koastops.api.schemas import (
    AdAccountIn,
    AdAccountOut,
    AdAccountPatch,
    BrandIn,
    BrandOut,
    BrandPatch,
    PixelIn,
    PixelOut,
    PixelPatch,
    PixelTokenIn,
    VersionErrorOut,
)
from koastops.catalog import selectors, services
from koastops.catalog.models import AdAccount, Brand, CatalogStatus, Market, Pixel
from koastops.core.exceptions import StaleVersion

__all__ = ["router"]

IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description='The version from the ETag of your last GET, e.g. "3". Required.',
    ),
]
ObjectId = Annotated[int, Path(ge=1, le=2**63 - 1)]

# Services name model fields; the API names the fields of its request body.
_SERVICE_FIELDS = {"ad_accounts": "ad_account_ids"}

_CREATED = (401, 403, 404, 422)
_VERSIONED = {409: VersionErrorOut, 428: VersionErrorOut}


class _Refused(Exception):
    """A write refused for its version or state: 409 / 428 with a body naming the field."""

    def __init__(self, status: int, detail: str, field: str, version: int | None) -> None:
        super().__init__(detail)
        self.status = status
        self.body: dict[str, Any] = {"detail": detail, "field": field, "version": version}


def _expected_version(if_match: str | None) -> int:
    """The version in ``If-Match`` (``"3"``, ``W/"3"`` or ``3``)."""
    if if_match is None or not if_match.strip():
        raise _Refused(
            428,
            'This write needs If-Match: "<version>", with the version from the ETag of a'
            " GET of the object (or its `version` field).",
            "If-Match",
            None,
        )
    value = if_match.strip().removeprefix("W/").strip('"')
    if not (value.isascii() and value.isdigit() and len(value) <= 9):
        refused = _Refused(422, "Malformed If-Match.", "If-Match", None)
        refused.body = {
            "detail": [
                {
                    "loc": ["header", "If-Match"],
                    "msg": 'If-Match must be one version, e.g. "3" (no lists, no "*").',
                    "type": "value_error",
                }
            ]
        }
        raise refused
    return int(value)


def _stale(obj: Brand | AdAccount | Pixel, exc: StaleVersion) -> _Refused:
    entry = selectors.last_change(obj=obj)
    who = f" by {entry.actor_label} at {entry.created_at.isoformat()}" if entry else ""
    return _Refused(
        409,
        f"Changed{who} meanwhile: If-Match is version {exc.expected_version}, the current"
        f" version is {exc.current_version}. Nothing was changed; GET it again and re-apply"
        " your change.",
        "If-Match",
        exc.current_version,
    )


def _write(
    obj: Brand | AdAccount | Pixel, if_match: str | None, change: Callable[[int], Any]
) -> None:
    """Run ``change(expected_version)``, turning its refusals into 409 / 428."""
    expected = _expected_version(if_match)
    try:
        change(expected)
    except StaleVersion as exc:
        raise _stale(obj, exc) from exc
    except services.AlreadyInState as exc:
        raise _Refused(409, str(exc), "status", obj.version) from exc
    except ValidationError as exc:
        raise renamed(exc, _SERVICE_FIELDS) from exc


def _answer(response: HttpResponse, obj: Any, status: int = 200) -> Any:
    response["ETag"] = f'"{obj.version}"'
    return Status(status, obj)


def _refused(refused: _Refused) -> Status:
    return Status(refused.status, refused.body)


def _markets(codes: Iterable[str]) -> list[Market]:
    wanted = {code.upper() for code in codes}
    markets = list(Market.objects.filter(code__in=wanted))
    unknown = sorted(wanted - {market.code for market in markets})
    if unknown:
        raise ValidationError({"markets": f"Unknown market code: {', '.join(unknown)}."})
    return markets


def _ad_accounts(brand: Brand, ids: Iterable[int]) -> list[AdAccount]:
    wanted = set(ids)
    ad_accounts = list(brand.ad_accounts.filter(pk__in=wanted))
    if len(ad_accounts) != len(wanted):
        raise ValidationError({"ad_account_ids": "Choose ad accounts of this brand only."})
    return ad_accounts


# --- reads for one object: shaped like the lists (counts, prefetches) ----------------------


def _brand_out(request: ApiRequest, brand: Brand) -> Brand:
    found = selectors.brand_list(user=request.auth, status="all").filter(pk=brand.pk).first()
    if found is None:
        raise Http404
    return found


def _ad_account_out(request: ApiRequest, brand: Brand, pk: int) -> AdAccount:
    found = (
        selectors.ad_account_list(user=request.auth, brand=brand, status="all")
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise Http404
    return found


def _pixel_out(request: ApiRequest, brand: Brand, pk: int) -> Pixel:
    found = selectors.pixel_list(user=request.auth, brand=brand, status="all").filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


# --- brands (admins) ---------------------------------------------------------------------


@router.post("/brands", response=responses({201: BrandOut}, errors=(401, 403, 422)))
def brand_create(request: ApiRequest, payload: BrandIn, response: HttpResponse) -> Any:
    """Create a brand (admins). Answers 201 with the brand and its ETag."""
    policies.require(policies.can_create_brand(request.auth), "Only admins can create brands.")
    brand = services.brand_create(
        user=request.auth,
        name=payload.name,
        slug=payload.slug,
        description=payload.description,
        markets=_markets(payload.markets),
    )
    return _answer(response, _brand_out(request, brand), 201)


@router.patch("/brands/{slug}", response=responses({200: BrandOut} | _VERSIONED))
def brand_update(
    request: ApiRequest,
    slug: str,
    payload: BrandPatch,
    response: HttpResponse,
    if_match: IfMatch = None,
) -> Any:
    """Edit a brand (admins): only the fields sent change. Needs If-Match."""
    brand, _ = brand_with_capability(request, slug, "brand.edit")
    fields = payload.dict(exclude_unset=True)
    markets = _markets(fields["markets"]) if fields.get("markets") is not None else None
    try:
        _write(
            brand,
            if_match,
            lambda version: services.brand_update(
                user=request.auth,
                brand=brand,
                expected_version=version,
                name=fields.get("name"),
                slug=fields.get("slug"),
                description=fields.get("description"),
                markets=markets,
            ),
        )
    except _Refused as refused:
        return _refused(refused)
    return _answer(response, _brand_out(request, brand))


def _brand_status(
    request: ApiRequest, slug: str, response: HttpResponse, if_match: str | None, status: str
) -> Any:
    brand, _ = brand_with_capability(request, slug, "brand.edit")
    change = services.brand_archive if status == CatalogStatus.ARCHIVED else services.brand_restore
    try:
        _write(
            brand,
            if_match,
            lambda version: change(user=request.auth, brand=brand, expected_version=version),
        )
    except _Refused as refused:
        return _refused(refused)
    return _answer(response, _brand_out(request, brand))


@router.post("/brands/{slug}/archive", response=responses({200: BrandOut} | _VERSIONED))
def brand_archive(
    request: ApiRequest, slug: str, response: HttpResponse, if_match: IfMatch = None
) -> Any:
    """Archive a brand (admins). Needs If-Match; 409 if it is already archived."""
    return _brand_status(request, slug, response, if_match, CatalogStatus.ARCHIVED)


@router.post("/brands/{slug}/restore", response=responses({200: BrandOut} | _VERSIONED))
def brand_restore(
    request: ApiRequest, slug: str, response: HttpResponse, if_match: IfMatch = None
) -> Any:
    """Restore an archived brand (admins). Needs If-Match; 409 if it is already active."""
    return _brand_status(request, slug, response, if_match, CatalogStatus.ACTIVE)


# --- ad accounts (ops leads) -------------------------------------------------------------


@router.post("/brands/{slug}/ad-accounts", response=responses({201: AdAccountOut}))
def ad_account_create(
    request: ApiRequest, slug: str, payload: AdAccountIn, response: HttpResponse
) -> Any:
    """Add an ad account to the brand. Answers 201 with it and its ETag."""
    brand, _ = brand_with_capability(request, slug, "catalog.manage")
    ad_account = services.ad_account_create(
        user=request.auth,
        brand=brand,
        platform=payload.platform,
        external_id=payload.external_id,
        name=payload.name,
        currency=payload.currency,
        time_zone=payload.time_zone,
        markets=_markets(payload.markets),
    )
    return _answer(response, _ad_account_out(request, brand, ad_account.pk), 201)


@router.get(
    "/brands/{slug}/ad-accounts/{pk}",
    response=responses({200: AdAccountOut}, errors=(401, 403, 404)),
)
def ad_account_detail(request: ApiRequest, slug: str, pk: ObjectId, response: HttpResponse) -> Any:
    """One ad account, with its version as ETag (a narrowed media buyer: only theirs)."""
    brand, _ = brand_with_capability(request, slug, "catalog.view")
    return _answer(response, _ad_account_out(request, brand, pk))


@router.patch(
    "/brands/{slug}/ad-accounts/{pk}", response=responses({200: AdAccountOut} | _VERSIONED)
)
def ad_account_update(
    request: ApiRequest,
    slug: str,
    pk: ObjectId,
    payload: AdAccountPatch,
    response: HttpResponse,
    if_match: IfMatch = None,
) -> Any:
    """Edit an ad account: only the fields sent change. Needs If-Match."""
    brand, _ = brand_with_capability(request, slug, "catalog.manage")
    ad_account = selectors.ad_account_for_view(user=request.auth, brand=brand, ad_account_id=pk)
    fields = payload.dict(exclude_unset=True)
    markets = _markets(fields["markets"]) if fields.get("markets") is not None else None
    try:
        _write(
            ad_account,
            if_match,
            lambda version: services.ad_account_update(
                user=request.auth,
                ad_account=ad_account,
                expected_version=version,
                platform=fields.get("platform"),
                external_id=fields.get("external_id"),
                name=fields.get("name"),
                currency=fields.get("currency"),
                time_zone=fields.get("time_zone"),
                markets=markets,
            ),
        )
    except _Refused as refused:
        return _refused(refused)
    return _answer(response, _ad_account_out(request, brand, pk))


def _ad_account_status(
    request: ApiRequest,
    slug: str,
    pk: int,
    response: HttpResponse,
    if_match: str | None,
    status: str,
) -> Any:
    brand, _ = brand_with_capability(request, slug, "catalog.manage")
    ad_account = selectors.ad_account_for_view(user=request.auth, brand=brand, ad_account_id=pk)
    change = (
        services.ad_account_archive
        if status == CatalogStatus.ARCHIVED
        else services.ad_account_restore
    )
    try:
        _write(
            ad_account,
            if_match,
            lambda version: change(
                user=request.auth, ad_account=ad_account, expected_version=version
            ),
        )
    except _Refused as refused:
        return _refused(refused)
    return _answer(response, _ad_account_out(request, brand, pk))


@router.post(
    "/brands/{slug}/ad-accounts/{pk}/archive",
    response=responses({200: AdAccountOut} | _VERSIONED),
)
def ad_account_archive(
    request: ApiRequest,
    slug: str,
    pk: ObjectId,
    response: HttpResponse,
    if_match: IfMatch = None,
) -> Any:
    """Archive an ad account. Needs If-Match; 409 if it is already archived."""
    return _ad_account_status(request, slug, pk, response, if_match, CatalogStatus.ARCHIVED)


@router.post(
    "/brands/{slug}/ad-accounts/{pk}/restore",
    response=responses({200: AdAccountOut} | _VERSIONED),
)
def ad_account_restore(
    request: ApiRequest,
    slug: str,
    pk: ObjectId,
    response: HttpResponse,
    if_match: IfMatch = None,
) -> Any:
    """Restore an archived ad account. Needs If-Match; 409 if it is already active."""
    return _ad_account_status(request, slug, pk, response, if_match, CatalogStatus.ACTIVE)


# --- pixels (ops leads) ------------------------------------------------------------------


@router.post("/brands/{slug}/pixels", response=responses({201: PixelOut}))
def pixel_create(request: ApiRequest, slug: str, payload: PixelIn, response: HttpResponse) -> Any:
    """Add a pixel to the brand, optionally with its access token (write-only: stored
    encrypted, never returned). Answers 201 with it and its ETag."""
    brand, _ = brand_with_capability(request, slug, "catalog.manage")
    try:
        pixel = services.pixel_create(
            user=request.auth,
            brand=brand,
            platform=payload.platform,
            external_id=payload.external_id,
            name=payload.name,
            capi_enabled=payload.capi_enabled,
            ad_accounts=_ad_accounts(brand, payload.ad_account_ids),
            access_token=(payload.access_token or "").strip(),
        )
    except ValidationError as exc:
        raise renamed(exc, _SERVICE_FIELDS) from exc
    return _answer(response, _pixel_out(request, brand, pixel.pk), 201)


@router.get(
    "/brands/{slug}/pixels/{pk}", response=responses({200: PixelOut}, errors=(401, 403, 404))
)
def pixel_detail(request: ApiRequest, slug: str, pk: ObjectId, response: HttpResponse) -> Any:
    """One pixel, with its version as ETag. Never its access token."""
    brand, _ = brand_with_capability(request, slug, "catalog.view")
    return _answer(response, _pixel_out(request, brand, pk))


@router.patch("/brands/{slug}/pixels/{pk}", response=responses({200: PixelOut} | _VERSIONED))
def pixel_update(
    request: ApiRequest,
    slug: str,
    pk: ObjectId,
    payload: PixelPatch,
    response: HttpResponse,
    if_match: IfMatch = None,
) -> Any:
    """Edit a pixel (not its token): only the fields sent change. Needs If-Match."""
    brand, _ = brand_with_capability(request, slug, "catalog.manage")
    pixel = selectors.pixel_for_view(user=request.auth, brand=brand, pixel_id=pk)
    fields = payload.dict(exclude_unset=True)
    ids = fields.get("ad_account_ids")
    ad_accounts = _ad_accounts(brand, ids) if ids is not None else None
    try:
        _write(
            pixel,
            if_match,
            lambda version: services.pixel_update(
                user=request.auth,
                pixel=pixel,
                expected_version=version,
                platform=fields.get("platform"),
                external_id=fields.get("external_id"),
                name=fields.get("name"),
                capi_enabled=fields.get("capi_enabled"),
                ad_accounts=ad_accounts,
            ),
        )
    except _Refused as refused:
        return _refused(refused)
    return _answer(response, _pixel_out(request, brand, pk))


def _pixel_change(
    request: ApiRequest,
    slug: str,
    pk: int,
    response: HttpResponse,
    if_match: str | None,
    change: Callable[[Pixel, int], Any],
) -> Any:
    brand, _ = brand_with_capability(request, slug, "catalog.manage")
    pixel = selectors.pixel_for_view(user=request.auth, brand=brand, pixel_id=pk)
    try:
        _write(pixel, if_match, lambda version: change(pixel, version))
    except _Refused as refused:
        return _refused(refused)
    return _answer(response, _pixel_out(request, brand, pk))


@router.post("/brands/{slug}/pixels/{pk}/archive", response=responses({200: PixelOut} | _VERSIONED))
def pixel_archive(
    request: ApiRequest,
    slug: str,
    pk: ObjectId,
    response: HttpResponse,
    if_match: IfMatch = None,
) -> Any:
    """Archive a pixel. Needs If-Match; 409 if it is already archived."""
    return _pixel_change(
        request,
        slug,
        pk,
        response,
        if_match,
        lambda pixel, version: services.pixel_archive(
            user=request.auth, pixel=pixel, expected_version=version
        ),
    )


@router.post("/brands/{slug}/pixels/{pk}/restore", response=responses({200: PixelOut} | _VERSIONED))
def pixel_restore(
    request: ApiRequest,
    slug: str,
    pk: ObjectId,
    response: HttpResponse,
    if_match: IfMatch = None,
) -> Any:
    """Restore an archived pixel. Needs If-Match; 409 if it is already active."""
    return _pixel_change(
        request,
        slug,
        pk,
        response,
        if_match,
        lambda pixel, version: services.pixel_restore(
            user=request.auth, pixel=pixel, expected_version=version
        ),
    )


@router.put("/brands/{slug}/pixels/{pk}/token", response=responses({200: PixelOut} | _VERSIONED))
def pixel_token_set(
    request: ApiRequest,
    slug: str,
    pk: ObjectId,
    payload: PixelTokenIn,
    response: HttpResponse,
    if_match: IfMatch = None,
) -> Any:
    """Set or replace the pixel's access token (write-only: stored encrypted, never
    returned; the answer says only ``has_access_token``). Needs If-Match."""
    token = payload.access_token.strip()
    if not token:
        raise ValidationError({"access_token": "Enter the access token."})
    return _pixel_change(
        request,
        slug,
        pk,
        response,
        if_match,
        lambda pixel, version: services.pixel_set_access_token(
            user=request.auth, pixel=pixel, access_token=token, expected_version=version
        ),
    )


@router.delete("/brands/{slug}/pixels/{pk}/token", response=responses({200: PixelOut} | _VERSIONED))
def pixel_token_remove(
    request: ApiRequest,
    slug: str,
    pk: ObjectId,
    response: HttpResponse,
    if_match: IfMatch = None,
) -> Any:
    """Remove the pixel's access token. Needs If-Match; 409 if none is set."""

    def remove(pixel: Pixel, version: int) -> None:
        removed = services.pixel_set_access_token(
            user=request.auth, pixel=pixel, access_token="", expected_version=version
        )
        if not removed:
            raise _Refused(409, "The pixel has no access token.", "access_token", pixel.version)

    return _pixel_change(request, slug, pk, response, if_match, remove)
