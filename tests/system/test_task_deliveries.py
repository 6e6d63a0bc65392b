"""A task run whose worker dies is redelivered (acks_late + reject_on_worker_lost), but
only CELERY_TASK_MAX_DELIVERIES times: past that the run is given up, not run again.

The bounding logic is tested here through Celery's ``apply`` (the same base class a worker
runs), with earlier deliveries whose worker died simulated by their counted-but-never-
returned rows; ``test_a_task_that_kills_its_worker_is_given_up`` proves it end to end with
a real prefork worker whose pool process the task kills.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from celery import states
from django.conf import settings as django_settings
from django.db import connection

from koastops.system import services
from koastops.system.models import TaskDelivery, WorkerPing
from koastops.system.tasks import worker_ping
from tests.factories import WorkerPingFactory
from tests.system.test_worker import purge_broker, wait_for


def died(task_id: str, times: int, *, retries: int = 0) -> None:
    """Deliveries of the run whose worker died: counted at start, never returned."""
    for _ in range(times):
        services.task_delivery_count(key=f"{task_id}:{retries}", task_name=worker_ping.name)


def test_a_run_that_returns_leaves_no_delivery_row(admin_user):
    ping = WorkerPingFactory(requested_by=admin_user)
    result = worker_ping.apply(args=[ping.pk], task_id="ping-run")
    assert result.state == states.SUCCESS
    ping.refresh_from_db()
    assert ping.status == WorkerPing.Status.DONE
    assert not TaskDelivery.objects.exists()


def test_a_run_redelivered_after_worker_deaths_runs_up_to_the_limit(admin_user, settings):
    settings.CELERY_TASK_MAX_DELIVERIES = 3
    ping = WorkerPingFactory(requested_by=admin_user)
    died("ping-run", 2)

    result = worker_ping.apply(args=[ping.pk], task_id="ping-run")  # third delivery

    assert result.state == states.SUCCESS
    ping.refresh_from_db()
    assert ping.status == WorkerPing.Status.DONE
    assert not TaskDelivery.objects.exists()


def test_past_the_limit_the_run_is_given_up_and_logged(admin_user, settings, caplog):
    settings.CELERY_TASK_MAX_DELIVERIES = 3
    ping = WorkerPingFactory(requested_by=admin_user)
    died("ping-run", 3)

    with caplog.at_level(logging.ERROR, logger="koastops.celery"):
        result = worker_ping.apply(args=[ping.pk], task_id="ping-run")  # fourth delivery

    assert result.state == states.REJECTED
    ping.refresh_from_db()
    assert ping.status == WorkerPing.Status.PENDING  # the task body did not run
    row = TaskDelivery.objects.get()
    assert (row.key, row.task_name, row.deliveries) == ("ping-run:0", worker_ping.name, 4)
    assert row.given_up_at is not None
    assert "delivered 4 times (limit 3)" in caplog.text
    assert "ping-run" in caplog.text


def test_each_retry_of_a_run_counts_its_own_deliveries(admin_user, settings):
    settings.CELERY_TASK_MAX_DELIVERIES = 1
    ping = WorkerPingFactory(requested_by=admin_user)
    died("ping-run", 1, retries=0)  # the first attempt killed its worker once

    # A retry is a new message (same task id, retries + 1): its own count starts at one.
    result = worker_ping.apply(args=[ping.pk], task_id="ping-run", retries=1)

    assert result.state == states.SUCCESS
    assert list(TaskDelivery.objects.values_list("key", flat=True)) == ["ping-run:0"]


def test_deliveries_are_counted_until_the_run_returns(db):
    assert services.task_delivery_count(key="run:0", task_name="x") == 1
    assert services.task_delivery_count(key="run:0", task_name="x") == 2
    services.task_delivery_forget(key="run:0")
    assert not TaskDelivery.objects.exists()


# --- a real worker ---------------------------------------------------------------------


def shared_database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_task_that_kills_its_worker_is_given_up(admin_user):
    if connection.vendor != "postgresql":
        pytest.skip("needs a database a second process can share (the test SQLite is in memory)")
    from tests.system import crashing_tasks

    purge_broker()
    env = {
        **os.environ,
        "DATABASE_URL": shared_database_url(),
        "DATABASE_POOL": "false",
        "CELERY_TASK_MAX_DELIVERIES": "2",
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "koastops",
            "worker",
            "--pool=prefork",
            "--concurrency=1",
            "--include=tests.system.crashing_tasks",
            "--loglevel=WARNING",
            "--without-heartbeat",
            "--without-mingle",
            "--without-gossip",
        ],
        cwd=Path(django_settings.BASE_DIR),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        process_group=0,
    )
    try:
        task_id = str(uuid.uuid4())
        crashing_tasks.kill_own_worker.apply_async(task_id=task_id)

        def given_up() -> bool:
            return TaskDelivery.objects.filter(
                key=f"{task_id}:0", given_up_at__isnull=False
            ).exists()

        assert wait_for(given_up, timeout=90), "the run was not given up"
        row = TaskDelivery.objects.get(key=f"{task_id}:0")
        assert row.deliveries == 3  # two deliveries killed their pool process, then refused

        # The worker is still serving, and the refused message is not delivered again.
        ping = WorkerPingFactory(requested_by=admin_user)
        worker_ping.delay(ping.pk)

        def answered() -> bool:
            ping.refresh_from_db()
            return ping.status == WorkerPing.Status.DONE

        assert wait_for(answered, timeout=30), "the worker stopped consuming"
        assert TaskDelivery.objects.get(key=f"{task_id}:0").deliveries == 3
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            output, _ = worker.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            output, _ = worker.communicate()
        print(output)  # shown by pytest when the test fails
