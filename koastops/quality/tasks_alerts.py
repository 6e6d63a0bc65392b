"""Alert tasks: the 15-minute evaluation (beat), the notification of an opened alert and
the webhook message (ids only; each idempotent).

The webhook is a Slack-compatible ``{"text": ...}`` POST through ``core.safefetch``,
https only (``settings.ALERT_WEBHOOK_HTTPS_ONLY``, default True; the tests turn it off
to reach a local http server on an allow-listed host). Connection failures, timeouts,
429 and 5xx are retried with exponential back-off and jitter, at most 5 times; a refused
URL (private address, bad scheme) or another 4xx is not retried. The outcome is written
to ``Alert.webhook_status`` ("opened: sent (200)", "resolved: failed after 6 tries: …").
"""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from django.conf import settings

from koastops.celery import KoastopsTask

logger = logging.getLogger(__name__)

WEBHOOK_MAX_RETRIES = 5


class WebhookRetry(Exception):
    """A transient webhook failure: retried by Celery's autoretry."""


def _set_status(alert_id: int, status: str) -> None:
    from koastops.quality.models import Alert

    Alert.objects.filter(pk=alert_id).update(webhook_status=status[:200])


@shared_task(
    name="koastops.quality.evaluate_alerts",
    bind=True,
    base=KoastopsTask,
    soft_time_limit=600,
    time_limit=660,
)
def evaluate_alerts(self: Any) -> int:
    """Beat (every 15 minutes): evaluate the enabled rules of every brand that has some, so
    silent and discrepancy rules fire without a pull. How many brands."""
    from koastops.quality import alerting

    brand_ids = sorted(set(alerting.brands_with_rules()))
    for brand_id in brand_ids:
        alerting.evaluate_brand(brand_id)
    return len(brand_ids)


@shared_task(
    name="koastops.quality.alert_notify",
    bind=True,
    base=KoastopsTask,
    autoretry_for=(OSError,),
    retry_backoff=30,
    retry_jitter=True,
    max_retries=5,
)
def alert_notify(self: Any, alert_id: int) -> int:
    """Notify the people of the brand about an opened alert (once: keyed by the alert)."""
    from koastops.quality import alerting

    return alerting.notify_opened(alert_id)


@shared_task(
    name="koastops.quality.alert_webhook",
    bind=True,
    base=KoastopsTask,
    autoretry_for=(WebhookRetry,),
    retry_backoff=10,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=WEBHOOK_MAX_RETRIES,
    soft_time_limit=30,
    time_limit=45,
)
def alert_webhook(self: Any, alert_id: int, event: str) -> str:
    """POST the alert's "opened" or "resolved" message to its rule's webhook URL, once
    (a status saying it was sent for this event stops a redelivery)."""
    from koastops.core import safefetch
    from koastops.quality import alerting
    from koastops.quality.models import Alert

    alert = Alert.objects.select_related("brand", "rule").filter(pk=alert_id).first()
    if alert is None or alert.rule is None or not alert.rule.webhook_url:
        return "skipped"
    if alert.webhook_status.startswith(f"{event}: sent"):
        return "already sent"
    https_only = getattr(settings, "ALERT_WEBHOOK_HTTPS_ONLY", True)
    tries = (self.request.retries or 0) + 1
    last = tries > WEBHOOK_MAX_RETRIES
    try:
        response = safefetch.fetch(
            alert.rule.webhook_url,
            method="POST",
            json={"text": alerting.webhook_text(alert, event)},
            max_bytes=10_000,
            timeout=10.0,
            https_only=https_only,
        )
    except safefetch.UnsafeURL as exc:
        _set_status(alert_id, f"{event}: refused: {exc.message}")
        return "refused"
    except safefetch.FetchError as exc:
        return _transient(alert_id, event, exc.message, tries=tries, last=last)
    if 200 <= response.status < 300:
        _set_status(alert_id, f"{event}: sent ({response.status})")
        return "sent"
    if response.status == 429 or response.status >= 500:
        return _transient(alert_id, event, f"HTTP {response.status}", tries=tries, last=last)
    _set_status(alert_id, f"{event}: failed: HTTP {response.status}")
    return "failed"


def _transient(alert_id: int, event: str, reason: str, *, tries: int, last: bool) -> str:
    if last:
        _set_status(alert_id, f"{event}: failed after {tries} tries: {reason}")
        return "failed"
    _set_status(alert_id, f"{event}: retrying (try {tries}: {reason})")
    raise WebhookRetry(reason)


@shared_task(name="koastops.quality.evaluate_alert_rule", bind=True, base=KoastopsTask)
def evaluate_alert_rule(self: Any, rule_id: int) -> int:
    """Evaluate one rule now (after it was created or changed); how many alerts opened."""
    from koastops.quality import alerting
    from koastops.quality.models import AlertRule

    rule = AlertRule.objects.select_related("brand").filter(pk=rule_id, enabled=True).first()
    if rule is None:
        return 0
    return len(alerting.evaluate_rule(rule).opened)
