"""The check runner on real Celery workers against the configured broker: a submitted
launch's checks run on a worker and the launch reaches review with every result final;
a worker SIGKILLed in the middle of a check leads to completion on redelivery (only its
pool process killed) or to a definite "error" within the reaper's bound (the whole worker
killed: its message stays unacknowledged), never a run left "running"."""

from __future__ import annotations

import os
import signal
import time

import pytest
from django.db import connection

from koastops.accounts import policies
from koastops.accounts.models import Role
from koastops.launches import runner, services
from koastops.launches.checks.registry import Outcome
from koastops.launches.models import CheckResult, CheckRun, Launch
from koastops.launches.tasks import reap_stale_runs
from tests.factories import LaunchFactory, _market
from tests.launches.slow_check_worker import (
    CRASH_KEY,
    SLOW_KEY,
    crash_check,
    extra_checks,
    slow_check,
)
from tests.quality.test_pulls_worker import start_worker, stop
from tests.system.test_worker import purge_broker, running_worker, wait_for

HARD_LIMIT = 6
MARGIN = 1
REAP_EVERY = 1
WORKER_APP = "tests.launches.slow_check_worker"


def advisory(ctx):
    return Outcome.warn("Advisory: worth a look.", seen=True)


def submit():
    _market("DE")  # reference data: gone after an earlier transactional test's flush
    launch = LaunchFactory()
    buyer = launch.created_by
    policies.grant_role(buyer, launch.brand, Role.MEDIA_BUYER)
    run = services.launch_submit(user=buyer, launch=launch, expected_version=1)
    return launch, run


def no_run_left_active() -> bool:
    return not CheckRun.objects.filter(state__in=["queued", "running"]).exists()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_submitted_launch_is_checked_by_a_worker_and_reaches_review():
    with extra_checks({"test.advisory": advisory}), running_worker():
        launch, run = submit()

        def reviewed() -> bool:
            launch.refresh_from_db()
            return launch.state == "in_review"

        assert wait_for(reviewed), f"the worker did not run the checks: {launch.state}"
    run.refresh_from_db()
    results = {r.key: r for r in CheckResult.objects.filter(run=run)}
    assert set(results) == {"schedule.valid", "test.advisory"}
    assert all(r.is_final and r.attempts == 1 and r.finished_at for r in results.values())
    assert results["test.advisory"].status == "warn"
    assert results["test.advisory"].details == {"seen": True}
    assert (run.state, run.completed, run.total, run.warned) == ("done", 2, 2, 1)
    assert run.started_at <= run.finished_at
    assert no_run_left_active()


def _worker_env(**env: str) -> dict[str, str]:
    return {
        "LAUNCH_CHECK_TIME_LIMIT": str(HARD_LIMIT),
        "LAUNCH_CHECK_SOFT_TIME_LIMIT": str(HARD_LIMIT - 1),
        "LAUNCH_RUN_REAP_MARGIN": str(MARGIN),
        **env,
    }


