"""Whatever JSON comes back, the Meta connector returns figures or raises a PlatformError
(mostly MalformedResponse) — never a TypeError, KeyError or the like that would leave a
pull in an unknown state. In-process (httpx.MockTransport) so hypothesis can try many
bodies fast; the HTTP behaviour itself is tested against the fake server."""

from __future__ import annotations

import datetime as dt
import json

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from koastops.quality.platforms.base import PlatformError
from koastops.quality.platforms.meta import MetaConnector

START = dt.datetime(2026, 7, 1, tzinfo=dt.UTC)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["2026-07-01T10:00:00+0000", "2026-07-01T10:30:00Z", "12", "-3", "1.5"]),
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "data",
                    "paging",
                    "cursors",
                    "after",
                    "next",
                    "start_time",
                    "value",
                    "count",
                    "web",
                    "event_name",
                    "event_match_quality",
                    "composite_score",
                    "percentage",
                    "dedupe_key_feedback",
                    "match_key_feedback",
                    "coverage",
                    "diagnostics",
                    "error",
                    "code",
                    "id",
                    "name",
                    "last_fired_time",
                ]
            ),
            children,
            max_size=5,
        )
    ),
    max_leaves=25,
)
bucket = st.fixed_dictionaries(
    {
        "start_time": scalars,
        "data": st.lists(st.fixed_dictionaries({"value": scalars, "count": scalars}), max_size=3),
    }
)
stats_page = st.fixed_dictionaries(
    {"data": st.lists(bucket, max_size=3)},
    optional={"paging": json_values},
)
quality_body = st.fixed_dictionaries({"web": st.lists(json_values, max_size=3)})


def connector(body: object, status: int = 200) -> MetaConnector:
    raw = json.dumps(body, allow_nan=True).encode()

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=raw, headers={"Content-Type": "application/json"})

    return MetaConnector(
        "111222333444",
        "EAAB-fuzz-token-value",
        base_url="https://graph.example",
        version="v25.0",
        timeout=1,
        retries=1,
        transport=httpx.MockTransport(answer),
        sleep=lambda seconds: None,
    )


FAST = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def calls(meta: MetaConnector) -> None:
    for call in (
        meta.pixel_info,
        lambda: list(meta.event_counts(START, START + dt.timedelta(hours=3))),
        meta.quality,
    ):
        try:
            call()
        except PlatformError as error:
            assert "EAAB-fuzz-token-value" not in str(error)


@FAST
@given(body=json_values)
def test_any_json_body_is_figures_or_a_platform_error(body):
    calls(connector(body))


@FAST
@given(page=stats_page)
def test_near_valid_stats_pages_are_figures_or_a_platform_error(page):
    calls(connector(page))


@FAST
@given(body=quality_body)
def test_near_valid_quality_answers_are_figures_or_a_platform_error(body):
    calls(connector(body))


@FAST
@given(body=json_values, status=st.sampled_from([400, 401, 403, 404, 429, 500, 503]))
def test_any_error_body_is_a_platform_error(body, status):
    calls(connector(body, status))
