"""The check runner (owned by the runner part; the foundation has ``run_inline`` only, the
sequential executor seed_demo and tests use; the runner part keeps its behaviour)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from koastops.launches import selectors
from koastops.launches.checks import registry
from koastops.launches.models import CheckResult, CheckRun, Launch


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
    for result in CheckResult.objects.filter(run=run).exclude(
        status__in=["pass", "warn", "fail", "error"]
    ):
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


def start_run(run_id: int) -> None:
    raise NotImplementedError


def execute_check(run_id: int, key: str) -> None:
    raise NotImplementedError


def reap_stale_runs() -> int:
    raise NotImplementedError


def schedule_post_launch() -> int:
    raise NotImplementedError
