"""A local fake of the Meta Graph API for the connector tests and the pull bench.

It answers in the documented shapes of ../shared/platform-apis.md (§1.3-1.8, checklist §7):

- ``GET /{v}/{pixel_id}`` — the pixel node (``fields`` honoured, ``id`` always);
- ``GET /{v}/{pixel_id}/stats`` — ``aggregation=event`` (hourly buckets, counts nested one
  level down) and ``aggregation=event_source`` (BROWSER / SERVER, optionally ``event=<name>``),
  ``start_time`` / ``end_time`` as unix seconds or ISO, cursor paging (``after`` cursor and a
  full ``next`` URL until the last page);
- ``GET /{v}/dataset_quality?dataset_id=…`` — the ``web`` list of §1.5;
- ``GET /{v}/act_{id}/adspixels`` — the pixels using that ad account.

``summary=true`` and ``appsecret_proof`` are ignored; the token is accepted from the
``Authorization: Bearer`` header or the ``access_token`` query (a wrong or missing one answers
code 190). Counts are generated deterministically per (pixel, event, hour) for any range, or
given per pixel. Failures are scripted per request sequence with ``fake.fail(...)``: each
scripted ``Failure`` answers the next request (whose path contains ``path``, when given).
Every request is recorded in ``fake.requests`` (method, path, query, headers).

    with FakeGraph() as fake:
        fake.add_pixel("111222333444", page_size=6)
        fake.fail(Failure.rate_limit(code=80004, wait_minutes=0.01), Failure.server_error())
        connector = MetaConnector("111222333444", fake.token, base_url=fake.base_url, ...)
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import threading
import time
import zlib
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

DEFAULT_EVENTS: dict[str, tuple[int, int]] = {
    # event: (browser, server) typical counts per hour
    "PageView": (120, 60),
    "Purchase": (8, 7),
    "Lead": (4, 3),
}
HOUR = dt.timedelta(hours=1)
# Failure kinds that spoil the normal answer rather than replace it.
SPOILERS = frozenset({"bad_count", "bad_time", "off_hour", "no_data"})


def graph_time(moment: dt.datetime) -> str:
    """Graph style: ``2026-07-01T10:00:00+0000``."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"QVFI-offset-{offset}".encode()).decode()


def _offset(cursor: str) -> int | None:
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
        return int(text.removeprefix("QVFI-offset-"))
    except (ValueError, UnicodeDecodeError):
        return None


def _floor_hour(moment: dt.datetime) -> dt.datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


