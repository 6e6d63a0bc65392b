"""Test checks for the runner's tests, and the Celery app of the SIGKILL test's worker
(``celery -A tests.launches.slow_check_worker``): koastops's own app, whose pool processes
register ``test.slow`` (when ``SLOW_CHECK_SECONDS`` is set), a check that sleeps ``SLOW_CHECK_SECONDS`` inside. With
``SLOW_CHECK_ONCE=<path>`` it sleeps only when that file does not exist yet (it creates
it first, with the pid of the pool process), so a redelivery after the kill passes at
once; ``test.crash`` kills its pool process each time. Test code only: nothing in
koastops registers these checks."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from celery.signals import worker_process_init

from koastops.celery import app

# Models are imported inside the functions: ``celery -A`` imports this module before
# Django is set up.
BLOCKING = "blocking"

__all__ = ["CRASH_KEY", "SLOW_KEY", "app", "extra_checks"]

SLOW_KEY = "test.slow"
CRASH_KEY = "test.crash"


def slow_check(ctx: Any) -> Any:
    from koastops.launches.checks.registry import Outcome

    once = os.environ.get("SLOW_CHECK_ONCE")
    if once:
        marker = Path(once)
        if marker.exists():
            return Outcome.passed("Fast on the second try.")
        marker.write_text(str(os.getpid()))  # the pool process: the test kills it
    time.sleep(float(os.environ.get("SLOW_CHECK_SECONDS", "30")))
    return Outcome.passed("Slow but fine.")


def crash_check(ctx: Any) -> Any:
    """Takes its worker process down, every time (a segfault, an OOM kill)."""
    os.kill(os.getpid(), signal.SIGKILL)


@contextlib.contextmanager
def extra_checks(
    checks: dict[str, Callable[[Any], Any]],
    *,
    severity: str = BLOCKING,
    keep: tuple[str, ...] = ("schedule.valid",),
) -> Iterator[None]:
    """For the block, the registry holds only the real checks in ``keep`` (the runner's
    tests are about running checks, not about what the real ones find on a bare launch),
    then ``checks`` (key → function). The whole registry is back afterwards."""
    from koastops.launches.checks import registry

    registry.all_checks()  # the real ones registered first
    saved = dict(registry._REGISTRY)
    registry._REGISTRY.clear()
    registry._REGISTRY.update({key: saved[key] for key in keep if key in saved})
    for key, fn in checks.items():
        registry._REGISTRY[key] = registry.Check(key, f"Test check {key}", str(severity), fn)
    try:
        yield
    finally:
        registry._REGISTRY.clear()
        registry._REGISTRY.update(saved)


@worker_process_init.connect
def _register_the_slow_check(**_kwargs: object) -> None:
    # Only in the test's worker processes: the in-process test worker (solo pool) sends
    # the same signal in the test process, which registers test checks per test.
    if "SLOW_CHECK_SECONDS" not in os.environ:
        return
    from koastops.launches.checks import registry

    registry.all_checks()
    registry._REGISTRY[SLOW_KEY] = registry.Check(
        SLOW_KEY, f"Test check {SLOW_KEY}", BLOCKING, slow_check
    )
    registry._REGISTRY[CRASH_KEY] = registry.Check(
        CRASH_KEY, f"Test check {CRASH_KEY}", BLOCKING, crash_check
    )
