"""The Meta connector over real HTTP against the local fake Graph API (no database)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest

from koastops.devtools.fake_graph import Failure, FakeGraph, FakePixel
from koastops.quality.platforms.base import (
    DedupeKey,
    HourCount,
    MalformedResponse,
    PlatformError,
    RateLimited,
    TokenError,
    TransientError,
)
from koastops.quality.platforms.meta import MetaConnector, best_dedup_coverage

PIXEL = "111222333444"
START = dt.datetime(2026, 7, 1, tzinfo=dt.UTC)


@pytest.fixture
def fake() -> Iterator[FakeGraph]:
    with FakeGraph() as graph:
        graph.add_pixel(PIXEL, name="Shop pixel")
        yield graph


class Sleeps(list[float]):
    """Records the waits instead of sleeping them."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def connector(fake: FakeGraph, sleeps: Sleeps | None = None, **options) -> MetaConnector:
    settings = {
        "base_url": fake.base_url,
        "version": "v25.0",
        "timeout": 2.0,
        "retries": 3,
        "sleep": sleeps if sleeps is not None else Sleeps(),
        "backoff": 0.5,
        "jitter": lambda: 1.0,  # the full back-off, so the waits are exact
    }
    settings.update(options)
    token = settings.pop("token", fake.token)
    return MetaConnector(settings.pop("pixel_id", PIXEL), token, **settings)


def expected(pixel: FakePixel, start: dt.datetime, hours: int) -> list[HourCount]:
    rows = []
    for event in sorted(pixel.events):
        for n in range(hours):
            hour = start + dt.timedelta(hours=n)
            browser, server = pixel.split(event, hour)
            total = pixel.total(browser, server)
            if total:
                rows.append(HourCount(event, hour, total, browser, server))
    return rows


# --- pixel node -------------------------------------------------------------------------------
def test_pixel_info_reads_the_node_fields_with_the_token_in_the_header_only(fake):
    info = connector(fake).pixel_info()

    assert info.external_id == PIXEL
    assert info.name == "Shop pixel"
    assert info.last_fired_at == dt.datetime(2026, 7, 1, 9, 58, 12, tzinfo=dt.UTC)
    assert info.data_use_setting == "ADVERTISING_AND_ANALYTICS"
    assert info.automatic_matching_fields == ("em", "ph", "external_id")
    [request] = fake.requests
    assert request.path == f"/v25.0/{PIXEL}"
    assert "last_fired_time" in request.param("fields")
    assert request.headers["authorization"] == f"Bearer {fake.token}"
    assert "access_token" not in request.query
    assert fake.token not in request.raw_url


def test_pixel_info_without_last_fired_time(fake):
    fake.pixels[PIXEL].last_fired_time = None
    assert connector(fake).pixel_info().last_fired_at is None


# --- stats ------------------------------------------------------------------------------------
def test_event_counts_follow_the_cursor_over_several_pages(fake):
    pixel = fake.pixels[PIXEL]
    pixel.page_size = 5  # 24 hourly buckets: 5 pages per query

    rows = list(connector(fake).event_counts(START, START + dt.timedelta(hours=24)))

    assert rows == expected(pixel, START, 24)
    assert all(row.hour.tzinfo == dt.UTC and row.hour.minute == 0 for row in rows)
    stats = [r for r in fake.requests if r.path.endswith("/stats")]
    # aggregation=event, then event_source per event name: 4 queries of 5 pages each.
    assert len(stats) == 4 * 5
    by_aggregation = [(r.param("aggregation"), r.param("event")) for r in stats]
    assert by_aggregation.count(("event", None)) == 5
    for event in pixel.events:
        assert by_aggregation.count(("event_source", event)) == 5
    first, second = stats[0], stats[1]
    assert first.param("after") is None
    assert second.param("after")  # the cursor, sent to our base URL with the same window
    assert second.param("start_time") == str(int(START.timestamp()))
    assert all(fake.token not in r.raw_url for r in fake.requests)


def test_counts_as_numeric_strings_parse_like_numbers(fake):
    pixel = fake.pixels[PIXEL]
    numbers = list(connector(fake).event_counts(START, START + dt.timedelta(hours=6)))
    pixel.string_counts = True

    strings = list(connector(fake).event_counts(START, START + dt.timedelta(hours=6)))

    assert strings == numbers
    assert all(isinstance(row.total, int) for row in strings)


