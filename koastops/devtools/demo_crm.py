"""The CRM conversions of the demo data (``seed_demo``, after the demo stats).

For every demo brand and each of its active Meta ad accounts: 30 days of CRM
conversions for the key events (Purchase and Lead), per local day of the account. When
the demo provider's stats are in ``HourlyStat`` (pulled by then), the CRM count of a day is
derived from the platform's count of the account's pixels: about 8 % below it, with one
day (12 days ago) at 60 % — the big gap the reconciliation page flags. Without stats, a
plausible weekly pattern stands in. Written by the brand's analyst through
``conversions_api_ingest`` (source ``crm``), so the imports list and the activity log show
it like a real upload. A brand that already has CRM conversions is left as it is (a
re-run creates nothing).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from django.utils import timezone

from koastops.accounts.models import User
from koastops.catalog.models import Brand
from koastops.quality import conversion_services as services
from koastops.quality.models import Conversion
from koastops.quality.reconciliation import time_zone_of, utc_bounds

DAYS = 30
KEY_EVENTS = {"Purchase": 40, "Lead": 110}  # plan event -> fallback daily volume
BIG_GAP_DAYS_AGO = 12
SHARE = 0.92
BIG_GAP_SHARE = 0.60


def _jitter(*parts: Any) -> float:
    """A deterministic number in [0, 1) from the parts (same demo on every run)."""
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32


def _platform_counts(account: Any, start: dt.date, end: dt.date) -> dict[tuple[str, dt.date], int]:
    from django.db.models import Sum
    from django.db.models.functions import TruncDate

    from koastops.quality.models import HourlyStat

    zone = time_zone_of(account)
    lower, upper = utc_bounds(start, end, zone)
    rows = (
        HourlyStat.objects.filter(
            pixel__in=account.pixels.values("pk"),
            event__in=list(KEY_EVENTS),
            source="total",
            hour__gte=lower,
            hour__lt=upper,
        )
        .annotate(day=TruncDate("hour", tzinfo=zone))
        .values("event", "day")
        .annotate(n=Sum("count"))
    )
    return {(row["event"], row["day"]): row["n"] or 0 for row in rows}


def seed_crm(*, brand: Brand, analyst: User) -> tuple[int, int]:
    """(conversions created, already there) for one brand."""
    existing = Conversion.objects.filter(brand=brand).count()
    if existing:
        return 0, existing
    from koastops.taxonomy.models import EventDefinition

    in_plan = set(
        EventDefinition.objects.filter(
            brand=brand, name__in=list(KEY_EVENTS), status__in=["active", "deprecated"]
        ).values_list("name", flat=True)
    )
    items: list[dict[str, Any]] = []
    for account in brand.ad_accounts.filter(platform="meta", status="active").order_by("pk"):
        zone = time_zone_of(account)
        today = timezone.now().astimezone(zone).date()
        start = today - dt.timedelta(days=DAYS)
        end = today - dt.timedelta(days=1)
        platform = _platform_counts(account, start, end)
        for event, fallback in KEY_EVENTS.items():
            if event not in in_plan:
                continue
            for offset in range(DAYS):
                day = start + dt.timedelta(days=offset)
                base = platform.get((event, day))
                if base is None:
                    weekday = 0.8 if day.weekday() >= 5 else 1.0
                    base = round(fallback * weekday * (0.85 + 0.3 * _jitter(brand.pk, event, day)))
                share = BIG_GAP_SHARE if (today - day).days == BIG_GAP_DAYS_AGO else SHARE
                count = round(base * share * (0.97 + 0.06 * _jitter(account.pk, event, day)))
                for n in range(count):
                    second = int(_jitter(account.pk, event, day, n) * 86_399)
                    moment = dt.datetime.combine(day, dt.time(0), tzinfo=zone) + dt.timedelta(
                        seconds=second
                    )
                    item: dict[str, Any] = {
                        "event": event,
                        "occurred_at": moment.isoformat(),
                        "external_id": f"{account.external_id}-{event[:1]}{day:%Y%m%d}-{n:04d}",
                        "ad_account": account.external_id,
                    }
                    if event == "Purchase":
                        item["value"] = f"{20 + 180 * _jitter('v', account.pk, day, n):.2f}"
                        item["currency"] = account.currency
                    items.append(item)
    created = 0
    for chunk in range(0, len(items), services.API_MAX_ITEMS):
        result = services.conversions_api_ingest(
            actor=analyst,
            brand=brand,
            source="crm",
            items=items[chunk : chunk + services.API_MAX_ITEMS],
        )
        created += result.created
    return created, 0


def seed_all(*, brands: list[Brand], shorts: list[str], tally: Any) -> None:
    """Every demo brand, written by its analyst (``analyst.<short>@koastops.demo``)."""
    for brand, short in zip(brands, shorts, strict=True):
        analyst = User.objects.get(email=f"analyst.{short}@koastops.demo")
        created, existing = seed_crm(brand=brand, analyst=analyst)
        tally.created["CRM conversions"] = tally.created.get("CRM conversions", 0) + created
        tally.existing["CRM conversions"] = tally.existing.get("CRM conversions", 0) + existing
