from __future__ import annotations

import socket

from celery import shared_task

from koastops.celery import KoastopsTask
from koastops.system import services


@shared_task(
    name="koastops.system.worker_ping", base=KoastopsTask, soft_time_limit=30, time_limit=60
)
def worker_ping(ping_id: int) -> None:
    services.worker_ping_complete(ping_id=ping_id, hostname=socket.gethostname())


@shared_task(name="koastops.system.heartbeat", soft_time_limit=30, time_limit=60)
def heartbeat() -> None:
    services.heartbeat_record(name="beat", detail=socket.gethostname())
