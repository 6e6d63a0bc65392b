"""Emails leave the request: the services enqueue these after their transaction commits
(``delay_on_commit``) and a worker builds and sends the message.

Retries: connection and SMTP errors (``OSError``, which ``smtplib.SMTPException``,
``ConnectionError`` and timeouts all are) retry with exponential back-off and jitter.
Idempotence: ``system.services.email_send_once`` records each sent run, so a redelivered
message does not send the email twice."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task

from koastops.accounts import emails
from koastops.accounts.models import User
from koastops.catalog.models import Brand
from koastops.celery import KoastopsTask
from koastops.system.services import email_send_once

logger = logging.getLogger(__name__)

# ``bind`` and ``base`` are passed by name: the stubs pick the task type from them.
EMAIL_TASK_OPTIONS: dict[str, Any] = {
    "autoretry_for": (OSError,),
    "retry_backoff": 30,  # 30 s, 60 s, 120 s, … (with jitter), capped below
    "retry_backoff_max": 60 * 60,
    "retry_jitter": True,
    "max_retries": 8,  # about 4 hours of trying
    "soft_time_limit": 60,
    "time_limit": 90,
}


@shared_task(
    name="koastops.accounts.send_invitation", bind=True, base=KoastopsTask, **EMAIL_TASK_OPTIONS
)
def send_invitation(self, user_id: int, brand_id: int, inviter_id: int | None) -> bool:
    user = User.objects.filter(pk=user_id, is_active=True).first()
    brand = Brand.objects.filter(pk=brand_id).first()
    if user is None or brand is None:
        logger.info("Invitation of user %s to brand %s not sent: gone.", user_id, brand_id)
        return False
    invited_by = User.objects.filter(pk=inviter_id).first() if inviter_id else None
    message = emails.invitation_email(user=user, brand=brand, invited_by=invited_by)
    return email_send_once(key=self.request.id, task_name=self.name, message=message)


@shared_task(
    name="koastops.accounts.send_password_reset", bind=True, base=KoastopsTask, **EMAIL_TASK_OPTIONS
)
def send_password_reset(self, user_id: int) -> bool:
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        logger.info("Password reset for user %s not sent: gone or deactivated.", user_id)
        return False
    message = emails.password_reset_email(user=user)
    return email_send_once(key=self.request.id, task_name=self.name, message=message)