def test_only_hours_inside_the_range_are_returned(fake):
    pixel = fake.pixels[PIXEL]
    ten = START.replace(hour=10)
    pixel.counts = {
        ("Purchase", ten): (3, 2),
        ("Purchase", ten + dt.timedelta(hours=1)): (4, 0),
        ("Lead", ten + dt.timedelta(hours=1)): (0, 2),
    }
    pixel.dedup = 0.0

    # 10:30 → the fake answers from 10:00 (Meta's buckets are whole hours): 10:00 is before
    # the start and must be left out.
    rows = list(
        connector(fake).event_counts(ten + dt.timedelta(minutes=30), ten + dt.timedelta(hours=3))
    )

    eleven = ten + dt.timedelta(hours=1)
    assert rows == [HourCount("Lead", eleven, 2, 0, 2), HourCount("Purchase", eleven, 4, 4, 0)]


def test_an_empty_range_asks_nothing(fake):
    assert list(connector(fake).event_counts(START, START)) == []
    assert fake.requests == []


def test_naive_datetimes_are_refused(fake):
    with pytest.raises(ValueError, match="aware"):
        connector(fake).event_counts(START.replace(tzinfo=None), START + dt.timedelta(hours=1))


# --- rate limits and retries --------------------------------------------------------------------
def test_rate_limit_with_usage_header_waits_the_header_time_then_succeeds(fake):
    fake.fail(Failure.rate_limit(code=80004, wait_minutes=0.5))
    sleeps = Sleeps()

    info = connector(fake, sleeps).pixel_info()

    assert info.external_id == PIXEL
    assert sleeps == [30.0]  # estimated_time_to_regain_access is in minutes
    assert len(fake.requests) == 2


@pytest.mark.parametrize("code", [4, 17, 32, 613, 80000, 80004, 80014])
def test_rate_limit_codes_are_retried_with_exponential_back_off(fake, code):
    fake.fail(Failure.rate_limit(code=code), Failure.rate_limit(code=code))
    sleeps = Sleeps()

    connector(fake, sleeps).pixel_info()

    assert sleeps == [0.5, 1.0]  # backoff * 2**attempt (no header wait given)
    assert len(fake.requests) == 3


def test_jitter_keeps_the_wait_between_half_and_all_of_the_back_off(fake):
    fake.fail(Failure.server_error(), Failure.server_error(), Failure.server_error())
    sleeps = Sleeps()

    connector(fake, sleeps, jitter=lambda: 0.0, backoff=2.0).pixel_info()

    assert sleeps == [1.0, 2.0, 4.0]


def test_a_wait_longer_than_the_cap_raises_rate_limited_at_once(fake):
    fake.fail(Failure.rate_limit(code=17, wait_minutes=10))
    sleeps = Sleeps()

    with pytest.raises(RateLimited) as caught:
        connector(fake, sleeps, max_wait=60).pixel_info()

    assert caught.value.retry_after == 600
    assert sleeps == []
    assert len(fake.requests) == 1
    assert "10 min" in str(caught.value)


def test_rate_limited_on_every_attempt_raises_rate_limited(fake):
    fake.fail(*[Failure.rate_limit(code=4, wait_minutes=0.1)] * 3)
    sleeps = Sleeps()

    with pytest.raises(RateLimited) as caught:
        connector(fake, sleeps, retries=2).pixel_info()

    assert sleeps == [6.0, 6.0]
    assert caught.value.retry_after == 6.0
    assert len(fake.requests) == 3


def test_usage_header_on_a_good_answer_delays_the_next_request(fake):
    fake.pixels[PIXEL].page_size = 12
    fake.usage_header(call_count=100, wait_minutes=0.05)
    sleeps = Sleeps()

    list(connector(fake, sleeps).event_counts(START, START + dt.timedelta(hours=24)))

    # Every answer carried a 3 s wait: each request after the first waited it.
    assert sleeps == [3.0] * (len(fake.requests) - 1)


def test_usage_header_asking_for_too_long_a_wait_stops_the_pull(fake):
    fake.usage_header(call_count=100, wait_minutes=30)
    meta = connector(fake)
    assert meta.pixel_info().external_id == PIXEL  # the answer itself is kept

    with pytest.raises(RateLimited) as caught:
        list(meta.event_counts(START, START + dt.timedelta(hours=24)))

    assert caught.value.retry_after == 1800
    assert len(fake.requests) == 1  # the next request was not sent


def test_usage_headers_without_a_wait_change_nothing(fake):
    fake.usage_header(call_count=40, wait_minutes=0)
    sleeps = Sleeps()
    connector(fake, sleeps).pixel_info()
    assert sleeps == []


