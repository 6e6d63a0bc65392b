"""Request and response shapes of the API. Pixel access tokens are secret: the API says
only whether one is set and when it changed, never the token (encrypted or not)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from ninja import Schema
from pydantic import AfterValidator, Field, field_validator

from koastops.accounts.models import Role
from koastops.activity.selectors import is_user_id
from koastops.activity.verbs import VERBS
from koastops.api.pagination import PageParams
from koastops.catalog import selectors as catalog_selectors
from koastops.catalog.models import Platform
from koastops.core.ids import MAX_ID

StatusFilter = Literal["active", "archived", "all"]

# Ids are bigints: a larger value is a 422 naming the field, never a database error.
DbId = Annotated[int, Field(ge=1, le=MAX_ID)]
# PostgreSQL text cannot hold NUL; a string with one is a 422, not a database error.
NO_NUL = r"^[^\x00]*$"
ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# Only registered verbs can be in the log, so only they are accepted (and documented).
# An activity filter left empty ("verb=", as the page's form sends it) is no filter.
Verb = Literal[(*sorted(VERBS), "")]  # type: ignore[valid-type]
NoFilter = Literal[""]


# --- query parameters ---------------------------------------------------------------------


class CatalogFilters(PageParams):
    q: str = Field("", max_length=100, pattern=NO_NUL, description="Search in names and ids.")
    status: StatusFilter = Field("active", description="Which rows: active, archived or all.")


class MemberFilters(PageParams):
    q: str = Field(
        "", max_length=100, pattern=NO_NUL, description="Search in email addresses and names."
    )


ACTIVITY_FILTER_NAMES = frozenset({"actor", "verb", "target_type", "date_from", "date_to", "q"})


class ActivityFilters(PageParams):
    actor: str | None = Field(
        None,
        max_length=254,
        pattern=NO_NUL,
        description='A user id, or the actor\'s label: an email address or "system" (exact, any case).',
    )
    verb: Verb | None = Field(  # type: ignore[valid-type]
        None, description="A registered verb, e.g. member.role_granted (empty: any)."
    )
    target_type: str | None = Field(
        None,
        max_length=64,
        pattern=NO_NUL,
        description="The target's model label, e.g. accounts.user.",
    )
    date_from: dt.date | NoFilter | None = Field(
        None, description="From this day (UTC, YYYY-MM-DD), inclusive (empty: no bound)."
    )
    date_to: dt.date | NoFilter | None = Field(
        None,
        description=(
            "Up to this day (UTC, YYYY-MM-DD), inclusive; not before date_from (empty: no bound)."
        ),
    )
    q: str | None = Field(
        None,
        max_length=100,
        pattern=NO_NUL,
        description="Search in who acted and on what (labels, any case).",
    )

    @field_validator("date_from", "date_to", mode="before")
    @classmethod
    def _iso_day(cls, value: Any) -> Any:
        # pydantic would also take a number of seconds since 1970 ("0"): only YYYY-MM-DD,
        # parsed here so that a day that does not exist is one error naming the field.
        if isinstance(value, str) and value:
            if not ISO_DAY.fullmatch(value):
                raise ValueError("Use a day as YYYY-MM-DD.")
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                raise ValueError("No such day.") from None
        return value

    # Defined after the other "before" validators, so it runs first (pydantic runs them
    # last-defined first).
    @field_validator(*sorted(ACTIVITY_FILTER_NAMES), mode="before")
    @classmethod
    def _empty_is_no_filter(cls, value: Any) -> Any:
        # A query string copied from the activity page's URL names every filter, the unused
        # ones empty ("verb=&date_from="): empty means no filter there, and so here.
        return None if value == "" else value

    @field_validator("actor")
    @classmethod
    def _actor_id_in_range(cls, value: str | None) -> str | None:
        value = (value or "").strip()
        if is_user_id(value) and not 1 <= int(value) <= MAX_ID:
            raise ValueError(f"A user id is between 1 and {MAX_ID}.")
        return value or None

    @field_validator("date_to")
    @classmethod
    def _not_before_date_from(cls, value: dt.date | None, info: Any) -> dt.date | None:
        date_from = info.data.get("date_from")
        if value and date_from and value < date_from:
            raise ValueError("date_to must not be before date_from.")
        return value


# --- catalog ------------------------------------------------------------------------------


class BrandOut(Schema):
    id: int
    slug: str
    name: str
    description: str
    status: str
    archived_at: dt.datetime | None
    markets: list[str] = Field(description="ISO 3166 codes of the brand's markets.")
    ad_account_count: int
    pixel_count: int
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int = Field(description="Bumped by every change; send it back as If-Match.")

    @staticmethod
    def resolve_markets(obj: Any) -> list[str]:
        # catalog.selectors.brand_list reads them with the brand, ordered by code.
        return [code for code, _name in catalog_selectors.market_pairs(obj.markets_joined)]


class AdAccountOut(Schema):
    id: int
    platform: str
    external_id: str
    name: str
    currency: str
    time_zone: str
    markets: list[str]
    status: str
    archived_at: dt.datetime | None
    pixel_count: int
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int = Field(description="Bumped by every change; send it back as If-Match.")

    @staticmethod
    def resolve_markets(obj: Any) -> list[str]:
        return [market.code for market in obj.markets.all()]


class PixelOut(Schema):
    id: int
    platform: str
    external_id: str
    name: str
    ad_account_ids: list[int]
    capi_enabled: bool
    has_access_token: bool = Field(description="Whether an access token is stored (never shown).")
    access_token_changed_at: dt.datetime | None
    last_fired_at: dt.datetime | None
    status: str
    archived_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int = Field(description="Bumped by every change; send it back as If-Match.")

    @staticmethod
    def resolve_ad_account_ids(obj: Any) -> list[int]:
        return [account.pk for account in obj.ad_accounts.all()]  # prefetched


# --- members ------------------------------------------------------------------------------


class MemberOut(Schema):
    id: int
    email: str
    full_name: str
    role: Role
    ad_account_ids: list[int] | None = Field(
        description="The ad accounts a narrowed media buyer may use; null: all of them."
    )
    is_active: bool


class MemberGrantIn(Schema):
    email: str = Field(
        max_length=254, pattern=NO_NUL, description="An existing user's email address."
    )
    role: Role
    ad_account_ids: list[DbId] | None = Field(
        None,
        max_length=1000,
        description="Media buyers only: narrow to these ad accounts of the brand ([]: all).",
    )


# --- activity -----------------------------------------------------------------------------


class ActivityOut(Schema):
    id: int
    created_at: dt.datetime
    actor_id: int | None
    actor_label: str
    verb: str
    verb_text: str = Field(description="What the verb means, in words.")
    target_type: str
    target_id: str
    target_label: str
    before: dict[str, Any]
    after: dict[str, Any]
    hash: str

    @staticmethod
    def resolve_verb_text(obj: Any) -> str:
        return VERBS.get(obj.verb, obj.verb)


# --- pages and errors ---------------------------------------------------------------------


class _Page(Schema):
    count: int
    page: int
    page_size: int


class BrandPage(_Page):
    items: list[BrandOut]


class AdAccountPage(_Page):
    items: list[AdAccountOut]


class PixelPage(_Page):
    items: list[PixelOut]


class MemberPage(_Page):
    items: list[MemberOut]


class ActivityPage(_Page):
    items: list[ActivityOut]


class ErrorOut(Schema):
    detail: str


class FieldError(Schema):
    loc: list[str | int]
    msg: str
    type: str | None = None


class ValidationErrorOut(Schema):
    detail: list[FieldError]


# --- catalog writes -----------------------------------------------------------------------
# Create bodies name every field; edit bodies (PATCH) only the fields to change. Status
# changes only through the archive / restore operations.


def _storable_text(value: str) -> str:
    """Text the database can store: PostgreSQL refuses NUL characters and lone surrogates
    (which JSON can spell), and would answer with a 500 instead of naming the field."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode()
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return value


