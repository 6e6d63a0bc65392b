"""The check runner: a run's checks execute as Celery tasks, one task per check, in
parallel on the workers, each result written as it completes.

- ``start_run`` (task ``run_checks``): a run no longer active is skipped; else it is
  marked running and one ``run_check`` task is enqueued per result not final yet. A
  redelivered ``run_checks`` enqueues the unfinished checks again: harmless, see below.
- ``execute_check`` (task ``run_check``): one check. Idempotent: a result already final,
  or a run no longer active, is left alone; the outcome is written with a conditional
  update (only over a result not final yet), so a duplicate delivery never writes twice
  or counts twice. While a check executes, its worker holds a PostgreSQL session advisory
  lock on the result: a duplicate delivered meanwhile skips it, while a redelivery after
  that worker died (its connection, and the lock, gone) executes it again. A result whose
  executions all took their worker down ends "error" after ``MAX_CHECK_ATTEMPTS`` instead
  of taking another worker down. The last check to finish ends the run
  (``services.run_finished``: idempotent, so two last checks finishing together are fine).
- ``reap_stale_runs`` (beat): an active run whose heartbeat (queued: its creation) is older
  than ``LAUNCH_CHECK_TIME_LIMIT + LAUNCH_RUN_REAP_MARGIN`` ends "error"
  (``services.run_errored``). So a killed worker leads to completion on redelivery or to a
  definite "error" within that bound: never a run stuck "running".
- ``schedule_post_launch`` (beat, daily): one post-launch run per monitored launch a day.
- ``run_inline``: every check in this process, in order (seed_demo and tests).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import logging
from collections.abc import Iterator
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from koastops.launches import selectors
from koastops.launches.checks import registry
from koastops.launches.models import (
    ACTIVE_RUN_STATES,
    FINAL_CHECK_STATUSES,
    CheckResult,
    CheckRun,
    CheckStatus,
    Launch,
    LaunchState,
    RunState,
    RunTrigger,
)

logger = logging.getLogger(__name__)

# Executions of one check that may end without writing its result (each took its worker
# down: SIGKILL, OOM, segfault) before the next delivery records "error" instead of
# running it again. Below CELERY_TASK_MAX_DELIVERIES (3), so the result says why rather
# than the delivery bound silently dropping the task.
MAX_CHECK_ATTEMPTS = 2
REAPED_MESSAGE = "A worker stopped while running the checks: re-run them."
# The advisory-lock namespace of "a worker is executing this check result" (pg two-key form).
_LOCK_NAMESPACE = 0x4C43  # "LC"

PENDING_STATUSES = (CheckStatus.PENDING, CheckStatus.RUNNING)


def soft_limit_message() -> str:
    return (
        f"This check took longer than {settings.LAUNCH_CHECK_SOFT_TIME_LIMIT} s and was "
        "stopped. Re-run the checks; if it happens again, tell an admin."
    )


def crashed_message(attempts: int) -> str:
    return (
        f"This check stopped its worker {attempts} times and was not run again. "
        "Re-run the checks; if it happens again, tell an admin."
    )


def run_inline(run_id: int) -> None:
    """Execute every pending check of the run in this process, in order, then end the run
    (``services.run_finished``). No Celery: seed_demo and tests."""
    from koastops.launches import services

    run = CheckRun.objects.select_related("run_as").get(pk=run_id)
    launch = selectors.with_structure(Launch.objects.filter(pk=run.launch_id)).get()
    ctx = registry.CheckContext(launch=launch, run_as=run.run_as, now=timezone.now())
    CheckRun.objects.filter(pk=run_id, state="queued").update(
        state="running", started_at=ctx.now, heartbeat_at=ctx.now
    )
    for result in CheckResult.objects.filter(run=run).exclude(status__in=FINAL_CHECK_STATUSES):
        outcome = registry.evaluate(registry.get(result.key), ctx)
        with transaction.atomic():
            CheckResult.objects.filter(pk=result.pk).update(
                status=outcome.status,
                message=outcome.message,
                details=outcome.details,
                attempts=result.attempts + 1,
                started_at=ctx.now,
                finished_at=timezone.now(),
            )
    services.run_finished(run_id=run_id)


# --- on the workers -----------------------------------------------------------------------


def start_run(run_id: int) -> int:
    """Mark the run running and fan its unfinished checks out, one ``run_check`` task each;
    the number enqueued. A run no longer active (cancelled, errored, done) is skipped."""
    from koastops.launches import services, tasks

    now = timezone.now()
    started = CheckRun.objects.filter(pk=run_id, state__in=ACTIVE_RUN_STATES).update(
        state=RunState.RUNNING, started_at=Coalesce(F("started_at"), now), heartbeat_at=now
    )
    if not started:
        return 0
    keys = list(
        CheckResult.objects.filter(run_id=run_id)
        .exclude(status__in=FINAL_CHECK_STATUSES)
        .order_by("position", "pk")
        .values_list("key", flat=True)
    )
    if not keys:  # every result final already (a redelivery after the last check)
        services.run_finished(run_id=run_id)
        return 0
    for key in keys:
        tasks.run_check.delay(run_id, key)
    return len(keys)


@contextlib.contextmanager
def _executing(result_id: int) -> Iterator[bool]:
    """Whether this worker may execute the result: False while another live worker holds
    it. A session lock (not a transaction's: no transaction stays open while the check
    runs); it goes with the connection when the worker dies. Always True off PostgreSQL."""
    if connection.vendor != "postgresql":
        yield True
        return
    key = (_LOCK_NAMESPACE, result_id % 2_147_483_647)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", key)
        acquired = bool(cursor.fetchone()[0])
    try:
        yield acquired
    finally:
        if acquired:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", key)


def _beat(run_id: int, **changes: object) -> None:
    CheckRun.objects.filter(pk=run_id, state__in=ACTIVE_RUN_STATES).update(
        heartbeat_at=timezone.now(), **changes
    )


def _write(result_id: int, run_id: int, status: str, message: str, details: dict[str, Any]) -> bool:
    """The result's outcome, only over a result not final yet; counts it on the run."""
    with transaction.atomic():
        # The run before its result, like run_errored (launch, run, results): no deadlock.
        CheckRun.objects.select_for_update().filter(pk=run_id).values_list("pk").first()
        written = CheckResult.objects.filter(pk=result_id, status__in=PENDING_STATUSES).update(
            status=status, message=message, details=details, finished_at=timezone.now()
        )
        if written:
            _beat(run_id, completed=F("completed") + 1)
    return bool(written)