def test_server_errors_are_retried_then_succeed(fake):
    fake.fail(Failure.server_error(502), Failure.transient(code=2), Failure.transient(code=1))
    sleeps = Sleeps()

    rows = list(connector(fake, sleeps).event_counts(START, START + dt.timedelta(hours=2)))

    assert rows == expected(fake.pixels[PIXEL], START, 2)
    assert sleeps == [0.5, 1.0, 2.0]


def test_server_errors_after_the_retries_raise_transient_error(fake):
    fake.fail(*[Failure.server_error()] * 5)
    sleeps = Sleeps()

    with pytest.raises(TransientError, match=r"HTTP 500.*3 attempts"):
        connector(fake, sleeps, retries=2).pixel_info()

    assert len(fake.requests) == 3
    assert sleeps == [0.5, 1.0]


def test_a_stalled_server_times_out_quickly_as_a_transient_error(fake):
    fake.fail(Failure.stalled(2.0), Failure.stalled(2.0))
    started = time.monotonic()

    with pytest.raises(TransientError, match=r"no answer within 0\.1 s"):
        connector(fake, timeout=0.1, retries=1).pixel_info()

    assert time.monotonic() - started < 1.0


def test_nothing_listening_is_a_transient_error():
    with FakeGraph() as graph:
        base_url = graph.base_url  # the port is free again once the fake stopped
    sleeps = Sleeps()
    with pytest.raises(TransientError, match="network error"):
        MetaConnector(
            PIXEL,
            "EAAB-some-token",
            base_url=base_url,
            version="v25.0",
            timeout=1,
            retries=1,
            sleep=sleeps,
        ).pixel_info()
    assert len(sleeps) == 1


# --- token and other errors ---------------------------------------------------------------------
def test_token_error_is_raised_at_once_without_retrying(fake):
    fake.fail(Failure.token(subcode=463))
    sleeps = Sleeps()

    with pytest.raises(TokenError) as caught:
        connector(fake, sleeps).pixel_info()

    assert len(fake.requests) == 1
    assert sleeps == []
    message = str(caught.value)
    assert "expired" in message
    assert "ops lead" in message
    assert fake.token not in message


def test_a_wrong_token_is_a_token_error_and_never_shown(fake):
    secret = "EAAB-wrong-secret-token-value"
    with pytest.raises(TokenError) as caught:
        connector(fake, token=secret).event_counts(START, START + dt.timedelta(hours=1))
    assert secret not in str(caught.value)
    assert secret not in repr(caught.value)
    [request] = fake.requests
    assert secret not in request.raw_url
    assert request.headers["authorization"] == f"Bearer {secret}"


def test_a_token_echoed_by_meta_is_redacted(fake):
    fake.fail(Failure.error(100, message=f"Bad request for token {fake.token}"))

    with pytest.raises(PlatformError) as caught:
        connector(fake).pixel_info()

    assert fake.token not in str(caught.value)
    assert "[redacted]" in str(caught.value)
    assert fake.token not in repr(connector(fake))


def test_permission_error_is_not_retried_and_says_what_to_grant(fake):
    fake.fail(Failure.error(10, status=403, message="Application does not have permission"))
    sleeps = Sleeps()
    with pytest.raises(PlatformError, match="Manage Pixel") as caught:
        connector(fake, sleeps).pixel_info()
    assert not isinstance(caught.value, TokenError | TransientError)
    assert sleeps == []


def test_an_unknown_pixel_is_a_platform_error(fake):
    with pytest.raises(PlatformError, match="code 100"):
        connector(fake, pixel_id="999").pixel_info()


def test_a_pixel_id_must_be_digits():
    with pytest.raises(PlatformError, match="digits"):
        MetaConnector("../me", "t", base_url="http://x", version="v25.0", timeout=1, retries=0)


# --- malformed bodies ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("malformed", "is not JSON"),
        ("no_data", "has no data list"),
        ("bad_count", "count 'many' is not a whole number"),
        ("bad_time", "start_time is not a time"),
    ],
)
def test_a_malformed_stats_page_is_a_clear_error(fake, kind, message):
    fake.pixels[PIXEL].page_size = 4
    fake.fail(Failure.malformed(kind, path="/stats"))
    sleeps = Sleeps()

    with pytest.raises(MalformedResponse, match=message):
        connector(fake, sleeps).event_counts(START, START + dt.timedelta(hours=8))

    assert sleeps == []  # not retried: the same answer would come back


