"""Test checks for the runner's tests, and the Celery app of the SIGKILL test's worker
(``celery -A tests.launches.slow_check_worker``): koastops's own app, whose pool processes
register ``test.slow``, a check that sleeps ``SLOW_CHECK_SECONDS`` inside. With
``SLOW_CHECK_ONCE=<path>`` it sleeps only when that file does not exist yet (it creates
it first), so a redelivery after the kill passes at once. Test code only: nothing in
koastops registers these checks."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from celery.signals import worker_process_init

from koastops.celery import app
from koastops.launches.checks import registry
from koastops.launches.checks.registry import CheckContext, Outcome
from koastops.launches.models import Severity

__all__ = ["SLOW_KEY", "app", "extra_checks"]

SLOW_KEY = "test.slow"


def slow_check(ctx: CheckContext) -> Outcome:
    once = os.environ.get("SLOW_CHECK_ONCE")
    if once:
        marker = Path(once)
        if marker.exists():
            return Outcome.passed("Fast on the second try.")
        marker.write_text("started")
    time.sleep(float(os.environ.get("SLOW_CHECK_SECONDS", "30")))
    return Outcome.passed("Slow but fine.")


@contextlib.contextmanager
def extra_checks(
    checks: dict[str, Callable[[CheckContext], Outcome]], *, severity: str = Severity.BLOCKING
) -> Iterator[None]:
    """Register ``checks`` (key → function) after the real ones for the block."""
    registry.all_checks()  # the real ones first
    added = []
    for key, fn in checks.items():
        registry._REGISTRY[key] = registry.Check(key, f"Test check {key}", str(severity), fn)
        added.append(key)
    try:
        yield
    finally:
        for key in added:
            registry._REGISTRY.pop(key, None)


@worker_process_init.connect
def _register_the_slow_check(**_kwargs: object) -> None:
    registry.all_checks()
    registry._REGISTRY[SLOW_KEY] = registry.Check(
        SLOW_KEY, f"Test check {SLOW_KEY}", str(Severity.BLOCKING), slow_check
    )