@dataclass
class FakePixel:
    pixel_id: str
    name: str = ""
    last_fired_time: str | None = "2026-07-01T09:58:12+0000"
    fields: dict[str, Any] = field(default_factory=dict)  # more node fields, or overrides
    events: dict[str, tuple[int, int]] = field(default_factory=lambda: dict(DEFAULT_EVENTS))
    # Given (browser, server) per (event, hour): replaces the generated counts entirely.
    counts: dict[tuple[str, dt.datetime], tuple[int, int]] | None = None
    dedup: float = 0.8  # the share of the smaller side Meta deduplicated out of the total
    page_size: int = 24  # buckets per page
    string_counts: bool = False  # counts as numeric strings ("1284") instead of numbers
    quality: list[dict[str, Any]] | None = None  # the dataset_quality ``web`` list
    ad_accounts: tuple[str, ...] = ()  # "act_…" ids using this pixel

    def split(self, event: str, hour: dt.datetime) -> tuple[int, int]:
        """(browser, server) of one event in one hour."""
        if self.counts is not None:
            return self.counts.get((event, hour), (0, 0))
        base = self.events.get(event)
        if base is None:
            return (0, 0)
        seed = zlib.crc32(f"{self.pixel_id}|{event}|{int(hour.timestamp())}".encode())
        # 0.5-1.5 times the typical count, and a daily rhythm (quiet at night UTC).
        factor = (0.5 + (seed % 1000) / 1000) * (0.4 if hour.hour < 6 else 1.0)
        return (round(base[0] * factor), round(base[1] * factor))

    def total(self, browser: int, server: int) -> int:
        return browser + server - round(min(browser, server) * self.dedup)

    def event_names(self, hours: list[dt.datetime]) -> list[str]:
        if self.counts is None:
            return list(self.events)
        wanted = set(hours)
        return sorted({event for event, hour in self.counts if hour in wanted})

    def count(self, value: int) -> int | str:
        return str(value) if self.string_counts else value

    def node(self) -> dict[str, Any]:
        return {
            "id": self.pixel_id,
            "name": self.name or f"Pixel {self.pixel_id}",
            "last_fired_time": self.last_fired_time,
            "is_unavailable": False,
            "data_use_setting": "ADVERTISING_AND_ANALYTICS",
            "first_party_cookie_status": "FIRST_PARTY_COOKIE_ENABLED",
            "enable_automatic_matching": True,
            "automatic_matching_fields": ["em", "ph", "external_id"],
            "code": "<!-- Meta Pixel Code -->",
            **self.fields,
        }

    def web(self) -> list[dict[str, Any]]:
        if self.quality is not None:
            return self.quality
        entries = []
        for n, event in enumerate(self.events):
            score = round(8.1 - 1.7 * n, 1)
            entries.append(
                {
                    "event_name": event,
                    "event_match_quality": {
                        "composite_score": max(score, 1.0),
                        "match_key_feedback": [
                            {"identifier": "email", "coverage": {"percentage": 92.5 - 10 * n}},
                            {"identifier": "ip_address", "coverage": {"percentage": 99.9}},
                        ],
                        "diagnostics": [
                            {
                                "name": "Server sending mismatched IP addresses",
                                "description": "Some server events carry the server's IP.",
                                "solution": "Send the visitor's client_ip_address.",
                                "percentage": 12.5,
                                "affected_event_count": 125,
                                "total_event_count": 1000,
                            }
                        ]
                        if n
                        else [],
                    },
                    "event_coverage": {"percentage": 81.0 - 20 * n, "goal_percentage": 75},
                    "dedupe_key_feedback": [
                        {
                            "dedupe_key": "event_id",
                            "browser_events_with_dedupe_key": {"percentage": 100},
                            "server_events_with_dedupe_key": {"percentage": 100 - 5 * n},
                            "overall_browser_coverage_from_dedupe_key": {
                                "percentage": 88.0 - 30 * n
                            },
                        }
                    ],
                    "data_freshness": {"upload_frequency": "real_time"},
                    "acr": {"percentage": 12.4},
                }
            )
        return entries


@dataclass(frozen=True)
class Failure:
    """One scripted answer instead of the normal one."""

    kind: str  # rate_limit, transient, server_error, token, error, malformed, no_data,
    #            bad_count, bad_time, off_hour, stall
    code: int | None = None
    status: int = 400
    wait_minutes: float = 0.0  # estimated_time_to_regain_access of a rate-limit answer
    stall: float = 0.0  # seconds before answering (``stall``: then the normal answer)
    path: str | None = None  # only a request whose path contains this
    message: str = ""  # of an ``error`` answer

    @classmethod
    def rate_limit(cls, code: int = 80004, *, wait_minutes: float = 0.0, path: str | None = None):
        return cls("rate_limit", code=code, wait_minutes=wait_minutes, path=path)

    @classmethod
    def transient(cls, code: int = 2, *, path: str | None = None):
        return cls("transient", code=code, status=500, path=path)

    @classmethod
    def server_error(cls, status: int = 500, *, path: str | None = None):
        return cls("server_error", status=status, path=path)

    @classmethod
    def token(cls, *, subcode: int = 463, path: str | None = None):
        return cls("token", code=subcode, path=path)

    @classmethod
    def error(
        cls,
        code: int,
        *,
        status: int = 400,
        message: str = "Invalid parameter",
        path: str | None = None,
    ):
        return cls("error", code=code, status=status, path=path, message=message)

    @classmethod
    def malformed(cls, kind: str = "malformed", *, path: str | None = None):
        """``malformed`` (not JSON), ``no_data``, ``bad_count``, ``bad_time`` or ``off_hour``."""
        return cls(kind, status=200, path=path)

    @classmethod
    def stalled(cls, seconds: float, *, path: str | None = None):
        return cls("stall", stall=seconds, path=path)


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    raw_url: str

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None