def test_a_malformed_later_page_yields_nothing_at_all(fake):
    fake.pixels[PIXEL].page_size = 4
    # The third page of the split of one event is broken: every earlier page was fine.
    fake.fail(
        Failure.stalled(0, path="/stats"),
        Failure.stalled(0, path="/stats"),
        Failure.stalled(0, path="/stats"),
        Failure.malformed("bad_count", path="/stats"),
    )
    counts = connector(fake).event_counts
    with pytest.raises(MalformedResponse, match="page 2"):
        counts(START, START + dt.timedelta(hours=8))


def test_bucket_times_off_the_hour_are_malformed(fake):
    fake.fail(Failure.malformed("off_hour", path="/stats"))
    with pytest.raises(MalformedResponse, match="not on the hour"):
        connector(fake).event_counts(START, START + dt.timedelta(hours=2))


def test_a_malformed_pixel_node_is_a_clear_error(fake):
    fake.fail(Failure.malformed("malformed"))
    with pytest.raises(MalformedResponse, match="not JSON"):
        connector(fake).pixel_info()


# --- dataset quality ----------------------------------------------------------------------------
def test_quality_parses_emq_match_keys_diagnostics_and_dedup(fake):
    events = connector(fake).quality()

    assert [e.event for e in events] == ["PageView", "Purchase", "Lead"]
    purchase = events[1]
    assert purchase.emq == Decimal("6.4")
    assert purchase.event_coverage == Decimal("61.0")
    assert purchase.event_coverage_goal == Decimal("75")
    assert purchase.dedup_coverage == Decimal("58.0")
    assert purchase.freshness == "real_time"
    assert purchase.acr == Decimal("12.4")
    assert [k.identifier for k in purchase.match_keys] == ["email", "ip_address"]
    assert purchase.diagnostics[0].solution.startswith("Send the visitor")
    assert purchase.diagnostics[0].affected_event_count == 125
    [request] = fake.requests
    assert request.path == "/v25.0/dataset_quality"
    assert request.param("dataset_id") == PIXEL
    assert "dedupe_key_feedback" in request.param("fields")
    assert "dedup_key_feedback" not in request.param("fields")


def test_quality_takes_the_best_dedupe_key(fake):
    def key(name: str, overall: float) -> dict:
        return {
            "dedupe_key": name,
            "browser_events_with_dedupe_key": {"percentage": 100},
            "server_events_with_dedupe_key": {"percentage": 90},
            "overall_browser_coverage_from_dedupe_key": {"percentage": overall},
        }

    fake.pixels[PIXEL].quality = [
        {"event_name": "Purchase", "dedupe_key_feedback": [key("fbp", 40), key("event_id", 22.5)]},
        {"event_name": "Lead"},
    ]

    purchase, lead = connector(fake).quality()

    assert purchase.dedup_coverage == Decimal("40")
    assert purchase.emq is None
    assert lead.dedup_coverage is None
    assert lead.match_keys == ()


def test_best_dedupe_key_prefers_event_id_on_a_tie():
    def key(name: str, overall: str | None) -> DedupeKey:
        return DedupeKey(name, None, None, None if overall is None else Decimal(overall))

    assert best_dedup_coverage((key("fbp", "50"), key("event_id", "50"))) == Decimal("50")
    assert best_dedup_coverage((key("event_id", None),)) is None
    assert best_dedup_coverage(()) is None


@pytest.mark.parametrize(
    ("web", "message"),
    [
        ("nope", "web is not a list"),
        ([{"event_name": ""}], "has no event_name"),
        (
            [{"event_name": "Purchase", "event_match_quality": {"composite_score": "high"}}],
            "composite_score is not a number",
        ),
        (
            [{"event_name": "Purchase", "event_match_quality": {"composite_score": 11}}],
            "not between 0 and 10",
        ),
        ([{"event_name": "Purchase", "dedupe_key_feedback": ["event_id"]}], "not an object"),
    ],
)
def test_malformed_quality_is_a_clear_error(fake, web, message):
    fake.pixels[PIXEL].quality = web
    with pytest.raises(MalformedResponse, match=message):
        connector(fake).quality()


def test_quality_without_web_is_malformed(fake):
    fake.fail(Failure.malformed("no_data", path="dataset_quality"))
    with pytest.raises(MalformedResponse, match="no web list"):
        connector(fake).quality()


# --- settings ------------------------------------------------------------------------------------
def test_version_and_base_url_are_honoured():
    with FakeGraph(version="v24.0") as graph:
        graph.add_pixel(PIXEL)
        info = MetaConnector(
            PIXEL, graph.token, base_url=graph.base_url + "/", version="v24.0", timeout=1, retries=0
        ).pixel_info()
        assert info.external_id == PIXEL
        assert graph.paths() == [f"/v24.0/{PIXEL}"]
        with pytest.raises(PlatformError, match="2635"):
            MetaConnector(
                PIXEL, graph.token, base_url=graph.base_url, version="v25.0", timeout=1, retries=0
            ).pixel_info()


