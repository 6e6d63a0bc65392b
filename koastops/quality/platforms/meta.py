"""The Meta Graph API connector (../shared/platform-apis.md §1).

- ``pixel_info``: ``GET /{v}/{pixel_id}?fields=…``.
- ``event_counts``: ``GET /{v}/{pixel_id}/stats`` with ``aggregation=event`` (hourly buckets,
  counts nested one level down), then per event name ``aggregation=event_source&event=<name>``
  for the BROWSER / SERVER split (Meta does not cross-tab the two). Cursor paging as the SDK
  does it: keep going while both ``paging.cursors.after`` and ``paging.next`` exist, sending
  ``after=<cursor>`` with the same parameters to *our* base URL (the ``next`` URL is never
  followed, so a proxy or a hostile answer cannot redirect the token elsewhere).
- ``quality``: ``GET /{v}/dataset_quality?dataset_id=<id>&fields=web{…}``.

The token travels only in the ``Authorization: Bearer`` header; every message this module
raises or logs is passed through ``_redact`` so the token cannot leak even if Meta echoes it.

Retries: 5xx, transport errors and timeouts, Graph transient errors (``is_transient`` or codes
1 and 2) and rate-limit codes (4, 17, 32, 613, 80000-80014, HTTP 429) are retried ``retries``
times with exponential back-off and jitter. A rate-limit answer's
``X-Business-Use-Case-Usage`` ``estimated_time_to_regain_access`` (minutes) is honoured: it is
slept if it is at most ``max_wait`` seconds, otherwise ``RateLimited(retry_after=…)`` is raised
at once so the pull is rescheduled rather than holding a worker; the waits of one call add up
against the same cap, and rate limits still answered after the retries are ``RateLimited``
too (``retry_after`` = the last wait), not ``TransientError``. Code 190 (and HTTP 401) is a
``TokenError`` at once. A body without the documented shape is ``MalformedResponse`` naming
what was wrong. Nothing is yielded before the whole range has been fetched and parsed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

import httpx

from koastops.quality.platforms.base import (
    DedupeKey,
    Diagnostic,
    EventQualityData,
    HourCount,
    MalformedResponse,
    MatchKey,
    PixelInfo,
    PlatformError,
    RateLimited,
    TokenError,
    TransientError,
)

logger = logging.getLogger(__name__)

PIXEL_FIELDS = "id,name,last_fired_time,is_unavailable,data_use_setting,automatic_matching_fields"
QUALITY_FIELDS = (
    "web{event_name,"
    "event_match_quality{composite_score,match_key_feedback{identifier,coverage{percentage}},"
    "diagnostics{name,description,solution,percentage,affected_event_count,total_event_count}},"
    "event_coverage{percentage,goal_percentage},"
    "dedupe_key_feedback{dedupe_key,browser_events_with_dedupe_key{percentage},"
    "server_events_with_dedupe_key{percentage},overall_browser_coverage_from_dedupe_key{percentage}},"
    "data_freshness{upload_frequency},acr{percentage}}"
)

TRANSIENT_CODES = frozenset({1, 2})
RATE_LIMIT_CODES = frozenset({4, 17, 32, 613, *range(80000, 80015)})
TOKEN_CODES = frozenset({190})
PERMISSION_CODES = frozenset({10, *range(200, 300)})
# Subcodes of 190 an ops lead can act on (Graph API error-handling guide).
TOKEN_SUBCODES = {
    458: "the app is no longer installed for this user",
    459: "the user is checkpointed",
    460: "the password changed",
    463: "the token has expired",
    464: "the user is not confirmed",
    467: "the token is invalid",
    492: "the session is invalid",
}
MAX_PAGES = 10_000  # one range of one pixel; more means the cursor is looping
REDACTED = "[redacted]"


_transport_lock = threading.Lock()
_transport: tuple[int, httpx.HTTPTransport] | None = None


def shared_transport() -> httpx.HTTPTransport:
    """One connection pool per process for every Meta connector: building an
    ``httpx.Client`` with its own transport loads the CA bundle (~25 ms), which would
    dominate a pull of a few pages, and a shared pool keeps connections alive between
    pixels. Rebuilt after a fork (Celery's prefork pool) so no socket is shared."""
    global _transport
    with _transport_lock:
        if _transport is None or _transport[0] != os.getpid():
            _transport = (os.getpid(), httpx.HTTPTransport(retries=0))
        return _transport[1]


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class MetaConnector:
    """``platforms.base.Connector`` for one Meta pixel (dataset)."""

    provider = "meta"

    def __init__(
        self,
        pixel_id: str,
        token: str,
        *,
        base_url: str,
        version: str,
        timeout: float,
        retries: int,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        backoff: float = 1.0,
        max_backoff: float = 30.0,
        max_wait: float = 60.0,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        if not pixel_id or not pixel_id.isdigit():
            raise PlatformError(f"A Meta pixel id is digits only, not {pixel_id!r}.")
        self.pixel_id = pixel_id
        self._token = token
        self.base_url = base_url.rstrip("/")
        self.version = version.strip("/")
        self.timeout = timeout
        self.retries = max(0, retries)
        self._transport = transport
        self._sleep = sleep
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.max_wait = max_wait
        self._jitter = jitter
        # Seconds to wait before the next request, from a usage header on a good answer.
        self._wait_before_next = 0.0
        # Seconds slept on rate limits and usage headers in the current call (capped by
        # ``max_wait``).
        self._waited = 0.0

    def __repr__(self) -> str:  # never the token
        return f"MetaConnector(pixel_id={self.pixel_id!r}, base_url={self.base_url!r})"

    # --- the interface ------------------------------------------------------------------
    def pixel_info(self) -> PixelInfo:
        with self._client() as client:
            body, _ = self._get(client, self.pixel_id, {"fields": PIXEL_FIELDS})
        what = "the pixel node"
        if not isinstance(body, dict):
            raise MalformedResponse(f"Meta's answer for {what} is not a JSON object.")
        external_id = body.get("id")
        if _is_int(external_id):
            external_id = str(external_id)
        if not isinstance(external_id, str) or not external_id:
            raise MalformedResponse(f"Meta's answer for {what} has no id.")
        name = body.get("name", "")
        if not isinstance(name, str):
            raise MalformedResponse(f"Meta's answer for {what}: name is not text.")
        fired = body.get("last_fired_time")
        last_fired_at = (
            None if fired in (None, "") else _parse_time(fired, f"{what}: last_fired_time")
        )
        fields = body.get("automatic_matching_fields") or []
        if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
            raise MalformedResponse(
                f"Meta's answer for {what}: automatic_matching_fields is not a list of names."
            )
        setting = body.get("data_use_setting") or ""
        return PixelInfo(
            external_id=external_id,
            name=name,
            last_fired_at=last_fired_at,
            is_unavailable=body.get("is_unavailable") is True,
            data_use_setting=setting if isinstance(setting, str) else "",
            automatic_matching_fields=tuple(fields),
        )

    def event_counts(self, start: dt.datetime, end: dt.datetime) -> Iterator[HourCount]:
        """Every (event, hour) with ``start <= hour < end``, sorted by event then hour. The
        whole range is fetched and parsed before the first item is yielded."""
        if start.tzinfo is None or end.tzinfo is None:
            raise ValueError("event_counts takes aware datetimes (UTC).")
        start = start.astimezone(dt.UTC)
        end = end.astimezone(dt.UTC)
        if end <= start:
            return iter(())
        window = {"start_time": str(int(start.timestamp())), "end_time": str(int(end.timestamp()))}
        path = f"{self.pixel_id}/stats"
        with self._client() as client:
            totals = self._buckets(client, path, {"aggregation": "event", **window}, "event")
            events = sorted({event for event, _ in totals})
            split: dict[tuple[str, dt.datetime], dict[str, int]] = {}
            for event in events:
                params = {"aggregation": "event_source", "event": event, **window}
                for (source, hour), count in self._buckets(
                    client, path, params, f"event_source of {event}"
                ).items():
                    split.setdefault((event, hour), {})[source.upper()] = count
        rows = [
            HourCount(
                event=event,
                hour=hour,
                total=total,
                browser=split.get((event, hour), {}).get("BROWSER", 0),
                server=split.get((event, hour), {}).get("SERVER", 0),
            )
            for (event, hour), total in sorted(totals.items())
            if start <= hour < end
        ]
        return iter(rows)

    def quality(self) -> list[EventQualityData]:
        with self._client() as client:
            body, _ = self._get(
                client, "dataset_quality", {"dataset_id": self.pixel_id, "fields": QUALITY_FIELDS}
            )
        if not isinstance(body, dict) or "web" not in body:
            raise MalformedResponse("Meta's dataset_quality answer has no web list.")
        web = body["web"]
        if not isinstance(web, list):
            raise MalformedResponse("Meta's dataset_quality answer: web is not a list.")
        return [_event_quality(entry, index) for index, entry in enumerate(web)]

    # --- paging -------------------------------------------------------------------------
    def _buckets(
        self, client: httpx.Client, path: str, params: dict[str, str], what: str
    ) -> dict[tuple[str, dt.datetime], int]:
        """``{(value, hour): count}`` over every page of one ``/stats`` query."""
        counts: dict[tuple[str, dt.datetime], int] = {}
        after: str | None = None
        seen: set[str] = set()
        for page in range(MAX_PAGES):
            query = dict(params) if after is None else {**params, "after": after}
            body, _ = self._get(client, path, query)
            label = f"stats ({what}), page {page + 1}"
            if not isinstance(body, dict) or not isinstance(body.get("data"), list):
                raise MalformedResponse(f"Meta's {label} has no data list.")
            for n, bucket in enumerate(body["data"]):
                _read_bucket(bucket, counts, label, n)
            after = _next_cursor(body, label)
            if after is None:
                return counts
            if after in seen:
                raise MalformedResponse(f"Meta's {label} repeats a paging cursor.")
            seen.add(after)
        raise MalformedResponse(f"Meta's stats ({what}) did not end after {MAX_PAGES} pages.")

    # --- HTTP ---------------------------------------------------------------------------
    @contextlib.contextmanager
    def _client(self) -> Iterator[httpx.Client]:
        # Not closed on exit: closing a client closes its transport, which is the shared
        # pool (or the caller's). A client holds nothing else.
        self._waited = 0.0
        yield httpx.Client(
            headers={"Authorization": f"Bearer {self._token}", "Accept": "application/json"},
            timeout=httpx.Timeout(self.timeout),
            transport=self._transport or shared_transport(),
            follow_redirects=False,
        )

    def _redact(self, text: str) -> str:
        return text.replace(self._token, REDACTED) if self._token else text

    def _delay(self, attempt: int) -> float:
        """Exponential back-off with jitter: between half and all of ``backoff * 2**attempt``."""
        ceiling = min(self.max_backoff, self.backoff * (2**attempt))
        return ceiling / 2 + self._jitter() * ceiling / 2

    def _get(
        self, client: httpx.Client, path: str, params: Mapping[str, str]
    ) -> tuple[Any, httpx.Headers]:
        if self._wait_before_next > 0:
            wait = self._wait_before_next
            if self._waited + wait > self.max_wait:
                # Past the cap the rest of the call is rescheduled, not slept through.
                raise RateLimited(
                    f"Meta's usage header asks koastops to wait {wait:g} s before the next "
                    "request.",
                    retry_after=wait,
                )
            self._wait_before_next = 0.0
            self._waited += wait
            self._sleep(wait)
        failure = "no answer"
        rate_limited_for: float | None = None
        # One absolute URL string, neither ``params=`` nor a client ``base_url``: httpx
        # parses the URL again for each merge (about 0.3 ms a request, as much as parsing
        # a page of 50 buckets).
        url = f"{self.base_url}/{self.version}/{path}"
        if params:
            url = f"{url}?{urlencode(params)}"
        for attempt in range(self.retries + 1):
            try:
                response = client.get(url)
            except httpx.TimeoutException:
                failure = f"no answer within {self.timeout:g} s"
                wait = self._delay(attempt)
            except httpx.TransportError as exc:
                failure = f"network error ({type(exc).__name__})"
                wait = self._delay(attempt)
            else:
                regain = _regain_seconds(response.headers)
                if response.is_success:
                    body = _json(response, path)
                    if isinstance(body, dict) and "error" in body:
                        self._raise_for_error(response, body, regain)  # not retryable
                    # A throttled good answer: the next request waits (see above).
                    self._wait_before_next = regain
                    return body, response.headers
                error = _error_of(response)
                code = _code(error)
                if response.status_code == 429 or code in RATE_LIMIT_CODES:
                    failure = f"rate limited by Meta ({f'code {code}' if code else 'HTTP 429'})"
                    if regain > self.max_wait:
                        raise RateLimited(
                            f"Meta rate-limits this app (code {code}); access returns in "
                            f"about {regain / 60:.0f} min.",
                            retry_after=regain,
                        )
                    wait = regain if regain > 0 else self._delay(attempt)
                    rate_limited_for = wait
                    if self._waited + wait > self.max_wait:
                        # Waits add up within one call: past the cap the pull is
                        # rescheduled instead of holding a worker for minutes.
                        raise RateLimited(
                            f"Meta keeps rate-limiting this app (code {code}); koastops "
                            f"already waited {self._waited:g} s.",
                            retry_after=wait,
                        )
                elif (
                    response.status_code >= 500
                    or error.get("is_transient") is True
                    or code in TRANSIENT_CODES
                ):
                    rate_limited_for = None
                    failure = f"Meta answered HTTP {response.status_code}" + (
                        f" (code {code})" if code is not None else ""
                    )
                    wait = self._delay(attempt)
                else:
                    self._raise_for_error(response, error, regain)
            if attempt == self.retries:
                break
            self._waited += wait
            logger.info(
                "meta %s: %s; retry %d of %d in %.1f s",
                path,
                self._redact(failure),
                attempt + 1,
                self.retries,
                wait,
            )
            self._sleep(wait)
        message = self._redact(f"{failure}, still after {self.retries + 1} attempts.")
        if rate_limited_for is not None:
            raise RateLimited(f"Meta keeps rate-limiting: {message}", retry_after=rate_limited_for)
        raise TransientError(f"Meta could not be reached: {message}")

    def _raise_for_error(self, response: httpx.Response, body: Any, regain: float) -> None:
        """A non-retryable answer: 190 → TokenError, others → PlatformError."""
        error = body.get("error", body) if isinstance(body, dict) else {}
        if not isinstance(error, dict):
            error = {}
        code = _code(error)
        subcode = error.get("error_subcode")
        meta_message = error.get("message")
        said = (
            f" Meta said: {self._redact(meta_message)[:300]}"
            if isinstance(meta_message, str) and meta_message
            else ""
        )
        if code in TOKEN_CODES or response.status_code == 401:
            reason = (
                TOKEN_SUBCODES.get(subcode, "it is invalid or expired")
                if isinstance(subcode, int)
                else "it is invalid or expired"
            )
            raise TokenError(
                f"Meta refused the pixel's access token ({reason}; code {code or 401}). "
                "An ops lead needs to set a new system-user token (ads_read and ads_management) "
                "on the pixel; pulls stay stopped until then."
            )
        if code in PERMISSION_CODES:
            raise PlatformError(
                f"The token may not read this pixel (code {code}): grant the system user the "
                f"pixel in Business Settings (Manage Pixel).{said}"
            )
        if code == 2044055:
            raise PlatformError(f"Meta knows no dataset {self.pixel_id} (code 2044055).{said}")
        if code is None:
            raise PlatformError(f"Meta answered HTTP {response.status_code} without an error code.")
        raise PlatformError(
            f"Meta refused the request (HTTP {response.status_code}, code {code}).{said}"
        )


# --- parsing ------------------------------------------------------------------------------
def _json(response: httpx.Response, path: str) -> Any:
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        kind = response.headers.get("content-type", "no content type").split(";")[0]
        raise MalformedResponse(
            f"Meta's answer to {path.split('/')[-1] or path} is not JSON ({kind})."
        ) from None


def _code(error: dict[str, Any]) -> int | None:
    """The Graph error code, when it is a number (anything else is no code)."""
    code = error.get("code")
    return code if isinstance(code, int) and not isinstance(code, bool) else None


def _error_of(response: httpx.Response) -> dict[str, Any]:
    """The ``error`` object of an error answer, or {} when the body is not Graph JSON."""
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return {}
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}


def _regain_seconds(headers: httpx.Headers) -> float:
    """The largest ``estimated_time_to_regain_access`` (minutes) of the BUC usage header, in
    seconds; 0 when absent or unreadable (absence is not zero usage, but it is no wait)."""
    raw = headers.get("x-business-use-case-usage")
    if not raw:
        return 0.0
    try:
        usage = json.loads(raw)
    except json.JSONDecodeError:
        return 0.0
    minutes = 0.0
    if isinstance(usage, dict):
        for entries in usage.values():
            for entry in entries if isinstance(entries, list) else []:
                value = (
                    entry.get("estimated_time_to_regain_access")
                    if isinstance(entry, dict)
                    else None
                )
                if isinstance(value, int | float) and not isinstance(value, bool):
                    minutes = max(minutes, float(value))
    return minutes * 60


def _next_cursor(body: dict[str, Any], label: str) -> str | None:
    paging = body.get("paging")
    if paging is None:
        return None
    if not isinstance(paging, dict):
        raise MalformedResponse(f"Meta's {label}: paging is not an object.")
    cursors = paging.get("cursors")
    after = cursors.get("after") if isinstance(cursors, dict) else None
    if isinstance(after, str) and after and paging.get("next"):
        return after
    return None


def _parse_time(value: object, what: str) -> dt.datetime:
    """Graph datetimes: ``2026-07-01T10:00:00+0000`` (any ISO offset) or a unix timestamp."""
    try:
        if isinstance(value, int) and not isinstance(value, bool):
            return dt.datetime.fromtimestamp(value, tz=dt.UTC)
        if isinstance(value, str) and value.isdigit():
            return dt.datetime.fromtimestamp(int(value), tz=dt.UTC)
        if isinstance(value, str):
            parsed = dt.datetime.fromisoformat(value)
            if parsed.tzinfo is not None:
                return parsed.astimezone(dt.UTC)
    except (ValueError, OverflowError, OSError):
        pass
    raise MalformedResponse(f"Meta's {what} is not a time with an offset: {str(value)[:40]!r}.")


def _count(value: object, what: str) -> int:
    count: int
    if isinstance(value, int) and not isinstance(value, bool):
        count = value
    elif isinstance(value, str) and value.strip().isdigit():
        count = int(value.strip())
    elif isinstance(value, float) and value.is_integer():
        count = int(value)
    else:
        raise MalformedResponse(f"Meta's {what}: count {str(value)[:40]!r} is not a whole number.")
    if count < 0:
        raise MalformedResponse(f"Meta's {what}: count {count} is negative.")
    return count


# start_time text → its hour, parsed once per process: the same hours come back in every
# query of every pixel of a pull (bounded, so a hostile server cannot grow it for ever).
_HOURS: dict[str, dt.datetime] = {}


def _read_bucket(
    bucket: object, counts: dict[tuple[str, dt.datetime], int], label: str, n: int
) -> None:
    """Put one hourly bucket's ``(value, hour) → count`` into ``counts``. The common shape
    takes a fast path; anything else goes through the checks that name what is wrong."""
    if not isinstance(bucket, dict):
        raise MalformedResponse(f"Meta's {label}, bucket {n + 1} is not an object.")
    raw = bucket.get("start_time")
    hour = _HOURS.get(raw) if isinstance(raw, str) else None
    if hour is None:
        what = f"{label}, bucket {n + 1}"
        if "start_time" not in bucket:
            raise MalformedResponse(f"Meta's {what} has no start_time.")
        hour = _parse_time(raw, f"{what}: start_time")
        if hour.minute or hour.second or hour.microsecond:
            raise MalformedResponse(
                f"Meta's {what}: start_time {hour.isoformat()} is not on the hour."
            )
        if isinstance(raw, str) and len(_HOURS) < 100_000:
            _HOURS[raw] = hour
    entries = bucket.get("data")
    if not isinstance(entries, list):
        raise MalformedResponse(f"Meta's {label}, bucket {n + 1} has no data list.")
    for entry in entries:
        if type(entry) is dict:
            value = entry.get("value")
            count = entry.get("count")
            if type(value) is str and value and type(count) is int and count >= 0:
                # The same event and hour twice would be Meta's bug: the last answer
                # wins rather than a sum, so a repeated bucket is never counted twice.
                counts[(value, hour)] = count
                continue
        what = f"{label}, bucket {n + 1}"
        if not isinstance(entry, dict):
            raise MalformedResponse(f"Meta's {what}: an entry is not an object.")
        value = entry.get("value")
        if not isinstance(value, str) or not value:
            raise MalformedResponse(f"Meta's {what}: an entry has no value (event name).")
        counts[(value, hour)] = _count(entry.get("count"), f"{what}, {value}")


def _decimal(value: object, what: str) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise MalformedResponse(f"Meta's {what} is not a number.")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise MalformedResponse(f"Meta's {what} is not a number: {str(value)[:40]!r}.") from None
    if not number.is_finite():
        raise MalformedResponse(f"Meta's {what} is not a finite number.")
    return number


def _object(value: object, what: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise MalformedResponse(f"Meta's {what} is not an object.")
    return value


def _list(value: object, what: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise MalformedResponse(f"Meta's {what} is not a list.")
    return value


def _objects(value: object, what: str) -> list[dict[str, Any]]:
    items = _list(value, what)
    if not all(isinstance(item, dict) for item in items):
        raise MalformedResponse(f"Meta's {what} holds something that is not an object.")
    return items


def _percentage(value: object, what: str) -> Decimal | None:
    return _decimal(_object(value, what).get("percentage"), f"{what} percentage")


def _optional_int(value: object, what: str) -> int | None:
    return None if value is None else _count(value, what)


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def best_dedup_coverage(keys: tuple[DedupeKey, ...]) -> Decimal | None:
    """The ``overall_browser_coverage_from_dedupe_key`` of the best key: the highest one,
    ``event_id`` (Meta's recommended key) winning a tie."""
    measured = [k for k in keys if k.overall_browser_coverage is not None]
    if not measured:
        return None
    best = max(measured, key=lambda k: (k.overall_browser_coverage, k.dedupe_key == "event_id"))
    return best.overall_browser_coverage


def _event_quality(entry: object, index: int) -> EventQualityData:
    where = f"dataset_quality web[{index}]"
    if not isinstance(entry, dict):
        raise MalformedResponse(f"Meta's {where} is not an object.")
    event = entry.get("event_name")
    if not isinstance(event, str) or not event:
        raise MalformedResponse(f"Meta's {where} has no event_name.")
    where = f"dataset_quality {event}"
    emq = _object(entry.get("event_match_quality"), f"{where} event_match_quality")
    match_keys = tuple(
        MatchKey(
            identifier=_text(key.get("identifier")),
            coverage=_percentage(key.get("coverage"), f"{where} match key coverage"),
        )
        for key in _objects(emq.get("match_key_feedback"), f"{where} match_key_feedback")
    )
    diagnostics = tuple(
        Diagnostic(
            name=_text(d.get("name")),
            description=_text(d.get("description")),
            solution=_text(d.get("solution")),
            percentage=_decimal(d.get("percentage"), f"{where} diagnostic percentage"),
            affected_event_count=_optional_int(
                d.get("affected_event_count"), f"{where} diagnostic"
            ),
            total_event_count=_optional_int(d.get("total_event_count"), f"{where} diagnostic"),
        )
        for d in _objects(emq.get("diagnostics"), f"{where} diagnostics")
    )
    dedupe_keys = tuple(
        DedupeKey(
            dedupe_key=_text(k.get("dedupe_key")),
            browser_percentage=_percentage(
                k.get("browser_events_with_dedupe_key"), f"{where} browser_events_with_dedupe_key"
            ),
            server_percentage=_percentage(
                k.get("server_events_with_dedupe_key"), f"{where} server_events_with_dedupe_key"
            ),
            overall_browser_coverage=_percentage(
                k.get("overall_browser_coverage_from_dedupe_key"),
                f"{where} overall_browser_coverage_from_dedupe_key",
            ),
        )
        for k in _objects(entry.get("dedupe_key_feedback"), f"{where} dedupe_key_feedback")
    )
    coverage = _object(entry.get("event_coverage"), f"{where} event_coverage")
    score = _decimal(emq.get("composite_score"), f"{where} composite_score")
    if score is not None and not Decimal(0) <= score <= Decimal(10):
        raise MalformedResponse(f"Meta's {where} composite_score {score} is not between 0 and 10.")
    return EventQualityData(
        event=event,
        emq=score,
        event_coverage=_decimal(coverage.get("percentage"), f"{where} event_coverage percentage"),
        event_coverage_goal=_decimal(
            coverage.get("goal_percentage"), f"{where} event_coverage goal_percentage"
        ),
        dedup_coverage=best_dedup_coverage(dedupe_keys),
        freshness=_text(
            _object(entry.get("data_freshness"), f"{where} data_freshness").get("upload_frequency")
        ),
        acr=_percentage(entry.get("acr"), f"{where} acr"),
        match_keys=match_keys,
        diagnostics=diagnostics,
        dedupe_keys=dedupe_keys,
    )