def _finish_if_last(run_id: int) -> None:
    """After this check's outcome committed: the last one to look sees every other's."""
    from koastops.launches import services

    if not CheckResult.objects.filter(run_id=run_id, status__in=PENDING_STATUSES).exists():
        services.run_finished(run_id=run_id)


def execute_check(run_id: int, key: str) -> str | None:
    """Execute the run's check ``key`` and write its result; the status written, or None
    when nothing was (skipped: run over, result final, another worker on it)."""
    run = CheckRun.objects.select_related("run_as").filter(pk=run_id).first()
    if run is None or run.state not in ACTIVE_RUN_STATES:
        return None
    result = CheckResult.objects.filter(run_id=run_id, key=key).first()
    if result is None or result.is_final:
        if result is not None:
            _finish_if_last(run_id)  # a redelivery after the write, before the run's end
        return None
    with _executing(result.pk) as mine:
        if not mine:
            return None  # a live worker is executing it; it writes the result
        return _execute(run, result)


def _execute(run: CheckRun, result: CheckResult) -> str | None:
    now = timezone.now()
    # Read again under the lock: a worker that held it may have just written the result.
    result = CheckResult.objects.get(pk=result.pk)
    if result.is_final:
        return None
    status: str
    message: str
    details: dict[str, Any]
    if result.attempts >= MAX_CHECK_ATTEMPTS:  # every earlier execution lost its worker
        logger.error(
            "check %s of run %s lost its worker %d times: recorded as error",
            result.key,
            run.pk,
            result.attempts,
        )
        status, message, details = CheckStatus.ERROR, crashed_message(result.attempts), {}
    else:
        marked = CheckResult.objects.filter(pk=result.pk, status__in=PENDING_STATUSES).update(
            status=CheckStatus.RUNNING, attempts=F("attempts") + 1, started_at=now
        )
        if not marked:
            return None
        _beat(run.pk)
        try:
            status, message, details = _evaluate(run, result.key, now)
        except SoftTimeLimitExceeded:  # outside the check's own code (loading the launch)
            status, message, details = CheckStatus.ERROR, soft_limit_message(), {}
    try:
        written = _write(result.pk, run.pk, status, message, details)
    except SoftTimeLimitExceeded:  # the soft limit landed during the write: once more
        written = _write(result.pk, run.pk, CheckStatus.ERROR, soft_limit_message(), {})
        status = CheckStatus.ERROR
    _finish_if_last(run.pk)
    return status if written else None