def test_a_transport_can_be_injected():
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"id": PIXEL, "name": "Via transport"})

    info = MetaConnector(
        PIXEL,
        "tok",
        base_url="https://graph.example",
        version="v25.0",
        timeout=1,
        retries=0,
        transport=httpx.MockTransport(answer),
    ).pixel_info()
    assert info.name == "Via transport"
    assert str(seen[0].url).startswith(f"https://graph.example/v25.0/{PIXEL}?fields=")


# --- the fake itself ---------------------------------------------------------------------------------
def test_fake_lists_the_pixels_of_an_ad_account(fake):
    fake.add_pixel("555", ad_accounts=("act_42",))
    with httpx.Client(headers={"Authorization": f"Bearer {fake.token}"}) as client:
        body = client.get(f"{fake.base_url}/v25.0/act_42/adspixels", params={"summary": "true"})
        by_query = client.get(
            f"{fake.base_url}/v25.0/act_1/adspixels", params={"access_token": fake.token}
        )
    assert [p["id"] for p in body.json()["data"]] == ["555"]
    assert by_query.json()["data"] == []


def test_fake_next_url_pages_like_the_after_cursor(fake):
    fake.pixels[PIXEL].page_size = 3
    params = {
        "aggregation": "event",
        "start_time": "2026-07-01T00:00:00+00:00",
        "end_time": "2026-07-01T06:00:00+00:00",
    }
    with httpx.Client(headers={"Authorization": f"Bearer {fake.token}"}) as client:
        first = client.get(f"{fake.base_url}/v25.0/{PIXEL}/stats", params=params).json()
        second = client.get(first["paging"]["next"]).json()
    assert [b["start_time"] for b in first["data"] + second["data"]] == [
        f"2026-07-01T0{h}:00:00+0000" for h in range(6)
    ]
    assert "next" not in second["paging"]


def test_connectors_share_one_connection_pool(fake):
    from koastops.quality.platforms.meta import shared_transport

    first, second = connector(fake), connector(fake, pixel_id="222")
    fake.add_pixel("222")
    first.pixel_info()
    second.pixel_info()
    first.pixel_info()  # the pool is still open after a call

    assert shared_transport() is shared_transport()
    assert len(fake.requests) == 3


def test_rate_limit_waits_add_up_against_the_cap(fake):
    fake.fail(*[Failure.rate_limit(code=80004, wait_minutes=0.6)] * 3)  # 36 s each
    sleeps = Sleeps()

    with pytest.raises(RateLimited, match="already waited 36 s") as caught:
        connector(fake, sleeps, max_wait=60).pixel_info()

    assert sleeps == [36.0]
    assert caught.value.retry_after == 36.0
    assert len(fake.requests) == 2


def test_http_429_without_a_graph_body_is_retried_as_a_rate_limit(fake):
    fake.fail(Failure.server_error(429))
    sleeps = Sleeps()
    assert connector(fake, sleeps).pixel_info().external_id == PIXEL
    assert sleeps == [0.5]


def test_http_401_without_a_graph_body_is_a_token_error(fake):
    fake.fail(Failure.server_error(401))
    with pytest.raises(TokenError):
        connector(fake).pixel_info()
    assert len(fake.requests) == 1


def test_a_redirect_is_not_followed(fake):
    fake.fail(Failure.server_error(302))
    with pytest.raises(PlatformError, match="HTTP 302"):
        connector(fake).pixel_info()
    assert len(fake.requests) == 1


def test_custom_event_names_travel_intact(fake):
    pixel = fake.pixels[PIXEL]
    pixel.counts = {("Sign Up & Pay/ä", START): (2, 1)}
    pixel.dedup = 1.0

    rows = list(connector(fake).event_counts(START, START + dt.timedelta(hours=1)))

    assert rows == [HourCount("Sign Up & Pay/ä", START, 2, 2, 1)]
    assert fake.requests[-1].param("event") == "Sign Up & Pay/ä"


def test_an_error_body_with_a_strange_code_is_still_a_clear_error():
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json={"error": {"code": [190], "message": "odd"}})

    with pytest.raises(PlatformError, match="without an error code"):
        MetaConnector(
            PIXEL,
            "EAAB-token-value",
            base_url="https://graph.example",
            version="v25.0",
            timeout=1,
            retries=0,
            transport=httpx.MockTransport(answer),
        ).pixel_info()