Text = Annotated[str, AfterValidator(_storable_text)]
MarketCode = Annotated[Text, Field(min_length=2, max_length=2, description="ISO 3166 code.")]
Name = Annotated[Text, Field(min_length=1, max_length=120)]
ExternalId = Annotated[Text, Field(min_length=1, max_length=40)]
Currency = Annotated[Text, Field(min_length=3, max_length=3, description="ISO 4217, e.g. EUR.")]
TimeZone = Annotated[Text, Field(min_length=1, max_length=64, description="IANA name.")]
Slug = Annotated[Text, Field(max_length=60, description="Letters, digits, - and _.")]
Description = Annotated[Text, Field(max_length=5000)]
AccessToken = Annotated[
    Text, Field(min_length=1, max_length=2000, description="Write-only: never returned.")
]


class BrandIn(Schema):
    name: Name
    slug: Slug = Field("", description="Derived from the name when left out.")
    description: Description = ""
    markets: list[MarketCode] = Field([], max_length=300)


class BrandPatch(Schema):
    name: Name | None = None
    slug: Slug | None = None
    description: Description | None = None
    markets: list[MarketCode] | None = Field(None, max_length=300)


class AdAccountIn(Schema):
    platform: Platform
    external_id: ExternalId
    name: Name
    currency: Currency
    time_zone: TimeZone
    markets: list[MarketCode] = Field([], max_length=300, description="Of the brand's markets.")


class AdAccountPatch(Schema):
    platform: Platform | None = None
    external_id: ExternalId | None = None
    name: Name | None = None
    currency: Currency | None = None
    time_zone: TimeZone | None = None
    markets: list[MarketCode] | None = Field(None, max_length=300)


class PixelIn(Schema):
    platform: Platform
    external_id: ExternalId
    name: Name
    capi_enabled: bool = False
    ad_account_ids: list[DbId] = Field([], max_length=500, description="The brand's own.")
    access_token: AccessToken | None = None


class PixelPatch(Schema):
    platform: Platform | None = None
    external_id: ExternalId | None = None
    name: Name | None = None
    capi_enabled: bool | None = None
    ad_account_ids: list[DbId] | None = Field(None, max_length=500)


class PixelTokenIn(Schema):
    access_token: AccessToken


class VersionErrorOut(Schema):
    """409 (stale If-Match, or already in the asked-for state) and 428 (no If-Match)."""

    detail: str
    field: str = Field(description="What to fix: If-Match, or status.")
    version: int | None = Field(description="The object's current version, if known.")
