"""Writes about pulls that people ask for: "Refresh now".

Pull runs are not activity: a refresh writes a ``PullRun`` row (who asked, when, how it
went), which the pixel page shows.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from koastops.catalog.models import CatalogStatus, Pixel
from koastops.quality.models import ACTIVE_PULL_STATUSES, PixelConnection, PullKind, PullRun


class PullRefused(Exception):
    """The pull cannot be asked for; ``str(error)`` says why, for the user."""


def refresh_request(*, actor: Any, pixel: Pixel) -> PullRun:
    """Queue a counts pull of ``pixel`` now (it also pulls quality when that is older than
    an hour), or return the run already queued or running: never two at once (the partial
    unique index decides between concurrent requests). The task is enqueued after commit.
    The caller has checked ``quality.refresh`` and that the user may see the pixel."""
    from koastops.quality.tasks import pull_counts_task

    if pixel.status == CatalogStatus.ARCHIVED:
        raise PullRefused("This pixel is archived: restore it to pull its stats.")
    for _attempt in range(3):
        with transaction.atomic():
            PixelConnection.objects.get_or_create(pixel=pixel)
            try:
                with transaction.atomic():
                    run = PullRun.objects.create(
                        pixel=pixel,
                        kind=PullKind.COUNTS,
                        requested_by=actor if getattr(actor, "pk", None) else None,
                    )
            except IntegrityError:
                active = PullRun.objects.filter(
                    pixel=pixel, status__in=ACTIVE_PULL_STATUSES
                ).first()
                if active is not None:
                    return active
                continue  # it ended in between: ask again
            pull_counts_task.delay_on_commit(run.pk)
            return run
    raise PullRefused("Another pull of this pixel keeps starting; try again in a moment.")
