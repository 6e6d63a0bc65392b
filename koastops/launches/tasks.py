"""Celery tasks of the launches app (the check runner's body is in ``runner``).

- ``run_checks`` (run id): fan the run's checks out, one ``run_check`` task each.
- ``run_check`` (run id, check key): execute one check, write its result, and end the run
  when it was the last (``services.run_finished``). Time limits ``LAUNCH_CHECK_*``: the
  soft one makes the result "error" ("took longer than N s"), the hard one kills the
  pool process (the reaper then ends the run "error" within the bound).
- ``reap_stale_runs`` (beat, every ``LAUNCH_REAP_EVERY`` s): runs whose worker died end in
  "error" within ``LAUNCH_CHECK_TIME_LIMIT + LAUNCH_RUN_REAP_MARGIN``.
- ``schedule_post_launch`` (beat, daily): one ``post_launch_run`` per launched launch still
  monitored with no post-launch run today.
- ``post_launch_run`` (launch id): ``services.post_launch_run`` (a no-op when one is active).
"""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from koastops.celery import KoastopsTask


@shared_task(name="koastops.launches.run_checks", bind=True, base=KoastopsTask)
def run_checks(self, run_id: int) -> int:
    from koastops.launches import runner

    return runner.start_run(run_id)


@shared_task(
    name="koastops.launches.run_check",
    bind=True,
    base=KoastopsTask,
    soft_time_limit=settings.LAUNCH_CHECK_SOFT_TIME_LIMIT,
    time_limit=settings.LAUNCH_CHECK_TIME_LIMIT,
)
def run_check(self, run_id: int, key: str) -> str | None:
    from koastops.launches import runner

    return runner.execute_check(run_id, key)


@shared_task(name="koastops.launches.reap_stale_runs", bind=True, base=KoastopsTask)
def reap_stale_runs(self) -> int:
    from koastops.launches import runner

    return runner.reap_stale_runs()


@shared_task(name="koastops.launches.schedule_post_launch", bind=True, base=KoastopsTask)
def schedule_post_launch(self) -> int:
    from koastops.launches import runner

    return runner.schedule_post_launch()


@shared_task(name="koastops.launches.post_launch_run", bind=True, base=KoastopsTask)
def post_launch_run(self, launch_id: int) -> int | None:
    from koastops.launches import services
    from koastops.launches.models import Launch

    try:
        run = services.post_launch_run(launch_id=launch_id)
    except Launch.DoesNotExist:  # deleted since it was scheduled
        return None
    return run.pk if run is not None else None
