"""A launch as an Ads Manager bulk-import sheet and as a JSON document (issue #11 §6).

Pure over a launch loaded with ``selectors.with_structure`` (and, for the optimized event's
Meta name, ``optimization_event__mappings`` prefetched — ``EXPORT_PREFETCH``): no query of
its own beyond what was prefetched.

The sheet has the column headers of ``shared/platform-apis.md`` §6, in that order, one row
per ad with the campaign and ad-set fields repeated. What each column holds:

- ``Campaign ID`` / ``Ad Set ID`` / ``Ad ID``: empty (a new import: Ads Manager creates them);
- every status column ``PAUSED``, so an import never goes live by itself;
- ``Campaign Objective`` the ``OUTCOME_*`` value, ``Buying Type`` ``AUCTION``;
- the budget in ``Campaign Daily Budget`` or ``Campaign Lifetime Budget`` by its type
  (the campaign's budget: the ad-set budget columns stay empty);
- ``Campaign Start Time`` / ``Stop Time`` and ``Ad Set Time Start`` / ``Stop`` the launch's
  schedule in the ad account's time zone, ``YYYY-MM-DD HH:MM:SS`` (no stop: empty);
- ``Optimized Conversion Tracking Pixels`` and ``Conversion Tracking Pixels``
  ``tp:<pixel id>``; ``Optimized Event`` the event's mapping on the account's platform
  (the event's name when it has none);
- ``Link`` the landing URL, ``URL Tags`` the non-empty UTM parameters as an encoded query
  string (``utm_source=…&utm_medium=…``);
- everything else empty.

Every cell goes through ``core.csvexport`` (a cell that looks like a formula is
neutralised)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django.utils.text import slugify

from koastops.core.csvexport import csv_lines
from koastops.launches import content

if TYPE_CHECKING:
    from koastops.launches.models import Ad, Launch

COLUMNS: tuple[str, ...] = (
    "Campaign ID",
    "Campaign Name",
    "Campaign Status",
    "Campaign Objective",
    "Buying Type",
    "Special Ad Categories",
    "Campaign Daily Budget",
    "Campaign Lifetime Budget",
    "Campaign Bid Strategy",
    "Campaign Start Time",
    "Campaign Stop Time",
    "New Objective",
    "Ad Set ID",
    "Ad Set Run Status",
    "Ad Set Name",
    "Ad Set Time Start",
    "Ad Set Time Stop",
    "Ad Set Daily Budget",
    "Ad Set Lifetime Budget",
    "Optimized Conversion Tracking Pixels",
    "Optimized Event",
    "Optimization Goal",
    "Billing Event",
    "Attribution Spec",
    "Ad ID",
    "Ad Status",
    "Ad Name",
    "Title",
    "Body",
    "Link",
    "URL Tags",
    "Conversion Tracking Pixels",
    "Creative Type",
    "Call to Action",
    "Ad Start Time",
    "Ad Stop Time",
)

PAUSED = "PAUSED"
BUYING_TYPE = "AUCTION"
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
# What a view prefetches beyond ``selectors.with_structure`` (the event's platform names).
EXPORT_PREFETCH = ("optimization_event__mappings",)


def _zone(launch: Launch) -> dt.tzinfo:
    try:
        return zoneinfo.ZoneInfo(launch.ad_account.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return dt.UTC


def _time(moment: dt.datetime | None, zone: dt.tzinfo) -> str:
    return moment.astimezone(zone).strftime(TIME_FORMAT) if moment is not None else ""


def optimized_event(launch: Launch) -> str:
    """The event's name on the ad account's platform (its mapping), else its own name."""
    event = launch.optimization_event
    for mapping in event.mappings.all():
        if mapping.platform == launch.ad_account.platform and mapping.target:
            return str(mapping.target)
    return event.name


def url_tags(ad: Ad) -> str:
    """The ad's UTM parameters as an encoded query string, empty ones left out."""
    return urlencode(
        [(field, getattr(ad, field)) for field in content.UTM_FIELDS if getattr(ad, field)]
    )


def sheet_rows(launch: Launch) -> Iterator[list[str]]:
    """One row per ad, in the structure's order, cells as ``COLUMNS`` (not yet neutralised)."""
    zone = _zone(launch)
    start, stop = _time(launch.start_at, zone), _time(launch.end_at, zone)
    amount = f"{launch.budget_amount:.2f}"
    pixel = f"tp:{launch.pixel.external_id}"
    event = optimized_event(launch)
    for ad_set in sorted(launch.ad_sets.all(), key=lambda a: a.position):
        for ad in sorted(ad_set.ads.all(), key=lambda a: a.position):
            cells = {
                "Campaign Name": launch.campaign_name,
                "Campaign Status": PAUSED,
                "Campaign Objective": launch.objective,
                "Buying Type": BUYING_TYPE,
                "Campaign Daily Budget": amount if launch.budget_type == "daily" else "",
                "Campaign Lifetime Budget": amount if launch.budget_type == "lifetime" else "",
                "Campaign Start Time": start,
                "Campaign Stop Time": stop,
                "Ad Set Run Status": PAUSED,
                "Ad Set Name": ad_set.name,
                "Ad Set Time Start": start,
                "Ad Set Time Stop": stop,
                "Optimized Conversion Tracking Pixels": pixel,
                "Optimized Event": event,
                "Ad Status": PAUSED,
                "Ad Name": ad.name,
                "Link": ad.landing_url,
                "URL Tags": url_tags(ad),
                "Conversion Tracking Pixels": pixel,
            }
            yield [cells.get(column, "") for column in COLUMNS]


def sheet_lines(launch: Launch) -> Iterator[str]:
    """The CSV, line by line: the header, then every row with its cells neutralised."""
    return csv_lines(COLUMNS, sheet_rows(launch))


def sheet_filename(launch: Launch) -> str:
    return f"{slugify(launch.campaign_name)[:80] or f'launch-{launch.pk}'}-ads-manager.csv"


def json_filename(launch: Launch) -> str:
    return f"{slugify(launch.campaign_name)[:80] or f'launch-{launch.pk}'}-launch.json"


def _person(user: Any) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": user.pk, "email": user.email}


def document(launch: Launch) -> dict[str, Any]:
    """The launch's content document (``content.snapshot``) with its ids, state, approval
    (who, when, on which content hash) and platform campaign id."""
    approved = bool(launch.approved_hash)
    return {
        "id": launch.pk,
        "brand": launch.brand.slug,
        "state": launch.state,
        "version": launch.version,
        "content_hash": launch.content_hash,
        "ids": {
            "ad_account": launch.ad_account_id,
            "pixel": launch.pixel_id,
            "optimization_event": launch.optimization_event_id,
        },
        "approval": {
            "approved_by": _person(launch.approved_by) if approved else None,
            "approved_at": launch.approved_at.isoformat()
            if approved and launch.approved_at
            else None,
            "content_hash": launch.approved_hash or None,
            "current": approved and launch.approved_hash == launch.content_hash,
        },
        "platform_campaign_id": launch.platform_campaign_id or None,
        "launched_at": launch.launched_at.isoformat() if launch.launched_at else None,
        "content": content.snapshot(launch),
    }