def _evaluate(run: CheckRun, key: str, now: dt.datetime) -> tuple[str, str, dict[str, Any]]:
    try:
        entry = registry.get(key)
    except KeyError:  # a check removed since the run was created
        return CheckStatus.ERROR, "This check no longer exists: re-run the checks.", {}
    launch = selectors.with_structure(Launch.objects.filter(pk=run.launch_id)).get()
    ctx = registry.CheckContext(launch=launch, run_as=run.run_as, now=now)

    def bounded(context: registry.CheckContext) -> registry.Outcome:
        try:
            return entry.fn(context)
        except SoftTimeLimitExceeded:
            return registry.Outcome.error(soft_limit_message())

    outcome = registry.evaluate(dataclasses.replace(entry, fn=bounded), ctx)
    return outcome.status, outcome.message, outcome.details


# --- beat ---------------------------------------------------------------------------------


def stale_bound(now: dt.datetime | None = None) -> dt.datetime:
    seconds = settings.LAUNCH_CHECK_TIME_LIMIT + settings.LAUNCH_RUN_REAP_MARGIN
    return (now or timezone.now()) - dt.timedelta(seconds=seconds)


def _stale_q(bound: dt.datetime) -> Q:
    return Q(state=RunState.RUNNING, heartbeat_at__lt=bound) | Q(
        Q(state=RunState.QUEUED) | Q(heartbeat_at__isnull=True),
        state__in=ACTIVE_RUN_STATES,
        created_at__lt=bound,
    )


def reap_stale_runs(*, now: dt.datetime | None = None) -> int:
    """End in "error" every active run nobody has worked on within the bound; how many."""
    from koastops.launches import services

    bound = stale_bound(now)
    reaped = 0
    stale = CheckRun.objects.filter(_stale_q(bound)).values_list("pk", "launch_id")
    for run_id, launch_id in stale:
        with transaction.atomic():
            # Still stale under the row locks (launch, then run: the services' order), as
            # a check may have beaten since the read.
            Launch.objects.select_for_update().filter(pk=launch_id).values_list("pk").first()
            if not CheckRun.objects.select_for_update().filter(_stale_q(bound), pk=run_id):
                continue
            services.run_errored(run_id=run_id, message=REAPED_MESSAGE)  # active: checked
        reaped += 1
        logger.warning("check run %s had no heartbeat since %s: ended in error", run_id, bound)
    return reaped


def post_launch_due(now: dt.datetime | None = None) -> list[int]:
    """The launched launches still monitored with no post-launch run today (one query)."""
    now = now or timezone.now()
    today = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    ran_today = CheckRun.objects.filter(
        launch=OuterRef("pk"), trigger=RunTrigger.POST_LAUNCH, created_at__gte=today
    )
    return list(
        Launch.objects.filter(state=LaunchState.LAUNCHED, monitor_until__gt=now)
        .exclude(Exists(ran_today))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def schedule_post_launch(*, now: dt.datetime | None = None) -> int:
    """Enqueue today's post-launch run of each monitored launch; how many were enqueued."""
    from koastops.launches import tasks

    due = post_launch_due(now)
    for launch_id in due:
        tasks.post_launch_run.delay(launch_id)
    return len(due)
