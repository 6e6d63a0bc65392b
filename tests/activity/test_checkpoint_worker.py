"""Beat's checkpoint task run by a real Celery worker on the configured broker (no eager
mode): the file appears in ACTIVITY_CHECKPOINT_DIR and verify_activity_log accepts it."""

from __future__ import annotations

import time

import celery.contrib.testing.tasks  # noqa: F401 -- registers celery.ping for the test worker
import pytest
from celery.contrib.testing.worker import start_worker
from django.db import transaction

from koastops.activity import tasks
from koastops.activity.services import activity_record, activity_verify
from koastops.celery import app as celery_app

WAIT_SECONDS = 20


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_writes_the_checkpoint(admin_user, brand, checkpoint_dir):
    with transaction.atomic():
        entry = activity_record(verb="brand.updated", actor=admin_user, target=brand, brand=brand)
    expected = checkpoint_dir / f"{entry.pk:012d}.json"
    with start_worker(
        celery_app, pool="solo", perform_ping_check=False, loglevel="WARNING", shutdown_timeout=10
    ):
        tasks.checkpoint_write.delay()
        deadline = time.monotonic() + WAIT_SECONDS
        while not expected.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
    assert expected.exists(), f"no checkpoint within {WAIT_SECONDS} s"
    result = activity_verify()
    assert (result.ok, result.checked, result.checkpoints) == (True, 1, 1)
