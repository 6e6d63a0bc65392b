"""The background pipeline end to end: web → broker → a real Celery worker → database.

No ``task_always_eager``: a real worker runs in a thread of the test process and
consumes from the configured broker (the filesystem transport by default, Redis in CI).
The tests use committed transactions, because the view enqueues on commit and the
worker reads the row through its own database connection.
"""

from __future__ import annotations

import shutil
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import celery.contrib.testing.tasks  # noqa: F401 -- registers celery.ping for the test worker
import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.urls import reverse

from koastops.celery import app as celery_app
from koastops.system import tasks
from koastops.system.models import WorkerPing
from tests.factories import WorkerPingFactory

WORKER_WAIT_SECONDS = 20


def purge_broker() -> None:
    """Drop messages left over from earlier runs, so the worker only sees this test's."""
    options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    folder = options.get("data_folder_in")
    if folder:
        # The filesystem transport keeps one file per message; purge is not reliable there.
        for entry in Path(folder).iterdir():
            if entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
    else:
        celery_app.control.purge()


@contextmanager
def running_worker() -> Iterator[object]:
    """A real worker (solo pool) in a thread of this process, on the configured broker,
    consuming the queues production workers consume (``-Q default,pulls``)."""
    purge_broker()
    with start_worker(
        celery_app,
        queues=["default", "pulls"],
        pool="solo",
        perform_ping_check=False,
        loglevel="WARNING",
        shutdown_timeout=10,
    ) as worker:
        yield worker


def wait_for(condition: Callable[[], bool], *, timeout: float = WORKER_WAIT_SECONDS) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


@pytest.fixture
def celery_worker():
    with running_worker() as worker:
        yield worker


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_ping_from_the_system_page_is_answered_by_a_real_worker(celery_worker, admin_client):
    response = admin_client.post(reverse("system:ping_create"))
    assert response.status_code == 302
    ping = WorkerPing.objects.get()

    def answered() -> bool:
        ping.refresh_from_db()
        return ping.status == WorkerPing.Status.DONE

    assert wait_for(answered), f"no worker answered the ping within {WORKER_WAIT_SECONDS} s"
    assert ping.worker_hostname == socket.gethostname()
    assert ping.completed_at is not None
    assert ping.completed_at >= ping.created_at
    assert ping.round_trip_seconds is not None


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_redelivered_ping_keeps_its_first_completion(celery_worker, admin_user):
    ping = WorkerPingFactory(requested_by=admin_user)

    tasks.worker_ping.delay(ping.pk)

    def done() -> bool:
        ping.refresh_from_db()
        return ping.status == WorkerPing.Status.DONE

    assert wait_for(done), f"no worker answered the ping within {WORKER_WAIT_SECONDS} s"
    first_completed_at = ping.completed_at

    # The same message again (acks_late redelivery after a lost worker).
    tasks.worker_ping.delay(ping.pk)
    tasks.worker_ping.delay(ping.pk)
    # A ping queued after the duplicates shows they have all been consumed.
    marker = WorkerPingFactory(requested_by=admin_user)
    tasks.worker_ping.delay(marker.pk)

    def marker_done() -> bool:
        marker.refresh_from_db()
        return marker.status == WorkerPing.Status.DONE

    assert wait_for(marker_done), "the worker stopped consuming"
    ping.refresh_from_db()
    assert ping.status == WorkerPing.Status.DONE
    assert ping.completed_at == first_completed_at
    assert WorkerPing.objects.filter(status=WorkerPing.Status.PENDING).count() == 0
