"""A task that kills the worker process running it, for the delivery-bound test. Loaded
only by the worker that test starts (``celery worker --include``)."""

from __future__ import annotations

import os

from celery import shared_task


@shared_task(name="tests.system.kill_own_worker")
def kill_own_worker() -> None:
    os._exit(1)  # as an OOM kill or a segfault would: no exception, no acknowledgement
