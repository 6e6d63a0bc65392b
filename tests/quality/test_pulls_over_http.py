"""A pull end to end over real HTTP: ``run_pull`` with the Meta connector against the local
fake Graph API (koastops.devtools.fake_graph) — the rows it writes, twice the same, and what
each failure leaves: nothing written, the run failed with a clear message, the connection's
state and message for the pages."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import override_settings

from koastops.core import crypto
from koastops.devtools.fake_graph import Failure, FakeGraph
from koastops.quality import pulling
from koastops.quality.models import DailyStat, HourlyStat, PixelConnection, PullRun
from tests.factories import PixelConnectionFactory, PixelFactory

pytestmark = pytest.mark.django_db

TOKEN = "EAAB-fake-graph-token-for-the-pull-tests"
PIXEL_ID = "555666777888"
END = pulling.floor_hour(dt.datetime.now(dt.UTC)) - dt.timedelta(hours=1)
START = END - dt.timedelta(hours=30)


@pytest.fixture
def fake():
    with FakeGraph(token=TOKEN) as graph:
        graph.add_pixel(PIXEL_ID, name="Shop pixel", page_size=8)
        with override_settings(
            META_GRAPH_BASE_URL=graph.base_url, PLATFORM_HTTP_RETRIES=1, PLATFORM_HTTP_TIMEOUT=2
        ):
            yield graph


@pytest.fixture
def pixel():
    pixel = PixelFactory(external_id=PIXEL_ID, access_token_encrypted=crypto.encrypt(TOKEN))
    PixelConnectionFactory(pixel=pixel, provider="meta")
    return pixel


def pull(pixel) -> PullRun:
    run = PullRun.objects.create(pixel=pixel, kind="counts", range_start=START, range_end=END)
    pulling.run_pull(run.pk)
    run.refresh_from_db()
    return run


def rows(pixel) -> set[tuple]:
    return set(
        HourlyStat.objects.filter(pixel=pixel).values_list("event", "source", "hour", "count")
    )


def test_a_pull_writes_every_hour_of_the_range_and_the_same_pull_again_the_same_rows(fake, pixel):
    first = pull(pixel)
    assert first.status == "succeeded", first.error
    written = rows(pixel)
    hours = {hour for _event, _source, hour, _count in written}
    assert min(hours) == START and max(hours) == END - dt.timedelta(hours=1)
    assert len(hours) == 30
    assert {source for _e, source, _h, _c in written} == {"total", "browser", "server"}
    assert first.rows == len(written)
    assert any(request.param("after") for request in fake.requests)  # it paged
    assert all(TOKEN not in request.raw_url for request in fake.requests)
    connection = PixelConnection.objects.get(pixel=pixel)
    assert connection.status == "ok" and connection.counts_pulled_at is not None
    daily = DailyStat.objects.filter(pixel=pixel, source="total")
    assert sum(daily.values_list("count", flat=True)) == sum(
        count for _e, source, _h, count in written if source == "total"
    )

    again = pull(pixel)
    assert again.status == "succeeded"
    assert rows(pixel) == written


@pytest.mark.parametrize(
    "kind", ["malformed", "no_data", "bad_count", "bad_time", "off_hour"], ids=str
)
def test_a_malformed_answer_writes_nothing(fake, pixel, kind):
    fake.fail(Failure.malformed(kind, path="/stats"))
    run = pull(pixel)
    assert run.status == "failed"
    assert run.error  # says what was wrong
    assert TOKEN not in run.error
    assert not HourlyStat.objects.filter(pixel=pixel).exists()
    assert not DailyStat.objects.filter(pixel=pixel).exists()
    connection = PixelConnection.objects.get(pixel=pixel)
    assert connection.status == "error"
    assert connection.message


def test_a_token_error_breaks_the_connection_with_a_message_and_is_not_retried(fake, pixel):
    fake.fail(Failure.token(subcode=463))
    run = pull(pixel)
    assert run.status == "failed"
    connection = PixelConnection.objects.get(pixel=pixel)
    assert connection.status == "broken"
    assert "token" in connection.message.lower()
    assert TOKEN not in connection.message
    assert len(fake.requests) == 1  # no retry
    assert not HourlyStat.objects.filter(pixel=pixel).exists()


def test_a_long_rate_limit_marks_the_connection_rate_limited_until_the_platforms_time(fake, pixel):
    fake.fail(Failure.rate_limit(code=80004, wait_minutes=20))
    run = pull(pixel)
    assert run.status == "failed"
    connection = PixelConnection.objects.get(pixel=pixel)
    assert connection.status == "rate_limited"
    assert connection.retry_after is not None
    waited = connection.retry_after - run.finished_at
    assert dt.timedelta(minutes=19) < waited <= dt.timedelta(minutes=21)
    assert not HourlyStat.objects.filter(pixel=pixel).exists()


def test_a_short_rate_limit_is_waited_out_and_the_pull_succeeds(fake, pixel):
    fake.fail(Failure.rate_limit(code=17, wait_minutes=0.005, path="/stats"))  # 0.3 s
    run = pull(pixel)
    assert run.status == "succeeded", run.error
    stats = [request for request in fake.requests if request.path.endswith("/stats")]
    assert stats[0].query == stats[1].query  # the refused request was asked again
    assert HourlyStat.objects.filter(pixel=pixel).exists()
