"""Checkpoints of the activity log outside the database: beat runs ``checkpoint_write``
(a signed file in ACTIVITY_CHECKPOINT_DIR); with ACTIVITY_CHECKPOINT_WEBHOOK_URL set,
``checkpoint_post`` also delivers the newest one over HTTPS, retried with backoff."""

from __future__ import annotations

import logging
import re
import urllib.error
import urllib.request
from typing import Any

from celery import shared_task
from django.conf import settings

from koastops.activity import services

logger = logging.getLogger(__name__)

_NAME = re.compile(r"^\d{12,20}\.json$")
WEBHOOK_TIMEOUT_SECONDS = 10


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect could lead off HTTPS; the webhook must answer at its own address."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _post(url: str, body: bytes) -> int:
    opener = urllib.request.build_opener(_NoRedirect)
    request = urllib.request.Request(  # noqa: S310 -- the scheme is checked to be https
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": "koastops-checkpoint/1"},
    )
    with opener.open(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:
        return response.status


@shared_task(name="koastops.activity.checkpoint_write", soft_time_limit=120, time_limit=180)
def checkpoint_write() -> None:
    path = services.activity_checkpoint_write()
    # The newest checkpoint every period, repeats included: a receiver keys them by
    # last_id, and a delivery lost with a killed worker is made up for next time.
    if path is not None and settings.ACTIVITY_CHECKPOINT_WEBHOOK_URL:
        checkpoint_post.delay(path.name)


class WebhookUnavailable(Exception):
    """The webhook answered 408, 429 or 5xx: worth another try later."""


@shared_task(
    name="koastops.activity.checkpoint_post",
    soft_time_limit=60,
    time_limit=90,
    autoretry_for=(WebhookUnavailable, urllib.error.URLError, TimeoutError, ConnectionError),
    retry_backoff=5,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=8,
)
def checkpoint_post(name: str) -> None:
    url = settings.ACTIVITY_CHECKPOINT_WEBHOOK_URL
    if not url.startswith("https://"):
        logger.error("ACTIVITY_CHECKPOINT_WEBHOOK_URL must be an https:// URL; not sent.")
        return
    if not _NAME.match(name):
        raise ValueError(f"not a checkpoint file name: {name!r}")
    body = (services.checkpoint_dir() / name).read_bytes()
    try:
        status = _post(url, body)
    except urllib.error.HTTPError as exc:
        if exc.code >= 500 or exc.code in (408, 429):
            raise WebhookUnavailable(f"webhook answered {exc.code}") from exc
        # Anything else (a redirect, 4xx) will not change by retrying.
        logger.error("Checkpoint %s refused by the webhook: HTTP %s", name, exc.code)
        return
    logger.info("Checkpoint %s delivered (HTTP %s)", name, status)
