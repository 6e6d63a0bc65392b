from __future__ import annotations

from django.db.models import QuerySet

from koastops.system.models import Heartbeat, WorkerPing


def worker_ping_recent(*, limit: int = 10) -> QuerySet[WorkerPing]:
    return WorkerPing.objects.select_related("requested_by").order_by("-created_at")[:limit]


def heartbeat_get(*, name: str) -> Heartbeat | None:
    return Heartbeat.objects.filter(name=name).first()