class GraphError(Exception):
    def __init__(self, status: int, code: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.body = {
            "error": {
                "message": message,
                "type": "OAuthException",
                "code": code,
                "fbtrace_id": "AbCfake123",
                **extra,
            }
        }


class FakeGraph:
    def __init__(
        self,
        *,
        token: str = "fake-graph-token-0123456789",  # noqa: S107 (a fake's, not a secret)
        version: str = "v25.0",
        record: bool = True,
    ) -> None:
        self.token = token
        self.version = version
        self.record = record
        self.pixels: dict[str, FakePixel] = {}
        self.requests: list[RecordedRequest] = []
        # Usage headers sent with every answer (None: not sent, as Meta does at low usage).
        self.app_usage: dict[str, Any] | None = None
        self.business_usage: dict[str, Any] | None = None
        self._script: deque[Failure] = deque()
        self._buckets: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- configuration ------------------------------------------------------------------
    def add_pixel(self, pixel_id: str, **options: Any) -> FakePixel:
        pixel = FakePixel(pixel_id=pixel_id, **options)
        self.pixels[pixel_id] = pixel
        return pixel

    def fail(self, *failures: Failure) -> None:
        with self._lock:
            self._script.extend(failures)

    def usage_header(self, *, call_count: int = 45, wait_minutes: float = 0) -> None:
        """Send ``X-Business-Use-Case-Usage`` (and ``X-App-Usage``) with every answer."""
        self.business_usage = {
            "1234567890": [
                {
                    "type": "ads_management",
                    "call_count": call_count,
                    "total_cputime": 12,
                    "total_time": 20,
                    "estimated_time_to_regain_access": wait_minutes,
                    "ads_api_access_tier": "standard_access",
                }
            ]
        }
        self.app_usage = {"call_count": call_count, "total_cputime": 20, "total_time": 25}

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeGraph is not running: use it as a context manager.")
        port = self._server.server_address[1]
        return f"http://127.0.0.1:{port}"

    def paths(self) -> list[str]:
        return [r.path for r in self.requests]

    # --- lifecycle ----------------------------------------------------------------------
    def __enter__(self) -> FakeGraph:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as a real client gets
            # Headers and body go out in two writes: without this, Nagle and the client's
            # delayed ACK add ~40 ms to every answer.
            disable_nagle_algorithm = True

            def do_GET(self) -> None:
                fake._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        server.block_on_close = False  # a stalled handler must not hold up the test's exit
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        self._server = None

    # --- answering ----------------------------------------------------------------------
    def _next_failure(self, path: str) -> Failure | None:
        with self._lock:
            for failure in self._script:
                if failure.path is None or failure.path in path:
                    self._script.remove(failure)
                    return failure
        return None

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        url = urlsplit(handler.path)
        query = parse_qs(url.query, keep_blank_values=True)
        headers = {k.lower(): v for k, v in handler.headers.items()}
        if self.record:
            with self._lock:
                self.requests.append(RecordedRequest("GET", url.path, query, headers, handler.path))
        failure = self._next_failure(url.path)
        status, body, extra = 200, b"", dict[str, str]()
        try:
            if failure is not None and failure.kind == "stall":
                time.sleep(failure.stall)
                failure = None
            if failure is not None and failure.kind not in SPOILERS:
                status, body, extra = self._failure(failure)
            else:
                answer = self._route(url.path, query, headers)
                if failure is not None:
                    answer = self._spoil(answer, failure.kind)
                body = json.dumps(answer, separators=(",", ":")).encode()
        except GraphError as error:
            status, body = error.status, json.dumps(error.body).encode()
        self._send(handler, status, body, extra)

    def _send(
        self, handler: BaseHTTPRequestHandler, status: int, body: bytes, extra: dict[str, str]
    ) -> None:
        try:
            handler.send_response(status)
            is_json = body[:1] in (b"{", b"[")
            handler.send_header(
                "Content-Type", "application/json; charset=UTF-8" if is_json else "text/html"
            )
            handler.send_header("Content-Length", str(len(body)))
            if self.business_usage is not None and "X-Business-Use-Case-Usage" not in extra:
                handler.send_header("X-Business-Use-Case-Usage", json.dumps(self.business_usage))
            if self.app_usage is not None:
                handler.send_header("X-App-Usage", json.dumps(self.app_usage))
            for name, value in extra.items():
                handler.send_header(name, value)
            handler.end_headers()
            handler.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout test)
            pass

    def _failure(self, failure: Failure) -> tuple[int, bytes, dict[str, str]]:
        if failure.kind == "rate_limit":
            usage = {
                "1234567890": [
                    {
                        "type": "ads_management",
                        "call_count": 100,
                        "total_cputime": 30,
                        "total_time": 40,
                        "estimated_time_to_regain_access": failure.wait_minutes,
                        "ads_api_access_tier": "standard_access",
                    }
                ]
            }
            error = GraphError(
                failure.status,
                failure.code or 80004,
                f"(#{failure.code}) There have been too many calls. Please wait a bit and try again.",
                error_subcode=2446079,
                is_transient=False,
            )
            return (
                error.status,
                json.dumps(error.body).encode(),
                {"X-Business-Use-Case-Usage": json.dumps(usage)},
            )
        if failure.kind == "transient":
            error = GraphError(
                failure.status,
                failure.code or 2,
                "An unexpected error has occurred. Please retry your request later.",
                is_transient=True,
            )
            return error.status, json.dumps(error.body).encode(), {}
        if failure.kind == "server_error":
            return failure.status, b"<html><body>Sorry, something went wrong.</body></html>", {}
        if failure.kind == "token":
            error = GraphError(
                400,
                190,
                "Error validating access token: Session has expired.",
                error_subcode=failure.code or 463,
            )
            return error.status, json.dumps(error.body).encode(), {}
        if failure.kind == "error":
            error = GraphError(failure.status, failure.code or 100, failure.message)
            return error.status, json.dumps(error.body).encode(), {}
        if failure.kind == "malformed":
            return 200, b"<html><body>Service temporarily unavailable</body></html>", {}
        raise ValueError(f"unknown failure kind {failure.kind!r}")

    @staticmethod
    def _spoil(answer: dict[str, Any], kind: str) -> dict[str, Any]:
        if kind == "no_data":
            return {"result": "ok"}
        buckets = answer.get("data") or []
        for bucket in buckets:
            if kind == "bad_time":
                bucket["start_time"] = "yesterday at ten"
            elif kind == "off_hour":
                bucket["start_time"] = bucket["start_time"].replace(":00:00+", ":30:00+")
            elif kind == "bad_count" and bucket.get("data"):
                bucket["data"][0]["count"] = "many"
            break
        if not buckets:
            answer["data"] = [
                {
                    "aggregation": "event",
                    "start_time": "yesterday at ten"
                    if kind == "bad_time"
                    else graph_time(_floor_hour(dt.datetime.now(dt.UTC))),
                    "data": [{"value": "PageView", "count": "many"}],
                }
            ]
        return answer

    def _authorise(self, query: dict[str, list[str]], headers: dict[str, str]) -> None:
        header = headers.get("authorization", "")
        given: str | None = (
            header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else None
        )
        if given is None:
            given = next(iter(query.get("access_token") or []), None)
        if given != self.token:
            raise GraphError(
                400,
                190,
                "Invalid OAuth access token - Cannot parse access token",
                error_subcode=467,
            )

    def _route(
        self, path: str, query: dict[str, list[str]], headers: dict[str, str]
    ) -> dict[str, Any]:
        parts = [p for p in path.split("/") if p]
        if not parts or parts[0] != self.version:
            raise GraphError(400, 2635, f"Unknown or unsupported API version in {path!r}.")
        self._authorise(query, headers)
        rest = parts[1:]
        param = {name: values[0] for name, values in query.items() if values}
        if rest == ["dataset_quality"]:
            pixel = self._pixel(param.get("dataset_id", ""), dataset=True)
            return {"web": pixel.web()}
        if len(rest) == 2 and rest[0].startswith("act_") and rest[1] == "adspixels":
            data = [
                {"id": p.pixel_id, "name": p.node()["name"]}
                for p in self.pixels.values()
                if rest[0] in p.ad_accounts
            ]
            return {
                "data": data,
                "paging": {"cursors": {"before": _cursor(0), "after": _cursor(0)}},
            }
        if len(rest) == 1:
            node = self._pixel(rest[0]).node()
            wanted = param.get("fields")
            if wanted:
                names = {"id", *(name.strip() for name in wanted.split(",") if name.strip())}
                node = {k: v for k, v in node.items() if k in names}
            else:
                node = {"id": node["id"], "name": node["name"]}
            return node
        if len(rest) == 2 and rest[1] == "stats":
            return self._stats(self._pixel(rest[0]), path, param)
        raise GraphError(400, 100, f"Unknown path components: /{'/'.join(rest[1:])}")

    def _pixel(self, pixel_id: str, *, dataset: bool = False) -> FakePixel:
        pixel = self.pixels.get(pixel_id)
        if pixel is None:
            if dataset:
                raise GraphError(400, 2044055, "Dataset not found.")
            raise GraphError(
                400,
                100,
                f"Unsupported get request. Object with ID '{pixel_id[:30]}' does not exist.",
                error_subcode=33,
            )
        return pixel

    @staticmethod
    def _time(value: str | None, default: dt.datetime) -> dt.datetime:
        if value is None or value == "":
            return default
        try:
            if value.isdigit():
                return dt.datetime.fromtimestamp(int(value), tz=dt.UTC)
            moment = dt.datetime.fromisoformat(value)
        except (ValueError, OverflowError):
            raise GraphError(400, 100, f"Invalid time {value[:40]!r}.") from None
        return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)

    def _stats(self, pixel: FakePixel, path: str, param: dict[str, str]) -> dict[str, Any]:
        now = _floor_hour(dt.datetime.now(dt.UTC))
        end = self._time(param.get("end_time"), now)
        start = _floor_hour(self._time(param.get("start_time"), end - dt.timedelta(days=1)))
        aggregation = param.get("aggregation", "event")
        hours: list[dt.datetime] = []
        moment = start
        while moment < end and len(hours) < 24 * 400:
            hours.append(moment)
            moment += HOUR
        only = param.get("event")
        # Generated once per query; the page requests of the same query slice it.
        key = (
            pixel.pixel_id,
            aggregation,
            only,
            start,
            end,
            pixel.string_counts,
            pixel.dedup,
            tuple(pixel.events.items()),
            id(pixel.counts),
        )
        buckets = self._buckets.get(key)
        if buckets is None:
            buckets = self._build_buckets(pixel, aggregation, only, hours)
            with self._lock:
                if len(self._buckets) > 20_000:
                    self._buckets.clear()
                self._buckets[key] = buckets
        return self._page(path, param, pixel, buckets)

    def _build_buckets(
        self, pixel: FakePixel, aggregation: str, only: str | None, hours: list[dt.datetime]
    ) -> list[dict[str, Any]]:
        names = [only] if only else pixel.event_names(hours)
        buckets = []
        for hour in hours:
            splits = {name: pixel.split(name, hour) for name in names}
            if aggregation == "event":
                data = [
                    {"value": name, "count": pixel.count(pixel.total(*split))}
                    for name, split in splits.items()
                    if pixel.total(*split) > 0
                ]
            elif aggregation == "event_source":
                browser = sum(split[0] for split in splits.values())
                server = sum(split[1] for split in splits.values())
                data = [
                    {"value": source, "count": pixel.count(count)}
                    for source, count in (("BROWSER", browser), ("SERVER", server))
                    if count > 0
                ]
            else:
                raise GraphError(
                    400, 100, f"(#100) aggregation {aggregation!r} is not supported here."
                )
            if data:
                buckets.append(
                    {"aggregation": aggregation, "start_time": graph_time(hour), "data": data}
                )
        return buckets

    def _page(
        self, path: str, param: dict[str, str], pixel: FakePixel, buckets: list[dict[str, Any]]
    ) -> dict[str, Any]:
        offset = 0
        if "after" in param:
            offset = _offset(param["after"]) or 0
            if _offset(param["after"]) is None:
                raise GraphError(400, 100, "(#100) Invalid cursor.")
        size = max(1, pixel.page_size)
        # Copies: a scripted failure spoils the answer, never the cached buckets.
        page = [
            {**b, "data": [dict(e) for e in b["data"]]} for b in buckets[offset : offset + size]
        ]
        answer: dict[str, Any] = {"data": page}
        if buckets:
            paging: dict[str, Any] = {
                "cursors": {"before": _cursor(offset), "after": _cursor(offset + len(page))}
            }
            if offset + size < len(buckets):
                next_query = {k: v for k, v in param.items() if k not in {"access_token", "after"}}
                next_query["after"] = _cursor(offset + size)
                paging["next"] = f"{self.base_url}{path}?{urlencode(next_query)}"
            answer["paging"] = paging
        return answer
