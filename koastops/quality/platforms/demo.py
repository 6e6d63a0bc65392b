"""The demo provider: plausible, deterministic stats for the demo pixels (labelled "demo
data" wherever they show). Pure Python, no network.

Everything is derived from the pixel's external id by hashing (``_unit``), so the same
pixel always gets the same figures for the same hour, whichever process asks:

- hourly counts of six standard events with a daily cycle (quiet at night UTC, busiest in
  the evening) and a weekly one (weekends a little lower), ±10 % noise per hour; a
  per-pixel volume and server share (35-60 %); about 60 % of the server events also
  arrive from the browser and are deduplicated (``browser + server > total``);
- per-event quality: EMQ, event coverage, dedupe keys, match keys, diagnostics with
  their suggested fixes; pixel info (last fired a few minutes ago).

Each pixel gets one *profile* from the hash of its external id (``profile_for``), so the
demo shows each built-in problem once:

- ``healthy``;
- ``volume_dip``: from 16:00 to 20:00 UTC of the day before the pull, volume drops to
  ~20 % (anchored to the day, so hourly re-pulls neither move nor widen it);
- ``dedup_problem``: the server events carry no ``event_id``, so dedup coverage is ~15 %
  and the duplicates are counted twice;
- ``low_emq``: ``Lead`` has an EMQ of ~3.8 (its server events lack email and phone).

With the demo data's Meta pixels: 410000000000101 (Nordwind web) ``volume_dip``,
420000000000101 (Lumen shop) ``dedup_problem``, 430000000000101 (Verde web) ``low_emq``,
430000000000102 (Verde app events) ``healthy``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from collections.abc import Iterator
from decimal import Decimal

from koastops.quality.platforms.base import (
    DedupeKey,
    Diagnostic,
    EventQualityData,
    HourCount,
    MatchKey,
    PixelInfo,
)

#: Standard events and their share of PageView volume.
EVENTS: tuple[tuple[str, float], ...] = (
    ("PageView", 1.0),
    ("ViewContent", 0.42),
    ("AddToCart", 0.085),
    ("InitiateCheckout", 0.04),
    ("Lead", 0.018),
    ("Purchase", 0.014),
)
PROFILES = ("healthy", "volume_dip", "dedup_problem", "low_emq")
_PROFILE_SALT = "koastops-demo-53:"  # chosen so the four demo Meta pixels get one each
DIP_HOURS = (16, 20)  # UTC hours of the day before the pull: 16:00 (incl.) to 20:00 (excl.)
DIP_FACTOR = 0.2
DEDUP_OVERLAP = 0.6  # share of server events also sent from the browser

# 24 hourly weights (UTC): night trough, evening peak.
_DAILY = tuple(
    0.35 + 0.65 * (0.5 - 0.5 * math.cos((hour - 4) / 24 * 2 * math.pi)) for hour in range(24)
)
_WEEKLY = (1.0, 1.02, 1.0, 0.98, 0.95, 0.84, 0.82)  # Monday first


def _unit(*parts: object) -> float:
    """A number in [0, 1) fixed by ``parts``."""
    digest = hashlib.sha256(":".join(str(part) for part in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def profile_for(external_id: str) -> str:
    digest = hashlib.sha256((_PROFILE_SALT + external_id).encode()).hexdigest()
    return PROFILES[int(digest, 16) % len(PROFILES)]


def _pct(value: float) -> Decimal:
    return Decimal(str(round(value, 1)))


def _floor_hour(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)


class DemoConnector:
    provider = "demo"

    def __init__(self, external_id: str, *, now: dt.datetime | None = None) -> None:
        self.external_id = external_id
        self.now = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
        self.profile = profile_for(external_id)
        # PageView per hour at the daily peak: 300-1,500.
        self.peak = 300 + int(1200 * _unit(external_id, "volume"))
        self.server_share = 0.35 + 0.25 * _unit(external_id, "server")

    # --- the connector interface ---------------------------------------------------------
    def pixel_info(self) -> PixelInfo:
        minutes = 1 + int(14 * _unit(self.external_id, "fired", self.now.date()))
        return PixelInfo(
            external_id=self.external_id,
            name=f"Demo pixel {self.external_id}",
            last_fired_at=self.now.replace(microsecond=0) - dt.timedelta(minutes=minutes),
            data_use_setting="ADVERTISING_AND_ANALYTICS",
            automatic_matching_fields=("em", "ph", "fn", "ln", "external_id"),
        )

    def event_counts(self, start: dt.datetime, end: dt.datetime) -> Iterator[HourCount]:
        hour = _floor_hour(start)
        if hour < start:
            hour += dt.timedelta(hours=1)
        last_hour = _floor_hour(self.now)  # the current hour is still filling: not reported
        while hour < end and hour < last_hour:
            yield from self._hour(hour)
            hour += dt.timedelta(hours=1)

    def quality(self) -> list[EventQualityData]:
        return [self._event_quality(event) for event, _share in EVENTS]

    # --- the figures ---------------------------------------------------------------------
    def _in_dip(self, hour: dt.datetime) -> bool:
        """The day before ``now`` (UTC), 16:00-20:00. Anchored to the day, not the hour, so
        the hourly pulls (which re-read only the last few hours) never move or widen it:
        the data has one dip, where the last 30-day pull (the demo seeding) put it."""
        if self.profile != "volume_dip":
            return False
        day = _floor_hour(self.now).replace(hour=0) - dt.timedelta(days=1)
        first, last = DIP_HOURS
        return day + dt.timedelta(hours=first) <= hour < day + dt.timedelta(hours=last)

    def _hour(self, hour: dt.datetime) -> Iterator[HourCount]:
        base = self.peak * _DAILY[hour.hour] * _WEEKLY[hour.weekday()]
        if self._in_dip(hour):
            base *= DIP_FACTOR
        for event, share in EVENTS:
            noise = 0.9 + 0.2 * _unit(self.external_id, event, hour.isoformat())
            unique = round(base * share * noise)
            server = round(unique * self.server_share)
            duplicated = round(server * DEDUP_OVERLAP)
            browser = unique - server + duplicated
            # Without event_id on the server events, the duplicates are not removed.
            total = unique + duplicated if self.profile == "dedup_problem" else unique
            yield HourCount(event=event, hour=hour, total=total, browser=browser, server=server)

    def _event_quality(self, event: str) -> EventQualityData:
        seed = self.external_id
        # A little day-to-day movement, so the history charts are not flat lines.
        wobble = _unit(seed, event, "day", self.now.date().isoformat()) - 0.5
        emq = 6.8 + 2.0 * _unit(seed, event, "emq") + 0.4 * wobble
        low_emq = self.profile == "low_emq" and event == "Lead"
        if low_emq:
            emq = 3.8
        dedup_problem = self.profile == "dedup_problem"
        server_with_id = 0.0 if dedup_problem else 96 + 4 * _unit(seed, event, "sid")
        dedup = 15.0 if dedup_problem else 82 + 13 * _unit(seed, event, "dedup") + 4 * wobble
        coverage = (
            20 + 10 * _unit(seed, event, "cov")
            if dedup_problem
            else 72 + 20 * _unit(seed, event, "cov")
        )
        email = 25.0 if low_emq else 70 + 28 * _unit(seed, event, "em")
        phone = 10.0 if low_emq else 40 + 40 * _unit(seed, event, "ph")
        match_keys = (
            MatchKey("email", _pct(email)),
            MatchKey("phone", _pct(phone)),
            MatchKey("ip_address", _pct(99 + _unit(seed, event, "ip"))),
            MatchKey("user_agent", _pct(99 + _unit(seed, event, "ua"))),
            MatchKey("external_id", _pct(30 + 50 * _unit(seed, event, "xid"))),
            MatchKey("fbp", _pct(85 + 14 * _unit(seed, event, "fbp"))),
            MatchKey("fbc", _pct(15 + 30 * _unit(seed, event, "fbc"))),
        )
        diagnostics: list[Diagnostic] = []
        volume = int(self.peak * 24 * 0.75 * 7 * dict(EVENTS)[event])
        if low_emq:
            diagnostics.append(
                Diagnostic(
                    name="Send more customer information parameters",
                    description=(
                        f"Most {event} events are sent without email or phone number, so "
                        "few of them can be matched to people on Meta."
                    ),
                    solution=(
                        "Send hashed email (em) and phone number (ph) with every server "
                        "event; add them to the form's dataLayer push for the browser event."
                    ),
                    percentage=Decimal("74.0"),
                    affected_event_count=int(volume * 0.74),
                    total_event_count=volume,
                )
            )
        if dedup_problem:
            diagnostics.append(
                Diagnostic(
                    name="Server events are missing a deduplication key",
                    description=(
                        f"{event} server events arrive without event_id, so Meta cannot "
                        "match them to the same browser events and counts them twice."
                    ),
                    solution=(
                        "Generate one event_id per action, send it as eventID with the "
                        "pixel event and as event_id with the Conversions API event."
                    ),
                    percentage=Decimal("100.0"),
                    affected_event_count=int(volume * self.server_share),
                    total_event_count=int(volume * self.server_share),
                )
            )
        if not diagnostics and _unit(seed, event, "ip-diag") < 0.3:
            diagnostics.append(
                Diagnostic(
                    name="Server sending mismatched IP addresses",
                    description="Some server events carry your server's IP, not the visitor's.",
                    solution="Forward the visitor's IP address (client_ip_address) from the request.",
                    percentage=_pct(3 + 9 * _unit(seed, event, "ip-pct")),
                    affected_event_count=int(volume * 0.05),
                    total_event_count=volume,
                )
            )
        dedupe_keys = (
            DedupeKey(
                "event_id",
                browser_percentage=_pct(97 + 3 * _unit(seed, event, "bid")),
                server_percentage=_pct(server_with_id),
                overall_browser_coverage=_pct(dedup),
            ),
            DedupeKey(
                "fbp",
                browser_percentage=_pct(88 + 10 * _unit(seed, event, "bfbp")),
                server_percentage=_pct(40 + 30 * _unit(seed, event, "sfbp")),
                overall_browser_coverage=_pct(2 + 5 * _unit(seed, event, "ofbp")),
            ),
        )
        return EventQualityData(
            event=event,
            emq=_pct(emq),
            event_coverage=_pct(coverage),
            event_coverage_goal=Decimal("75"),
            dedup_coverage=_pct(dedup),
            freshness="real_time",
            acr=_pct(5 + 30 * _unit(seed, event, "acr")),
            match_keys=match_keys,
            diagnostics=tuple(diagnostics),
            dedupe_keys=dedupe_keys,
        )
