"""The one small interface every platform connector implements, and what it returns.

Pure Python (no Django), so a connector is tested over real HTTP against the local fake
server without a database. ``koastops.quality.platforms.connector_for`` builds the right
connector for a pixel (its provider, its decrypted token, the settings).

Times are aware datetimes in UTC; hours are on the hour. Percentages are 0-100.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol


class PlatformError(Exception):
    """A pull failed; ``str(error)`` is safe to show to ops leads (never the token)."""


class TokenError(PlatformError):
    """The token is invalid or expired (Meta code 190): the connection is broken until an
    ops lead sets a new token; retrying cannot help."""


class RateLimited(PlatformError):
    """The platform throttles us; ``retry_after`` seconds until access is regained."""

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class MalformedResponse(PlatformError):
    """The answer does not have the documented shape; nothing of it is written."""


class TransientError(PlatformError):
    """5xx, a transient Graph error or a network failure, still failing after retries."""


@dataclass(frozen=True)
class PixelInfo:
    external_id: str
    name: str
    last_fired_at: dt.datetime | None
    is_unavailable: bool = False
    data_use_setting: str = ""
    automatic_matching_fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class HourCount:
    """One event in one UTC hour: the total the platform reports and its browser /
    server split (``aggregation=event`` and ``aggregation=event_source``)."""

    event: str
    hour: dt.datetime
    total: int
    browser: int
    server: int


@dataclass(frozen=True)
class MatchKey:
    identifier: str  # Meta's long names: email, ip_address, user_agent, external_id …
    coverage: Decimal | None


@dataclass(frozen=True)
class Diagnostic:
    name: str
    description: str
    solution: str
    percentage: Decimal | None
    affected_event_count: int | None
    total_event_count: int | None


@dataclass(frozen=True)
class DedupeKey:
    dedupe_key: str  # event_id, external_id, fbp
    browser_percentage: Decimal | None
    server_percentage: Decimal | None
    overall_browser_coverage: Decimal | None


@dataclass(frozen=True)
class EventQualityData:
    """``GET /dataset_quality`` for one web event."""

    event: str
    emq: Decimal | None  # composite score 0-10
    event_coverage: Decimal | None
    event_coverage_goal: Decimal | None
    dedup_coverage: Decimal | None  # overall browser coverage from the best dedupe key
    freshness: str  # upload_frequency: real_time, hourly, daily …
    acr: Decimal | None
    match_keys: tuple[MatchKey, ...] = field(default=())
    diagnostics: tuple[Diagnostic, ...] = field(default=())
    dedupe_keys: tuple[DedupeKey, ...] = field(default=())


class Connector(Protocol):
    """What koastops asks a platform about one pixel."""

    #: "demo" for the demo provider: every figure it produced is labelled "demo data".
    provider: str

    def pixel_info(self) -> PixelInfo: ...

    def event_counts(self, start: dt.datetime, end: dt.datetime) -> Iterator[HourCount]:
        """Every (event, hour) bucket with ``start <= hour < end``."""
        ...

    def quality(self) -> list[EventQualityData]: ...
