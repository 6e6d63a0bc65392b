"""A launch's editable content, validated: the one parser the form, the API and the
duplicate share (``services.launch_create`` / ``launch_update`` call it). Input is a plain
mapping (the API's JSON body, or the form's fields gathered into the same shape); every
problem is reported at once as a ``ValidationError`` keyed by the path of the field —
``budget_amount``, ``ad_sets.0.market``, ``ad_sets.1.ads.2.landing_url`` — so a form shows
it by its field and the API names it.

What is checked here is what makes a launch well-formed (the account and pixel are the
brand's and the user may use them, the event is in the tracking plan, the markets are the
brand's, amounts and dates parse). Whether it may go live — names against the naming
rules, consent, event quality, the account's budget limits, the schedule being in the
future — is the checklist's job (``koastops.launches.checks``): a draft may fail them."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.utils.dateparse import parse_datetime

from koastops.accounts import policies
from koastops.catalog.models import AdAccount, Brand, CatalogStatus, Market, Pixel
from koastops.launches.content import UTM_FIELDS
from koastops.launches.models import BudgetType, Objective
from koastops.taxonomy.models import EventDefinition, EventStatus

MAX_AD_SETS = 50
MAX_ADS_PER_SET = 50
MAX_ADS = 200
NAME_MAX = 200
URL_MAX = 2000
NOTE_MAX = 1000
BUDGET_MAX = Decimal("1000000000")


@dataclass(frozen=True)
class AdData:
    name: str
    landing_url: str
    utm: dict[str, str]


@dataclass(frozen=True)
class AdSetData:
    name: str
    market: Market
    audience_note: str
    ads: tuple[AdData, ...]


@dataclass(frozen=True)
class LaunchData:
    ad_account: AdAccount
    pixel: Pixel
    objective: str
    optimization_event: EventDefinition
    markets: tuple[Market, ...]
    budget_type: str
    budget_amount: Decimal
    start_at: dt.datetime
    end_at: dt.datetime | None
    campaign_name: str
    ad_sets: tuple[AdSetData, ...]


class _Errors:
    def __init__(self) -> None:
        self.by_path: dict[str, list[str]] = {}

    def add(self, path: str, message: str) -> None:
        self.by_path.setdefault(path, []).append(message)


def _text(
    errors: _Errors,
    data: Mapping[str, Any],
    key: str,
    path: str,
    *,
    limit: int,
    required: bool = True,
) -> str:
    value = data.get(key, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors.add(path, "Enter text.")
        return ""
    value = value.strip()
    if required and not value:
        errors.add(path, "This field is required.")
    elif len(value) > limit:
        errors.add(path, f"At most {limit:,} characters.")
    elif any(ord(ch) < 32 and ch not in "\n\t" for ch in value) or "\x7f" in value:
        errors.add(path, "Remove the control characters.")
    return value


def _pk(errors: _Errors, data: Mapping[str, Any], key: str) -> int | None:
    value = data.get(key)
    if value in (None, ""):
        errors.add(key, "This field is required.")
        return None
    if isinstance(value, bool):
        errors.add(key, "Choose one from the list.")
        return None
    try:
        number = int(str(value))
    except ValueError:
        errors.add(key, "Choose one from the list.")
        return None
    if not 0 < number < 2**62:
        errors.add(key, "Choose one from the list.")
        return None
    return number


def _moment(
    errors: _Errors, value: Any, path: str, tz: dt.tzinfo | None, required: bool
) -> dt.datetime | None:
    if value in (None, ""):
        if required:
            errors.add(path, "This field is required.")
        return None
    moment: dt.datetime | None
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = parse_datetime(value.strip())
        except ValueError:
            moment = None
    else:
        moment = None
    if moment is None:
        errors.add(path, "Enter a date and time, e.g. 2027-03-01 09:00.")
        return None
    if not 2000 <= moment.year < 2100:
        errors.add(path, "Enter a date between 2000 and 2100.")
        return None
    if moment.tzinfo is None:
        if tz is None:
            return None  # the account is invalid: reported on ad_account
        moment = moment.replace(tzinfo=tz)  # in the ad account's time zone
    return moment


def _url(errors: _Errors, value: str, path: str) -> None:
    if not value:
        return
    try:
        parts = urlsplit(value)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        errors.add(path, "Enter a valid URL, e.g. https://example.com/landing.")
        return
    if parts.scheme not in ("http", "https") or not parts.hostname or not port_ok:
        errors.add(path, "Enter a valid URL, e.g. https://example.com/landing.")
    elif any(ch.isspace() for ch in value):
        errors.add(path, "A URL cannot contain spaces.")


def parse(*, user: Any, brand: Brand, data: Mapping[str, Any]) -> LaunchData:
    """Validate ``data`` for ``brand`` as ``user`` may use it; ``ValidationError`` by path.
    A constant number of queries (account, pixel, event, markets)."""
    if not isinstance(data, Mapping):
        raise ValidationError({"__all__": ["Send the launch as an object."]})
    errors = _Errors()
    account = pixel = event = None
    tz: dt.tzinfo | None = None
    if (pk := _pk(errors, data, "ad_account")) is not None:
        account = (
            policies.ad_accounts_for(user, brand).filter(pk=pk, status=CatalogStatus.ACTIVE).first()
        )
        if account is None:
            errors.add("ad_account", "Choose one of the brand's active ad accounts you may use.")
        else:
            try:
                tz = zoneinfo.ZoneInfo(account.time_zone)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                errors.add("ad_account", "The ad account's time zone is not valid.")
    if (pk := _pk(errors, data, "pixel")) is not None:
        pixel = policies.pixels_for(user, brand).filter(pk=pk, status=CatalogStatus.ACTIVE).first()
        if pixel is None:
            errors.add("pixel", "Choose one of the brand's active pixels.")
        elif account is not None and pixel.platform != account.platform:
            errors.add("pixel", "Choose a pixel of the ad account's platform.")
    if (pk := _pk(errors, data, "optimization_event")) is not None:
        event = EventDefinition.objects.filter(pk=pk, brand=brand).first()
        if event is None:
            errors.add("optimization_event", "Choose an event of the brand's tracking plan.")
        elif event.status != EventStatus.ACTIVE:
            errors.add(
                "optimization_event",
                f"{event.name} is {event.get_status_display().lower()}: choose an active event.",
            )
    objective = data.get("objective")
    if objective not in Objective.values:
        errors.add("objective", "Choose an objective from the list.")
    budget_type = data.get("budget_type")
    if budget_type not in BudgetType.values:
        errors.add("budget_type", "Choose daily or lifetime.")
    amount = Decimal(0)
    raw_amount = data.get("budget_amount")
    try:
        if isinstance(raw_amount, bool) or raw_amount in (None, ""):
            raise InvalidOperation
        amount = Decimal(str(raw_amount).strip())
        if not amount.is_finite():
            raise InvalidOperation
        if amount <= 0:
            errors.add("budget_amount", "Enter an amount above zero.")
        elif amount >= BUDGET_MAX:
            errors.add("budget_amount", f"Enter an amount below {BUDGET_MAX:,}.")
        elif amount != amount.quantize(Decimal("0.01")):
            errors.add("budget_amount", "At most two decimals.")
    except (InvalidOperation, ValueError):
        errors.add("budget_amount", "Enter an amount, e.g. 250.00.")
    start_at = _moment(errors, data.get("start_at"), "start_at", tz, True)
    end_at = _moment(errors, data.get("end_at"), "end_at", tz, budget_type == BudgetType.LIFETIME)
    if start_at and end_at and end_at <= start_at:
        errors.add("end_at", "The end must be after the start.")
    campaign_name = _text(errors, data, "campaign_name", "campaign_name", limit=NAME_MAX)

    markets: dict[str, Market] = {}
    raw_markets = data.get("markets")
    if not isinstance(raw_markets, Sequence) or isinstance(raw_markets, str):
        errors.add("markets", "Choose at least one market.")
        raw_markets = []
    codes = [str(code).strip().upper() for code in raw_markets if isinstance(code, str)]
    if len(codes) != len(raw_markets) or len(codes) > 300:
        errors.add("markets", "Choose markets from the list.")
    brand_markets = {m.code: m for m in brand.markets.all()}
    for code in codes:
        if code not in brand_markets:
            errors.add("markets", f"{code[:8]} is not a market of {brand.name}.")
        else:
            markets[code] = brand_markets[code]
    if not codes and "markets" not in errors.by_path:
        errors.add("markets", "Choose at least one market.")

    ad_sets: list[AdSetData] = []
    raw_sets = data.get("ad_sets")
    if not isinstance(raw_sets, Sequence) or isinstance(raw_sets, str) or not raw_sets:
        errors.add("ad_sets", "Add at least one ad set.")
        raw_sets = []
    elif len(raw_sets) > MAX_AD_SETS:
        errors.add("ad_sets", f"At most {MAX_AD_SETS} ad sets.")
        raw_sets = []
    total_ads = 0
    for i, raw_set in enumerate(raw_sets):
        path = f"ad_sets.{i}"
        if not isinstance(raw_set, Mapping):
            errors.add(path, "Send each ad set as an object.")
            continue
        name = _text(errors, raw_set, "name", f"{path}.name", limit=NAME_MAX)
        note = _text(
            errors,
            raw_set,
            "audience_note",
            f"{path}.audience_note",
            limit=NOTE_MAX,
            required=False,
        )
        raw_code = raw_set.get("market")
        market = markets.get(raw_code.strip().upper()) if isinstance(raw_code, str) else None
        if market is None:
            errors.add(f"{path}.market", "Choose one of the launch's markets.")
        ads: list[AdData] = []
        raw_ads = raw_set.get("ads")
        if not isinstance(raw_ads, Sequence) or isinstance(raw_ads, str) or not raw_ads:
            errors.add(f"{path}.ads", "Add at least one ad.")
            raw_ads = []
        elif len(raw_ads) > MAX_ADS_PER_SET:
            errors.add(f"{path}.ads", f"At most {MAX_ADS_PER_SET} ads per ad set.")
            raw_ads = []
        total_ads += len(raw_ads)
        for j, raw_ad in enumerate(raw_ads):
            ad_path = f"{path}.ads.{j}"
            if not isinstance(raw_ad, Mapping):
                errors.add(ad_path, "Send each ad as an object.")
                continue
            ad_name = _text(errors, raw_ad, "name", f"{ad_path}.name", limit=NAME_MAX)
            url = _text(errors, raw_ad, "landing_url", f"{ad_path}.landing_url", limit=URL_MAX)
            _url(errors, url, f"{ad_path}.landing_url")
            utm = {
                field: _text(
                    errors, raw_ad, field, f"{ad_path}.{field}", limit=NAME_MAX, required=False
                )
                for field in UTM_FIELDS
            }
            ads.append(AdData(ad_name, url, utm))
        if market is not None:
            ad_sets.append(AdSetData(name, market, note, tuple(ads)))
    if total_ads > MAX_ADS:
        errors.add("ad_sets", f"At most {MAX_ADS} ads in one launch.")
    if errors.by_path:
        raise ValidationError(errors.by_path)
    assert account and pixel and event and start_at  # noqa: S101 (no errors: all parsed)
    return LaunchData(
        ad_account=account,
        pixel=pixel,
        objective=str(objective),
        optimization_event=event,
        markets=tuple(markets[code] for code in sorted(markets)),
        budget_type=str(budget_type),
        budget_amount=amount.quantize(Decimal("0.01")),
        start_at=start_at,
        end_at=end_at,
        campaign_name=campaign_name,
        ad_sets=tuple(ad_sets),
    )


def snapshot(data: LaunchData) -> dict[str, Any]:
    """``content.snapshot`` of the launch ``data`` would write (same document, same hash)."""
    return {
        "ad_account": data.ad_account.external_id,
        "pixel": data.pixel.external_id,
        "objective": data.objective,
        "optimization_event": data.optimization_event.name,
        "markets": sorted(market.code for market in data.markets),
        "budget_type": data.budget_type,
        "budget_amount": f"{data.budget_amount:.2f}",
        "currency": data.ad_account.currency,
        "start_at": data.start_at.astimezone(dt.UTC).isoformat(),
        "end_at": data.end_at.astimezone(dt.UTC).isoformat() if data.end_at else None,
        "campaign_name": data.campaign_name,
        "ad_sets": [
            {
                "name": ad_set.name,
                "market": ad_set.market.code,
                "audience_note": ad_set.audience_note,
                "ads": [
                    {"name": ad.name, "landing_url": ad.landing_url, **ad.utm} for ad in ad_set.ads
                ],
            }
            for ad_set in data.ad_sets
        ],
    }


def as_data(launch: Any) -> dict[str, Any]:
    """A stored launch in the shape ``parse`` reads (duplicate, the edit form's initial
    values, the API's representation of the structure). Times in the account's zone."""
    try:
        tz: dt.tzinfo = zoneinfo.ZoneInfo(launch.ad_account.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        tz = dt.UTC
    return {
        "ad_account": launch.ad_account_id,
        "pixel": launch.pixel_id,
        "objective": launch.objective,
        "optimization_event": launch.optimization_event_id,
        "markets": sorted(m.code for m in launch.markets.all()),
        "budget_type": launch.budget_type,
        "budget_amount": f"{launch.budget_amount:.2f}",
        "start_at": launch.start_at.astimezone(tz).isoformat(),
        "end_at": launch.end_at.astimezone(tz).isoformat() if launch.end_at else None,
        "campaign_name": launch.campaign_name,
        "ad_sets": [
            {
                "name": ad_set.name,
                "market": ad_set.market.code,
                "audience_note": ad_set.audience_note,
                "ads": [
                    {
                        "name": ad.name,
                        "landing_url": ad.landing_url,
                        **{field: getattr(ad, field) for field in UTM_FIELDS},
                    }
                    for ad in sorted(ad_set.ads.all(), key=lambda a: a.position)
                ],
            }
            for ad_set in sorted(launch.ad_sets.all(), key=lambda a: a.position)
        ],
    }
