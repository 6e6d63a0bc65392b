"""The Celery app of the SIGKILL test's worker (``celery -A tests.quality.slow_pull_worker``):
koastops's own app, whose pool processes hold a pull's write transaction open for
``SLOW_PULL_WRITE_SECONDS`` after the hourly rows are written, so the test can kill the
worker while that transaction is open. Test code only: nothing in koastops waits for it."""

from __future__ import annotations

import os
import time

from celery.signals import worker_process_init

from koastops.celery import app

__all__ = ["app"]


@worker_process_init.connect
def _slow_down_the_write(**_kwargs: object) -> None:
    from koastops.quality import pulling

    write_counts = pulling._write_counts
    pause = float(os.environ.get("SLOW_PULL_WRITE_SECONDS", "30"))

    def slow_write_counts(*args: object, **kwargs: object) -> None:
        write_counts(*args, **kwargs)
        time.sleep(pause)

    pulling._write_counts = slow_write_counts