def _wait_until_the_slow_check_runs(run, worker) -> None:
    def running() -> bool:
        return CheckResult.objects.filter(run=run, key=SLOW_KEY, status="running").exists()

    assert wait_for(running, timeout=60), "the worker did not start the slow check"


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_sigkill_of_the_whole_worker_ends_the_run_in_error_within_the_bound(settings, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("needs a database a second process can share (the test SQLite is in memory)")
    settings.LAUNCH_CHECK_TIME_LIMIT = HARD_LIMIT
    settings.LAUNCH_RUN_REAP_MARGIN = MARGIN
    purge_broker()
    output = ""
    with extra_checks({SLOW_KEY: slow_check}):
        # The first worker's limits are long: it is killed, not timed out.
        first = start_worker(
            "default",
            app=WORKER_APP,
            SLOW_CHECK_SECONDS="60",
            LAUNCH_CHECK_TIME_LIMIT="120",
            LAUNCH_CHECK_SOFT_TIME_LIMIT="110",
        )
        try:
            launch, run = submit()
            _wait_until_the_slow_check_runs(run, first)
            time.sleep(1)
        finally:
            output += stop(first, signal.SIGKILL)  # the main process and its pool
        killed_at = time.monotonic()
        run.refresh_from_db()
        assert run.state == "running"

        second = start_worker("default", app=WORKER_APP, **_worker_env())
        try:

            def ended() -> bool:
                reap_stale_runs.delay()
                time.sleep(REAP_EVERY)
                run.refresh_from_db()
                return run.state != "running"

            assert wait_for(ended, timeout=HARD_LIMIT + MARGIN + REAP_EVERY + 30), output
            waited = time.monotonic() - killed_at
        finally:
            output += stop(second)
    print(output)  # shown when the test fails
    assert run.state == "error" and run.message == runner.REAPED_MESSAGE
    # Definite within the hard limit + margin + one reaper period (+ worker start-up).
    assert waited < HARD_LIMIT + MARGIN + REAP_EVERY + 15, waited
    slow = CheckResult.objects.get(run=run, key=SLOW_KEY)
    assert slow.status == "error" and slow.message == runner.REAPED_MESSAGE
    assert CheckResult.objects.get(run=run, key="schedule.valid").status == "pass"
    launch.refresh_from_db()
    assert launch.state == "in_review"  # the reviewer sees the error; a re-run is offered
    assert no_run_left_active()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_sigkill_of_the_pool_process_completes_the_run_on_redelivery(settings, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("needs a database a second process can share (the test SQLite is in memory)")
    purge_broker()
    marker = tmp_path / "slow-check-started"
    output = ""
    with extra_checks({SLOW_KEY: slow_check}):
        worker = start_worker(
            "default",
            app=WORKER_APP,
            SLOW_CHECK_SECONDS="60",
            SLOW_CHECK_ONCE=str(marker),
            **_worker_env(LAUNCH_CHECK_TIME_LIMIT="120", LAUNCH_CHECK_SOFT_TIME_LIMIT="110"),
        )
        try:
            launch, run = submit()
            _wait_until_the_slow_check_runs(run, worker)
            assert wait_for(lambda: marker.exists() and marker.read_text(), timeout=10)
            pool_pid = int(marker.read_text())
            assert pool_pid != worker.pid
            os.kill(pool_pid, signal.SIGKILL)  # the pool process; the worker lives on

            def ended() -> bool:
                run.refresh_from_db()
                return run.state != "running"

            assert wait_for(ended, timeout=60), "the check was not redelivered"
        finally:
            output += stop(worker)
    print(output)
    assert run.state == "done", (run.state, run.message)
    slow = CheckResult.objects.get(run=run, key=SLOW_KEY)
    assert (slow.status, slow.attempts) == ("pass", 2)
    assert slow.message == "Fast on the second try."
    assert run.completed == run.total == 2
    launch.refresh_from_db()
    assert launch.state == "in_review"
    assert Launch.objects.get(pk=launch.pk).current_run_id == run.pk
    assert no_run_left_active()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_check_that_kills_its_worker_every_time_ends_error_after_the_attempts_bound():
    if connection.vendor != "postgresql":
        pytest.skip("needs a database a second process can share (the test SQLite is in memory)")
    purge_broker()
    output = ""
    with extra_checks({CRASH_KEY: crash_check}):
        worker = start_worker("default", app=WORKER_APP, **_worker_env(SLOW_CHECK_SECONDS="1"))
        try:
            launch, run = submit()

            def ended() -> bool:
                run.refresh_from_db()
                return run.state != "running" and run.state != "queued"

            assert wait_for(ended, timeout=90), "the run did not end"
        finally:
            output += stop(worker)
    print(output)
    crashed = CheckResult.objects.get(run=run, key=CRASH_KEY)
    assert run.state == "done", (run.state, run.message)
    assert crashed.status == "error", crashed.message
    assert crashed.attempts == runner.MAX_CHECK_ATTEMPTS
    assert f"stopped its worker {runner.MAX_CHECK_ATTEMPTS} times" in crashed.message
    assert CheckResult.objects.get(run=run, key="schedule.valid").status == "pass"
    launch.refresh_from_db()
    assert launch.state == "in_review"
    assert no_run_left_active()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_check_past_the_soft_time_limit_ends_error_naming_the_limit():
    if connection.vendor != "postgresql":
        pytest.skip("needs a database a second process can share (the test SQLite is in memory)")
    purge_broker()
    output = ""
    with extra_checks({SLOW_KEY: slow_check}):
        worker = start_worker(
            "default",
            app=WORKER_APP,
            **_worker_env(SLOW_CHECK_SECONDS="60", LAUNCH_CHECK_SOFT_TIME_LIMIT="2"),
        )
        try:
            launch, run = submit()
            started = time.monotonic()

            def ended() -> bool:
                run.refresh_from_db()
                return run.state not in ("queued", "running")

            assert wait_for(ended, timeout=60), "the run did not end"
            took = time.monotonic() - started
        finally:
            output += stop(worker)
    print(output)
    slow = CheckResult.objects.get(run=run, key=SLOW_KEY)
    assert (run.state, slow.status, slow.attempts) == ("done", "error", 1)
    assert "took longer than 2 s" in slow.message
    assert took < HARD_LIMIT + 20  # the soft limit stopped it, not the 60 s sleep
    launch.refresh_from_db()
    assert launch.state == "in_review"
