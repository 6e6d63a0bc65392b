"""The CRM conversion import task (its own module, not ``tasks.py``: listed in
``CELERY_IMPORTS`` so the worker registers it)."""

from __future__ import annotations

from celery import shared_task

from koastops.celery import KoastopsTask


@shared_task(
    name="koastops.quality.conversion_import",
    bind=True,
    base=KoastopsTask,
    soft_time_limit=1800,
    time_limit=1900,
)
def conversion_import(self, import_id: int) -> str:
    """Run one uploaded import (idempotent: a finished import is left as it is); its
    final status."""
    from koastops.quality.conversion_services import conversion_import_run

    return conversion_import_run(import_id).status
