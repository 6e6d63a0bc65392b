"""Celery tasks of the quality app. Pull tasks run on the "pulls" queue
(``CELERY_TASK_ROUTES``), so a backlog of pulls never delays checks or emails; workers
must consume it (``-Q default,pulls``).

- ``pull_counts`` / ``pull_quality`` (run id): ``pulling.run_pull``; a run that already
  ended is skipped, a redelivered "running" one starts over (the upserts make it safe).
- ``schedule_pulls`` (beat: counts hourly, quality every 6 h): a queued run per due
  pixel, ids enqueued.
- ``reap_stale_pulls`` (beat, every few minutes): runs whose worker died end "failed".
- ``ensure_partitions`` (beat, daily): the months ahead of ``quality_hourlystat``.
"""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from koastops.celery import KoastopsTask

SOFT_LIMIT = settings.QUALITY_PULL_SOFT_TIME_LIMIT
HARD_LIMIT = settings.QUALITY_PULL_TIME_LIMIT


@shared_task(
    name="koastops.quality.pull_counts",
    bind=True,
    base=KoastopsTask,
    soft_time_limit=SOFT_LIMIT,
    time_limit=HARD_LIMIT,
)
def pull_counts_task(self, run_id: int) -> None:
    from koastops.quality import pulling

    pulling.run_pull(run_id, task_id=self.request.id or "")


@shared_task(
    name="koastops.quality.pull_quality",
    bind=True,
    base=KoastopsTask,
    soft_time_limit=SOFT_LIMIT,
    time_limit=HARD_LIMIT,
)
def pull_quality_task(self, run_id: int) -> None:
    from koastops.quality import pulling

    pulling.run_pull(run_id, task_id=self.request.id or "")


@shared_task(name="koastops.quality.schedule_pulls", bind=True, base=KoastopsTask)
def schedule_pulls(self, kind: str = "counts") -> int:
    """Beat: queue a ``kind`` pull ("counts" or "quality") of every due pixel; how many."""
    from koastops.quality import scheduling

    return scheduling.schedule(kind)


@shared_task(name="koastops.quality.reap_stale_pulls", bind=True, base=KoastopsTask)
def reap_stale_pulls(self) -> int:
    from koastops.quality import scheduling

    return scheduling.reap_stale()


@shared_task(name="koastops.quality.ensure_partitions", bind=True, base=KoastopsTask)
def ensure_partitions(self) -> list[str]:
    from koastops.quality import partitions

    return partitions.ensure_partitions(months_ahead=2)
