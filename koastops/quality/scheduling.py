"""Which pixels beat pulls, and the reaper of runs whose worker died.

``schedule(kind)`` queues one run per due pixel: active (not archived) pixels whose
connection's provider is the demo one, or Meta pixels with an access token (the only
platform with a stats connector yet; their connection row is made by the first pull), not
broken (a token error waits for an ops lead to set a new token: a token set after the
connection broke makes the pixel due again; "Refresh now" still tries), not
rate limited until ``retry_after``, and with no run queued or running (the partial unique
index decides; an ``IntegrityError`` means another run got there first). Quality is due
when it was last pulled more than ``QUALITY_EVERY`` ago (the Dataset Quality quota is
small: pull it sparingly). Ids only are enqueued, after commit.

``reap_stale()`` fails the runs that can no longer end by themselves: "running" with no
heartbeat for longer than the task's hard time limit plus a margin (its worker was killed
or lost), or "queued" for longer than ``QUALITY_PULL_QUEUED_TIMEOUT`` (no worker consumes
the "pulls" queue). A redelivered message of a reaped run is skipped.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from koastops.catalog.models import CatalogStatus, Pixel, Platform
from koastops.quality.models import (
    ACTIVE_PULL_STATUSES,
    ConnectionStatus,
    Provider,
    PullKind,
    PullRun,
    PullStatus,
)

QUALITY_EVERY = dt.timedelta(hours=6) - dt.timedelta(minutes=30)  # beat drifts a little


def due_pixel_ids(kind: str, *, now: dt.datetime | None = None) -> list[int]:
    now = now or timezone.now()
    meta_with_token = (
        Q(platform=Platform.META)
        & ~Q(access_token_encrypted="")
        & (Q(connection__isnull=True) | Q(connection__provider=Provider.META))
    )
    # A broken connection waits for a new token: set after it broke, the pixel is due again.
    broken = Q(connection__status=ConnectionStatus.BROKEN) & ~Q(
        access_token_changed_at__gt=F("connection__status_changed_at")
    )
    pixels = (
        Pixel.objects.filter(status=CatalogStatus.ACTIVE)
        .filter(Q(connection__provider=Provider.DEMO) | meta_with_token)
        .exclude(broken)
        .exclude(connection__status=ConnectionStatus.RATE_LIMITED, connection__retry_after__gt=now)
        .exclude(pull_runs__status__in=ACTIVE_PULL_STATUSES)
    )
    if kind == PullKind.QUALITY:
        pixels = pixels.filter(
            Q(connection__quality_pulled_at__isnull=True)
            | Q(connection__quality_pulled_at__lt=now - QUALITY_EVERY)
        )
    return list(pixels.order_by("pk").values_list("pk", flat=True).distinct())


def schedule(kind: str) -> int:
    """Queue a ``kind`` pull of every due pixel; how many were queued."""
    from koastops.quality.tasks import pull_counts_task, pull_quality_task

    if kind not in (PullKind.COUNTS, PullKind.QUALITY):
        raise ValueError(f"Unknown pull kind {kind!r}.")
    task = pull_quality_task if kind == PullKind.QUALITY else pull_counts_task
    queued = 0
    for pixel_id in due_pixel_ids(kind):
        try:
            with transaction.atomic():
                run = PullRun.objects.create(pixel_id=pixel_id, kind=kind)
                task.delay_on_commit(run.pk)
        except IntegrityError:
            continue  # a run of this pixel started meanwhile
        queued += 1
    return queued


def stale_after() -> dt.timedelta:
    return dt.timedelta(
        seconds=settings.QUALITY_PULL_TIME_LIMIT + settings.QUALITY_PULL_REAP_MARGIN
    )


def reap_stale(*, now: dt.datetime | None = None) -> int:
    """Fail the runs whose worker is gone; how many."""
    now = now or timezone.now()
    limit = stale_after()
    silent_minutes = max(1, round(limit.total_seconds() / 60))
    reaped = PullRun.objects.filter(
        Q(heartbeat_at__lt=now - limit) | Q(heartbeat_at__isnull=True, started_at__lt=now - limit),
        status=PullStatus.RUNNING,
    ).update(
        status=PullStatus.FAILED,
        finished_at=now,
        error=(
            "The worker stopped before the pull finished (no sign of life for "
            f"{silent_minutes} min); nothing of it was kept. The next scheduled pull "
            "reads the range again."
        ),
    )
    waited = dt.timedelta(seconds=settings.QUALITY_PULL_QUEUED_TIMEOUT)
    reaped += PullRun.objects.filter(status=PullStatus.QUEUED, created_at__lt=now - waited).update(
        status=PullStatus.FAILED,
        finished_at=now,
        error=(
            "The worker stopped taking pulls: this one waited in the queue for more than "
            f"{max(1, round(waited.total_seconds() / 60))} min. Check that a worker "
            'consumes the "pulls" queue.'
        ),
    )
    return reaped
