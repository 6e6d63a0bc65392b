"""Celery tasks of the launches app (the check runner's body is in ``runner``).

- ``run_checks`` (run id): fan the run's checks out, one ``run_check`` task each.
- ``run_check`` (run id, check key): execute one check, write its result, and end the run
  when it was the last (``services.run_finished``).
- ``reap_stale_runs`` (beat): runs whose worker died end in "error" within the bound.
- ``schedule_post_launch`` (beat, daily): the post-launch re-runs of launched launches.
"""

from __future__ import annotations

from celery import shared_task

from koastops.celery import KoastopsTask


@shared_task(name="koastops.launches.run_checks", bind=True, base=KoastopsTask)
def run_checks(self, run_id: int) -> None:
    from koastops.launches import runner

    runner.start_run(run_id)


@shared_task(name="koastops.launches.run_check", bind=True, base=KoastopsTask)
def run_check(self, run_id: int, key: str) -> None:
    from koastops.launches import runner

    runner.execute_check(run_id, key)


@shared_task(name="koastops.launches.reap_stale_runs", bind=True, base=KoastopsTask)
def reap_stale_runs(self) -> int:
    from koastops.launches import runner

    return runner.reap_stale_runs()


@shared_task(name="koastops.launches.schedule_post_launch", bind=True, base=KoastopsTask)
def schedule_post_launch(self) -> int:
    from koastops.launches import runner

    return runner.schedule_post_launch()
