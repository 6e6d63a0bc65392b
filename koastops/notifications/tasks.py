"""The email copy of a notification, sent by a worker (ids only; once per notification:
``email_send_once`` keyed by the notification, so a redelivery sends nothing)."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMessage
from django.utils import timezone

from koastops.accounts.tasks import EMAIL_TASK_OPTIONS
from koastops.celery import KoastopsTask
from koastops.notifications.models import Notification
from koastops.system.services import email_send_once

logger = logging.getLogger(__name__)


def notification_message(notification: Notification) -> EmailMessage:
    link = settings.SITE_URL.rstrip("/") + notification.url if notification.url else ""
    body = notification.body + (f"\n\nOpen it here:\n{link}" if link else "")
    return EmailMessage(
        subject=notification.title,
        body=body + "\n\nYou get this because of your role in koastops.",
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[notification.user.email],
    )


@shared_task(
    name="koastops.notifications.email", bind=True, base=KoastopsTask, **EMAIL_TASK_OPTIONS
)
def notification_email(self, notification_id: int) -> bool:
    notification = Notification.objects.select_related("user").filter(pk=notification_id).first()
    if notification is None or not notification.user.is_active:
        logger.info("Notification %s not emailed: gone or user deactivated.", notification_id)
        return False
    sent = email_send_once(
        key=f"notification:{notification.pk}",
        task_name=self.name,
        message=notification_message(notification),
    )
    Notification.objects.filter(pk=notification.pk, emailed_at__isnull=True).update(
        emailed_at=timezone.now()
    )
    return sent
