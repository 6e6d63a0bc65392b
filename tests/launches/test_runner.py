"""The check runner (``koastops.launches.runner``) through its tasks, run in this process
by Celery's ``apply`` (the ``enqueued`` fixture): fan-out, idempotency, errors, the attempts
bound, the soft time limit, the advisory lock, the reaper's bound and the post-launch
scheduling. The real-worker paths are in ``test_runner_worker.py``."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings as django_settings
from django.db import connection, connections
from django.utils import timezone

from koastops.accounts import policies
from koastops.accounts.models import Role
from koastops.launches import runner, services, tasks
from koastops.launches.checks import registry
from koastops.launches.checks.registry import Outcome
from koastops.launches.models import CheckResult, CheckRun, Launch
from tests.factories import CheckRunFactory, LaunchFactory, UserFactory
from tests.launches.slow_check_worker import extra_checks

pytestmark = pytest.mark.django_db

CALLS: list[str] = []


def passes(ctx):
    CALLS.append("pass")
    return Outcome.passed("Fine.")


def fails(ctx):
    CALLS.append("fail")
    return Outcome.fail("Broken: fix it.", where=["ad 1"])


def raises(ctx):
    CALLS.append("raise")
    raise RuntimeError("a bug in the check")


def too_slow(ctx):
    raise SoftTimeLimitExceeded()


@pytest.fixture(autouse=True)
def _calls():
    CALLS.clear()


def submitted(enqueued, django_capture_on_commit_callbacks):
    launch = LaunchFactory()
    buyer = launch.created_by
    policies.grant_role(buyer, launch.brand, Role.MEDIA_BUYER)
    with django_capture_on_commit_callbacks(execute=True):
        run = services.launch_submit(user=buyer, launch=launch, expected_version=1)
    return launch, run


def results(run):
    return {r.key: r for r in CheckResult.objects.filter(run=run)}


def test_submit_fans_out_one_task_per_check_and_the_last_ends_the_run(
    enqueued, django_capture_on_commit_callbacks
):
    with extra_checks({"test.pass": passes, "test.fail": fails}):
        launch, run = submitted(enqueued, django_capture_on_commit_callbacks)
        assert enqueued.names == [tasks.run_checks.name]
        assert enqueued.run() == [3]
        run.refresh_from_db()
        assert run.state == "running" and run.started_at and run.heartbeat_at
        assert [args for _, args, _ in enqueued.calls] == [
            (run.pk, "schedule.valid"),
            (run.pk, "test.pass"),
            (run.pk, "test.fail"),
        ]
        assert enqueued.names == [tasks.run_check.name] * 3
        statuses = enqueued.run()
    assert statuses == ["pass", "pass", "fail"]
    run.refresh_from_db()
    launch.refresh_from_db()
    assert (run.state, run.completed, run.total, run.blocking_failed) == ("done", 3, 3, 1)
    assert launch.state == "in_review"
    found = results(run)
    assert found["test.fail"].message == "Broken: fix it."
    assert found["test.fail"].details == {"where": ["ad 1"]}
    assert all(r.attempts == 1 and r.finished_at for r in found.values())


def test_the_same_check_task_twice_writes_and_counts_once(
    enqueued, django_capture_on_commit_callbacks
):
    with extra_checks({"test.pass": passes}):
        _, run = submitted(enqueued, django_capture_on_commit_callbacks)
        enqueued.run()
        enqueued.calls.clear()
        assert runner.execute_check(run.pk, "test.pass") == "pass"
        assert runner.execute_check(run.pk, "test.pass") is None  # redelivered
    run.refresh_from_db()
    assert run.completed == 1 and CALLS == ["pass"]
    assert results(run)["test.pass"].attempts == 1


def test_a_redelivered_run_checks_enqueues_only_what_is_unfinished(
    enqueued, django_capture_on_commit_callbacks
):
    with extra_checks({"test.pass": passes}):
        launch, run = submitted(enqueued, django_capture_on_commit_callbacks)
        enqueued.run()
        enqueued.calls.clear()
        runner.execute_check(run.pk, "test.pass")
        assert runner.start_run(run.pk) == 1  # redelivered: only schedule.valid again
        started_at = CheckRun.objects.get(pk=run.pk).started_at
        assert [args for _, args, _ in enqueued.calls] == [(run.pk, "schedule.valid")]
        enqueued.run()
        launch.refresh_from_db()
        assert launch.state == "in_review"
        version = launch.version
        # Once more after the end: nothing enqueued, nothing changed.
        assert runner.start_run(run.pk) == 0
        assert tasks.run_checks.apply(args=[run.pk]).result == 0
    run.refresh_from_db()
    launch.refresh_from_db()
    assert enqueued.calls == []
    assert run.state == "done" and run.completed == 2 and run.started_at == started_at
    assert launch.version == version and CALLS == ["pass"]


def test_a_run_no_longer_active_is_skipped(enqueued, django_capture_on_commit_callbacks):
    launch, run = submitted(enqueued, django_capture_on_commit_callbacks)
    launch.refresh_from_db()
    services.launch_cancel(user=launch.created_by, launch=launch, expected_version=launch.version)
    assert enqueued.run() == [0]
    assert enqueued.calls == []
    assert runner.execute_check(run.pk, "schedule.valid") is None
    assert results(run)["schedule.valid"].status == "pending"


def test_a_check_that_raises_is_an_error_and_the_others_go_on(
    enqueued, django_capture_on_commit_callbacks
):
    with extra_checks({"test.raise": raises, "test.pass": passes}):
        _, run = submitted(enqueued, django_capture_on_commit_callbacks)
        enqueued.run()
        assert enqueued.run() == ["pass", "error", "pass"]
    result = results(run)["test.raise"]
    assert result.status == "error"
    assert "could not run" in result.message and "a bug" not in result.message
    run.refresh_from_db()
    assert run.state == "done" and run.blocking_failed == 1


def test_a_soft_time_limit_inside_a_check_is_an_error_naming_the_limit(
    enqueued, django_capture_on_commit_callbacks, settings
):
    settings.LAUNCH_CHECK_SOFT_TIME_LIMIT = 7
    with extra_checks({"test.slow": too_slow}):
        _, run = submitted(enqueued, django_capture_on_commit_callbacks)
        enqueued.run()
        enqueued.run()
    result = results(run)["test.slow"]
    assert result.status == "error"
    assert "took longer than 7 s" in result.message


def test_the_check_task_carries_the_launch_time_limits():
    assert tasks.run_check.soft_time_limit == django_settings.LAUNCH_CHECK_SOFT_TIME_LIMIT
    assert tasks.run_check.time_limit == django_settings.LAUNCH_CHECK_TIME_LIMIT
    assert (
        django_settings.LAUNCH_CHECK_SOFT_TIME_LIMIT
        < django_settings.LAUNCH_CHECK_TIME_LIMIT
        <= django_settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout", 10**9)
    )
    assert runner.MAX_CHECK_ATTEMPTS < django_settings.CELERY_TASK_MAX_DELIVERIES


def test_a_check_whose_executions_kept_dying_ends_error_without_running(
    enqueued, django_capture_on_commit_callbacks
):
    with extra_checks({"test.pass": passes}):
        _, run = submitted(enqueued, django_capture_on_commit_callbacks)
        enqueued.run()
        enqueued.calls.clear()
        # One execution died (running, attempts 1): the redelivery runs it again.
        CheckResult.objects.filter(run=run, key="test.pass").update(status="running", attempts=1)
        assert runner.execute_check(run.pk, "test.pass") == "pass"
        assert results(run)["test.pass"].attempts == 2
        # Two died: the next delivery records an error instead of a third try.
        CheckResult.objects.filter(run=run, key="test.pass").update(status="running", attempts=2)
        CALLS.clear()
        assert runner.execute_check(run.pk, "test.pass") == "error"
    result = results(run)["test.pass"]
    assert CALLS == []
    assert result.status == "error" and "stopped its worker 2 times" in result.message


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_a_duplicate_delivered_while_a_worker_executes_the_check_skips_it(
    enqueued, django_capture_on_commit_callbacks
):
    with extra_checks({"test.pass": passes}):
        _, run = submitted(enqueued, django_capture_on_commit_callbacks)
        enqueued.run()
        enqueued.calls.clear()
        result = results(run)["test.pass"]
        held, release = threading.Event(), threading.Event()

        def other_worker():  # its own connection, as another worker's would be
            try:
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT pg_advisory_lock(%s, %s)", [runner._LOCK_NAMESPACE, result.pk]
                    )
                    held.set()
                    release.wait(10)
                    cursor.execute(
                        "SELECT pg_advisory_unlock(%s, %s)", [runner._LOCK_NAMESPACE, result.pk]
                    )
            finally:
                connections.close_all()

        thread = threading.Thread(target=other_worker)
        thread.start()
        try:
            assert held.wait(10)
            assert runner.execute_check(run.pk, "test.pass") is None
            assert CALLS == [] and results(run)["test.pass"].attempts == 0
        finally:
            release.set()
            thread.join()
        assert runner.execute_check(run.pk, "test.pass") == "pass"  # the lock went with it


# --- the reaper ---------------------------------------------------------------------------


def bound_seconds():
    return django_settings.LAUNCH_CHECK_TIME_LIMIT + django_settings.LAUNCH_RUN_REAP_MARGIN


def test_the_reaper_ends_a_silent_running_run_in_error_past_the_bound_only(
    enqueued, django_capture_on_commit_callbacks
):
    launch, run = submitted(enqueued, django_capture_on_commit_callbacks)
    enqueued.run()
    enqueued.calls.clear()
    now = timezone.now()
    CheckRun.objects.filter(pk=run.pk).update(
        heartbeat_at=now - dt.timedelta(seconds=bound_seconds() - 1)
    )
    assert runner.reap_stale_runs(now=now) == 0
    run.refresh_from_db()
    assert run.state == "running"
    CheckRun.objects.filter(pk=run.pk).update(
        heartbeat_at=now - dt.timedelta(seconds=bound_seconds() + 1)
    )
    assert tasks.reap_stale_runs.apply().result == 1
    run.refresh_from_db()
    launch.refresh_from_db()
    assert run.state == "error" and run.message == runner.REAPED_MESSAGE and run.finished_at
    result = results(run)["schedule.valid"]
    assert result.status == "error" and result.message == runner.REAPED_MESSAGE
    assert launch.state == "in_review"  # review was asked for: the reviewer sees the error
    # The check task delivered afterwards changes nothing.
    assert runner.execute_check(run.pk, "schedule.valid") is None
    assert runner.reap_stale_runs() == 0


def test_the_reaper_ends_a_run_never_picked_up_and_a_rerun_goes_to_needs_changes(
    enqueued, django_capture_on_commit_callbacks
):
    launch = LaunchFactory()
    buyer = launch.created_by
    policies.grant_role(buyer, launch.brand, Role.MEDIA_BUYER)
    run = services.launch_rerun_checks(user=buyer, launch=launch, expected_version=1)
    old = timezone.now() - dt.timedelta(seconds=bound_seconds() + 1)
    fresh = CheckRunFactory(state="queued")  # another launch's, just created
    CheckRun.objects.filter(pk=run.pk).update(created_at=old)
    assert runner.reap_stale_runs() == 1
    run.refresh_from_db()
    fresh.refresh_from_db()
    launch.refresh_from_db()
    assert run.state == "error" and fresh.state == "queued"
    assert launch.state == "needs_changes"
    assert not CheckRun.objects.filter(pk=run.pk, state__in=["queued", "running"]).exists()


def test_the_reaper_reads_stale_runs_in_one_query(django_assert_max_num_queries):
    for _ in range(3):
        CheckRunFactory(state="running", heartbeat_at=timezone.now())
    with django_assert_max_num_queries(1):
        assert runner.reap_stale_runs() == 0


# --- post-launch scheduling ---------------------------------------------------------------


def launched(**kwargs):
    now = timezone.now()
    submitter = UserFactory()
    fields = {
        "state": "launched",
        "submitted_by": submitter,
        "launched_at": now - dt.timedelta(days=1),
        "monitor_until": now + dt.timedelta(days=13),
        "start_at": now - dt.timedelta(days=1),
        **kwargs,
    }
    return LaunchFactory(**fields)


def test_post_launch_runs_are_scheduled_once_a_day_for_monitored_launches_only(
    enqueued, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    now = timezone.now()
    due = launched()
    ran_today = launched()
    CheckRunFactory(launch=ran_today, trigger="post_launch", state="done")
    ran_yesterday = launched()
    yesterday = CheckRunFactory(launch=ran_yesterday, trigger="post_launch", state="done")
    CheckRun.objects.filter(pk=yesterday.pk).update(created_at=now - dt.timedelta(days=1))
    launched(monitor_until=now - dt.timedelta(minutes=1))  # monitoring over
    LaunchFactory(state="approved")  # not live
    with django_assert_max_num_queries(1):
        found = runner.post_launch_due(now)
    assert found == sorted([due.pk, ran_yesterday.pk])

    assert tasks.schedule_post_launch.apply().result == 2
    assert enqueued.names == [tasks.post_launch_run.name] * 2
    with django_capture_on_commit_callbacks(execute=True):
        created = enqueued.run()
    run = CheckRun.objects.get(pk=created[0])
    assert run.trigger == "post_launch" and run.run_as_id == due.submitted_by_id
    assert run.total == len(registry.all_checks())
    assert enqueued.names == [tasks.run_checks.name] * 2
    # The same day again: nothing due; a redelivered post_launch_run adds no second run.
    assert runner.post_launch_due() == []
    assert tasks.post_launch_run.apply(args=[due.pk]).result is None
    assert CheckRun.objects.filter(launch=due).count() == 1
    assert tasks.post_launch_run.apply(args=[10**9]).result is None  # no such launch
    assert Launch.objects.get(pk=due.pk).state == "launched"


def test_the_beat_schedule_runs_the_reaper_and_the_daily_post_launch_runs():
    schedule = {entry["task"]: entry for entry in django_settings.CELERY_BEAT_SCHEDULE.values()}
    assert schedule[tasks.reap_stale_runs.name]["schedule"] == float(
        django_settings.LAUNCH_REAP_EVERY
    )
    assert tasks.schedule_post_launch.name in schedule


@pytest.mark.django_db(transaction=True)
def test_a_cancel_racing_the_last_check_neither_deadlocks_nor_leaves_a_run_active(enqueued):
    if connection.vendor != "postgresql":
        pytest.skip("the race needs PostgreSQL's concurrent transactions")
    from tests.factories import _market

    _market("DE")
    for _ in range(25):
        launch = LaunchFactory()
        policies.grant_role(launch.created_by, launch.brand, Role.MEDIA_BUYER)
        run = services.launch_submit(user=launch.created_by, launch=launch, expected_version=1)
        runner.start_run(run.pk)
        barrier = threading.Barrier(2)
        errors: list[BaseException] = []

        def cancel(launch=launch, barrier=barrier, errors=errors):
            try:
                barrier.wait(10)
                fresh = Launch.objects.get(pk=launch.pk)
                services.launch_cancel(
                    user=fresh.created_by, launch=fresh, expected_version=fresh.version
                )
            except BaseException as exc:  # reported below
                errors.append(exc)
            finally:
                connections.close_all()

        def last_check(run=run, barrier=barrier, errors=errors):
            try:
                barrier.wait(10)
                runner.execute_check(run.pk, "schedule.valid")
            except BaseException as exc:  # reported below
                errors.append(exc)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=cancel), threading.Thread(target=last_check)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert errors == []
        run.refresh_from_db()
        launch.refresh_from_db()
        assert launch.state == "cancelled"
        assert run.state in ("cancelled", "done")
    assert not CheckRun.objects.filter(state__in=["queued", "running"]).exists()
