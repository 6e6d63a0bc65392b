from __future__ import annotations

import logging

from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from koastops.accounts.models import User
from koastops.activity.services import activity_record
from koastops.system.models import Heartbeat, SentEmail, TaskDelivery, WorkerPing

logger = logging.getLogger(__name__)


@transaction.atomic
def worker_ping_request(*, user: User) -> WorkerPing:
    from koastops.system.tasks import worker_ping

    ping = WorkerPing.objects.create(requested_by=user)
    activity_record(verb="system.worker_pinged", actor=user, target=ping)
    worker_ping.delay_on_commit(ping.pk)
    return ping


def worker_ping_complete(*, ping_id: int, hostname: str) -> bool:
    """Mark the ping done; compare-and-set so a redelivered message changes nothing."""
    updated = WorkerPing.objects.filter(pk=ping_id, status=WorkerPing.Status.PENDING).update(
        status=WorkerPing.Status.DONE, completed_at=timezone.now(), worker_hostname=hostname
    )
    return updated == 1


def heartbeat_record(*, name: str, detail: str = "") -> None:
    Heartbeat.objects.update_or_create(
        name=name, defaults={"last_seen_at": timezone.now(), "detail": detail[:255]}
    )


# --- Celery deliveries (see koastops.celery.KoastopsTask) -------------------------------


def task_delivery_count(*, key: str, task_name: str) -> int:
    """Count one more delivery of the task run ``key``; return how many there have been.

    Committed at once (autocommit, outside any task transaction), so the count survives
    the worker process dying during the run."""
    now = timezone.now()
    updated = TaskDelivery.objects.filter(key=key).update(
        deliveries=F("deliveries") + 1, last_delivered_at=now
    )
    if not updated:
        try:
            with transaction.atomic():
                TaskDelivery.objects.create(
                    key=key,
                    task_name=task_name[:255],
                    deliveries=1,
                    first_delivered_at=now,
                    last_delivered_at=now,
                )
        except IntegrityError:  # another worker got the same message at the same time
            TaskDelivery.objects.filter(key=key).update(
                deliveries=F("deliveries") + 1, last_delivered_at=now
            )
    return TaskDelivery.objects.values_list("deliveries", flat=True).get(key=key)


def task_delivery_give_up(*, key: str) -> None:
    TaskDelivery.objects.filter(key=key).update(given_up_at=timezone.now())


def task_delivery_forget(*, key: str) -> None:
    """The run returned (success, failure or retry): its count is no longer needed."""
    TaskDelivery.objects.filter(key=key).delete()


# --- Email ---------------------------------------------------------------------------


def email_send_once(*, key: str, task_name: str, message: EmailMessage) -> bool:
    """Send ``message`` unless the task run ``key`` already has; True if sent now.

    The marker row is inserted and the message handed to the mail backend in one
    transaction: a send that raises rolls the marker back (the task retries), and a
    concurrent second delivery of the same message waits on the unique key, then finds
    the marker and sends nothing. One window stays: a worker that dies after the mail
    server accepted the message but before the commit sends it again on redelivery
    (at least once; SMTP offers no way to make that atomic)."""
    with transaction.atomic():
        _, created = SentEmail.objects.get_or_create(
            key=key, defaults={"task_name": task_name[:255], "sent_at": timezone.now()}
        )
        if not created:
            logger.info("Email of task %s [%s] was already sent; not again.", task_name, key)
            return False
        message.send()
    return True
