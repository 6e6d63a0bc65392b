"""Pulls on real Celery workers: a refresh runs on the "pulls" queue, and a worker killed
with SIGKILL in the middle of the write leaves no half-written bucket, while the run ends
"failed" within the task's hard limit plus one reaper period; the next pull writes the
whole range."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection

from koastops.quality import pulling
from koastops.quality.models import HourlyStat, PullRun
from koastops.quality.pull_services import refresh_request
from koastops.quality.tasks import pull_counts_task, reap_stale_pulls
from tests.factories import PixelConnectionFactory, PixelFactory, UserFactory
from tests.system.test_task_deliveries import shared_database_url
from tests.system.test_worker import purge_broker, running_worker, wait_for


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_refresh_runs_on_a_worker_consuming_the_pulls_queue():
    pixel = PixelFactory(external_id="430000000000102")
    PixelConnectionFactory(pixel=pixel, provider="demo")
    with running_worker():
        run = refresh_request(actor=UserFactory(), pixel=pixel)

        def ended() -> bool:
            run.refresh_from_db()
            return not run.is_active

        assert wait_for(ended), "no worker ran the pull"
    assert run.status == "succeeded", run.error
    assert run.rows == HourlyStat.objects.filter(pixel=pixel).count() + 6  # + quality rows
    assert run.task_id


HARD_LIMIT = 6
MARGIN = 1
REAP_EVERY = 1


def start_worker(queues: str, *, app: str = "koastops", **env: str) -> subprocess.Popen:
    environment = {
        **os.environ,
        "DATABASE_URL": shared_database_url(),
        "DATABASE_POOL": "false",
        "QUALITY_PULL_TIME_LIMIT": str(HARD_LIMIT),
        "QUALITY_PULL_SOFT_TIME_LIMIT": str(HARD_LIMIT - 1),
        "QUALITY_PULL_REAP_MARGIN": str(MARGIN),
        **env,
    }
    return subprocess.Popen(  # noqa: S603 -- our own interpreter and arguments
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            app,
            "worker",
            "--pool=prefork",
            "--concurrency=1",
            "-Q",
            queues,
            "--loglevel=WARNING",
            "--without-heartbeat",
            "--without-mingle",
            "--without-gossip",
        ],
        cwd=Path(django_settings.BASE_DIR),
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        process_group=0,
    )


def stop(worker: subprocess.Popen, sig: int = signal.SIGTERM) -> str:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(worker.pid, sig)
    try:
        output, _ = worker.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)
        output, _ = worker.communicate()
    return output


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_sigkill_mid_pull_leaves_no_half_written_range_and_the_run_ends(settings):
    if connection.vendor != "postgresql":
        pytest.skip("needs a database a second process can share (the test SQLite is in memory)")
    settings.QUALITY_PULL_TIME_LIMIT = HARD_LIMIT
    settings.QUALITY_PULL_REAP_MARGIN = MARGIN
    pixel = PixelFactory(external_id="410000000000101")
    PixelConnectionFactory(pixel=pixel, provider="demo")
    end = pulling.floor_hour(dt.datetime.now(dt.UTC))
    start = end - dt.timedelta(days=2)
    run = PullRun.objects.create(pixel=pixel, kind="counts", range_start=start, range_end=end)
    purge_broker()

    # The first worker stops inside the write transaction (after the hourly upsert).
    first = start_worker(
        "pulls", app="tests.quality.slow_pull_worker", SLOW_PULL_WRITE_SECONDS="30"
    )
    output = ""
    try:
        pull_counts_task.delay(run.pk)

        def running() -> bool:
            run.refresh_from_db()
            return run.status == "running" and run.progress > 0

        assert wait_for(running, timeout=60), "the first worker did not start the pull"
        time.sleep(2)  # the fetch is instant: it is now paused in the write transaction
        run.refresh_from_db()
        assert run.status == "running"
        with connection.cursor() as cursor:  # the worker holds an open write transaction
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND state = 'idle in transaction' AND pid <> pg_backend_pid()"
            )
            assert cursor.fetchone()[0] >= 1
    finally:
        output += stop(first, signal.SIGKILL)
    killed_at = time.monotonic()
    assert not HourlyStat.objects.filter(pixel=pixel).exists(), "a half-written range"

    # Another worker; beat's reaper every REAP_EVERY seconds.
    second = start_worker("default,pulls", QUALITY_REAP_EVERY=str(REAP_EVERY))
    try:

        def ended() -> bool:
            reap_stale_pulls.delay()
            run.refresh_from_db()
            time.sleep(REAP_EVERY)
            return run.status == "failed"

        assert wait_for(ended, timeout=HARD_LIMIT + MARGIN + REAP_EVERY + 20), output
        waited = time.monotonic() - killed_at
        assert run.error.startswith("The worker stopped before the pull finished")
        # Definite within the hard limit + margin + one reaper period (+ worker start-up).
        assert waited < HARD_LIMIT + MARGIN + REAP_EVERY + 10
        assert not HourlyStat.objects.filter(pixel=pixel).exists()

        # The next pull reads the range again and writes all of it.
        again = PullRun.objects.create(pixel=pixel, kind="counts", range_start=start, range_end=end)
        pull_counts_task.delay(again.pk)

        def done() -> bool:
            again.refresh_from_db()
            return not again.is_active

        assert wait_for(done, timeout=30)
        assert again.status == "succeeded", again.error
        assert HourlyStat.objects.filter(pixel=pixel).count() == 48 * 6 * 3
    finally:
        output += stop(second)
        print(output)  # shown by pytest when the test fails
