from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from koastops.accounts.models import User
from koastops.activity.services import activity_record
from koastops.system.models import Heartbeat, WorkerPing


@transaction.atomic
def worker_ping_request(*, user: User) -> WorkerPing:
    from koastops.system.tasks import worker_ping

    ping = WorkerPing.objects.create(requested_by=user)
    activity_record(verb="system.worker_pinged", actor=user, target=ping)
    transaction.on_commit(lambda: worker_ping.delay(ping.pk))
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
