"""Reads about pull runs, for the pixel pages ("Refresh now" and the pull history)."""

from __future__ import annotations

from koastops.catalog.models import Pixel
from koastops.quality.models import PullRun


def pull_run_latest(*, pixel: Pixel) -> PullRun | None:
    """The pixel's latest pull run (active or not), for ``quality/_refresh.html``; one query."""
    return PullRun.objects.select_related("requested_by").filter(pixel=pixel).first()


def pull_run_history(*, pixel: Pixel, limit: int = 20) -> list[PullRun]:
    """The pixel's latest ``limit`` pull runs, newest first; one query."""
    return list(PullRun.objects.select_related("requested_by").filter(pixel=pixel)[:limit])
