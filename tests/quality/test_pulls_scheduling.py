"""Beat scheduling, the reaper, monthly partitions, the backfill command and one active
run per pixel."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from koastops.quality import partitions, pulling, scheduling
from koastops.quality.models import HourlyStat, PixelConnection, PullRun
from koastops.quality.pull_services import PullRefused, refresh_request
from tests.catalog.test_races import postgresql_only, race  # noqa: F401 -- fixture
from tests.factories import PixelConnectionFactory, PixelFactory, PullRunFactory, UserFactory


def demo(**kwargs):
    pixel = PixelFactory(**kwargs)
    PixelConnectionFactory(pixel=pixel, provider="demo")
    return pixel


def test_beat_queues_one_run_per_due_pixel_and_enqueues_ids(
    db, enqueued, django_capture_on_commit_callbacks
):
    due = demo(name="due")
    with_token = PixelFactory(name="token", with_token=True)
    PixelConnectionFactory(pixel=with_token, provider="meta")
    no_token = PixelFactory(name="no token")
    PixelConnectionFactory(pixel=no_token, provider="meta")
    no_connection = PixelFactory(name="no connection", with_token=True)  # added in the catalog
    google = PixelFactory(name="google", platform="google", external_id="AW-1", with_token=True)
    PixelConnectionFactory(pixel=google, provider="meta")  # no stats connector yet
    archived = demo(name="archived", status="archived")
    busy = demo(name="busy")
    PullRunFactory(pixel=busy, status="running")
    limited = demo(name="limited")
    PixelConnection.objects.filter(pixel=limited).update(
        status="rate_limited", retry_after=timezone.now() + dt.timedelta(minutes=5)
    )
    limit_over = demo(name="limit over")
    PixelConnection.objects.filter(pixel=limit_over).update(
        status="rate_limited", retry_after=timezone.now() - dt.timedelta(minutes=5)
    )
    broken = demo(name="broken")
    PixelConnection.objects.filter(pixel=broken).update(
        status="broken", status_changed_at=timezone.now()
    )
    # Broken, then an ops lead set a new token: due again.
    new_token = PixelFactory(name="new token", with_token=True)
    PixelConnectionFactory(pixel=new_token, provider="meta")
    PixelConnection.objects.filter(pixel=new_token).update(
        status="broken", status_changed_at=timezone.now() - dt.timedelta(hours=1)
    )
    type(new_token).objects.filter(pk=new_token.pk).update(access_token_changed_at=timezone.now())

    with django_capture_on_commit_callbacks(execute=True):
        assert scheduling.schedule("counts") == 5
    queued = PullRun.objects.filter(status="queued")
    assert {run.pixel_id for run in queued} == {
        due.pk,
        with_token.pk,
        no_connection.pk,
        limit_over.pk,
        new_token.pk,
    }
    assert {run.kind for run in queued} == {"counts"}
    assert enqueued.names == ["koastops.quality.pull_counts"] * 5
    assert sorted(args[0] for _task, args, _kw in enqueued.calls) == sorted(r.pk for r in queued)
    assert archived.pk not in {run.pixel_id for run in queued}

    # Again at once: every due pixel has its run queued, nothing new.
    assert scheduling.schedule("counts") == 0


def test_quality_is_pulled_every_six_hours(db, enqueued, django_capture_on_commit_callbacks):
    fresh = demo(name="fresh")
    stale = demo(name="stale")
    PixelConnection.objects.filter(pixel=fresh).update(quality_pulled_at=timezone.now())
    PixelConnection.objects.filter(pixel=stale).update(
        quality_pulled_at=timezone.now() - dt.timedelta(hours=7)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert scheduling.schedule("quality") == 1
    assert PullRun.objects.get().pixel == stale
    assert enqueued.names == ["koastops.quality.pull_quality"]
    enqueued.run()
    run = PullRun.objects.get()
    assert (run.status, run.rows) == ("succeeded", 6)


def test_the_reaper_fails_silent_running_runs_and_old_queued_ones(db, settings):
    settings.QUALITY_PULL_TIME_LIMIT = 60
    settings.QUALITY_PULL_REAP_MARGIN = 30
    settings.QUALITY_PULL_QUEUED_TIMEOUT = 600
    now = timezone.now()
    dead = PullRunFactory(status="running", heartbeat_at=now - dt.timedelta(seconds=100))
    alive = PullRunFactory(status="running", heartbeat_at=now - dt.timedelta(seconds=30))
    stuck = PullRunFactory(status="queued", started_at=None)
    PullRun.objects.filter(pk=stuck.pk).update(created_at=now - dt.timedelta(minutes=11))
    waiting = PullRunFactory(status="queued", started_at=None)

    assert scheduling.reap_stale() == 2
    statuses = dict(PullRun.objects.values_list("pk", "status"))
    assert statuses == {
        dead.pk: "failed",
        alive.pk: "running",
        stuck.pk: "failed",
        waiting.pk: "queued",
    }
    dead.refresh_from_db()
    assert dead.error.startswith("The worker stopped before the pull finished")
    assert dead.finished_at is not None
    # A redelivered message of a reaped run does nothing.
    pulling.run_pull(dead.pk)
    dead.refresh_from_db()
    assert dead.status == "failed"


def test_refresh_returns_the_active_run_instead_of_a_second(
    db, enqueued, django_capture_on_commit_callbacks
):
    pixel = demo()
    user = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        first = refresh_request(actor=user, pixel=pixel)
        again = refresh_request(actor=user, pixel=pixel)
    assert again.pk == first.pk
    assert PullRun.objects.count() == 1
    assert enqueued.names == ["koastops.quality.pull_counts"]
    enqueued.run()
    first.refresh_from_db()
    # A refresh also pulls quality when it is older than an hour.
    assert first.status == "succeeded"
    assert first.rows > 6
    assert PixelConnection.objects.get(pixel=pixel).quality_pulled_at is not None


def test_an_archived_pixel_is_not_refreshed(db):
    pixel = demo(status="archived")
    with pytest.raises(PullRefused):
        refresh_request(actor=UserFactory(), pixel=pixel)


@pytest.mark.django_db(transaction=True)
def test_two_refreshes_at_once_make_one_run(postgresql_only, enqueued):  # noqa: F811
    for _attempt in range(3):
        PullRun.objects.all().delete()
        pixel = demo()
        user = UserFactory()
        results = race(
            lambda user=user, pixel=pixel: refresh_request(actor=user, pixel=pixel),
            lambda user=user, pixel=pixel: refresh_request(actor=user, pixel=pixel),
        )
        assert all(isinstance(result, PullRun) for result in results), results
        assert results[0].pk == results[1].pk
        assert PullRun.objects.filter(pixel=pixel).count() == 1


# --- partitions ------------------------------------------------------------------------


def pg_partitions() -> set[str]:
    return partitions.existing_partitions()


@pytest.mark.django_db(transaction=True)
def test_partitions_are_created_ahead_and_rows_move_out_of_default(postgresql_only):  # noqa: F811
    month = dt.date(2021, 3, 1)
    name = partitions.partition_name(month)
    assert name not in pg_partitions()
    pixel = demo()
    hour = dt.datetime(2021, 3, 10, 5, tzinfo=dt.UTC)
    HourlyStat.objects.create(
        pixel=pixel, event="Lead", source="total", hour=hour, count=4, pulled_at=hour
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM quality_hourlystat_default")
        assert cursor.fetchone()[0] == 1
    try:
        assert partitions.ensure_months(month, month) == [name]
        assert name in pg_partitions()
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM quality_hourlystat_default")
            assert cursor.fetchone()[0] == 0
            cursor.execute(f"SELECT count FROM {name}")  # noqa: S608
            assert cursor.fetchall() == [(4,)]
        assert HourlyStat.objects.get(pixel=pixel).count == 4
        assert partitions.ensure_months(month, month) == []  # idempotent
    finally:
        HourlyStat.objects.all().delete()
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {name}")


def test_the_current_and_next_months_exist(db):
    if connection.vendor != "postgresql":
        assert partitions.ensure_partitions() == []
        return
    today = dt.datetime.now(dt.UTC).date()
    partitions.ensure_partitions(months_ahead=2)
    names = pg_partitions()
    month = today.replace(day=1)
    for ahead in range(3):
        assert partitions.partition_name(partitions._add_months(month, ahead)) in names
    assert "quality_hourlystat_default" in names


# --- backfill ----------------------------------------------------------------------------


def backfill(*args: str) -> str:
    out = StringIO()
    call_command("stats_backfill", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_backfill_pulls_an_old_range_into_its_own_partition(db):
    pixel = demo(external_id="410000000000101")
    try:
        output = backfill(
            "--pixel", str(pixel.pk), "--start", "2022-05-30T22:00", "--end", "2022-06-01"
        )
        assert "Done: 468 hourly rows written." in output  # 26 h x 6 events x 3 sources = 468
        run = PullRun.objects.get()
        assert (run.kind, run.status, run.rows) == ("backfill", "succeeded", 468)
        assert HourlyStat.objects.filter(pixel=pixel).count() == 468
        if connection.vendor == "postgresql":
            names = pg_partitions()
            assert "quality_hourlystat_y2022m05" in names
            assert "quality_hourlystat_y2022m06" not in names  # the end is exclusive
    finally:
        HourlyStat.objects.all().delete()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("DROP TABLE IF EXISTS quality_hourlystat_y2022m05")
                cursor.execute("DROP TABLE IF EXISTS quality_hourlystat_y2022m06")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--start", "yesterday", "--end", "2026-01-02"], "is not an ISO 8601 date"),
        (["--start", "2026-01-02", "--end", "2026-01-01"], "--start must be before --end"),
        (["--start", "2026-01-01", "--end", "2026-01-01"], "--start must be before --end"),
    ],
)
def test_backfill_refuses_bad_dates(db, args, message):
    pixel = demo()
    with pytest.raises(CommandError, match=message):
        backfill("--pixel", str(pixel.pk), *args)
    assert not PullRun.objects.exists()


def test_backfill_refuses_an_unknown_pixel_and_an_active_pull(db):
    with pytest.raises(CommandError, match="no pixel with id 999999"):
        backfill("--pixel", "999999", "--start", "2026-01-01", "--end", "2026-01-02")
    pixel = demo()
    active = PullRunFactory(pixel=pixel, status="running")
    with pytest.raises(CommandError, match=f"already running \\(run {active.pk}\\)"):
        backfill("--pixel", str(pixel.pk), "--start", "2026-01-01", "--end", "2026-01-02")


def test_backfill_reports_a_failed_pull(db):
    pixel = PixelFactory()  # a Meta pixel without a token
    PixelConnectionFactory(pixel=pixel, provider="meta")
    with pytest.raises(CommandError, match="The backfill failed: No access token"):
        backfill("--pixel", str(pixel.pk), "--start", "2026-01-01", "--end", "2026-01-02")
    assert PixelConnection.objects.get(pixel=pixel).status == "broken"


def test_beat_runs_the_pull_jobs_and_they_are_registered(settings):
    from koastops.celery import app

    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {
        "koastops.quality.schedule_pulls",
        "koastops.quality.reap_stale_pulls",
        "koastops.quality.ensure_partitions",
    } <= tasks
    kinds = {
        entry.get("kwargs", {}).get("kind")
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
        if entry["task"] == "koastops.quality.schedule_pulls"
    }
    assert kinds == {"counts", "quality"}
    app.loader.import_default_modules()  # what a worker imports at start (CELERY_IMPORTS too)

    quality_tasks = {name for name in tasks if name.startswith("koastops.quality.")}
    for name in ("koastops.quality.pull_counts", "koastops.quality.pull_quality", *quality_tasks):
        assert name in app.tasks
    route = app.amqp.router.route({}, "koastops.quality.pull_counts")
    assert route["queue"].name == "pulls"
    assert app.amqp.router.route({}, "koastops.quality.schedule_pulls")["queue"].name == "default"


def test_the_latest_run_selector(db):
    from koastops.quality.pull_selectors import pull_run_history, pull_run_latest

    pixel = demo()
    assert pull_run_latest(pixel=pixel) is None
    PullRunFactory(pixel=pixel)
    newest = PullRunFactory(pixel=pixel, status="running")
    assert pull_run_latest(pixel=pixel) == newest
    history = pull_run_history(pixel=pixel)
    assert len(history) == 2
    assert history[0].pk == newest.pk
