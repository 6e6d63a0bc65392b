from __future__ import annotations

from django.conf import settings
from django.db import models


class WorkerPing(models.Model):
    """A diagnostic round trip through the broker: the web writes it, a worker completes it."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for a worker"
        DONE = "done", "Completed by a worker"

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    worker_hostname = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Worker ping #{self.pk} ({self.status})"

    @property
    def round_trip_seconds(self) -> float | None:
        if self.completed_at is None:
            return None
        return (self.completed_at - self.created_at).total_seconds()


class Heartbeat(models.Model):
    """Last time a periodic component ran (``beat`` writes one a minute through a worker)."""

    name = models.CharField(max_length=64, unique=True)
    last_seen_at = models.DateTimeField()
    detail = models.CharField(max_length=255, blank=True)

    def __str__(self) -> str:
        return f"{self.name} @ {self.last_seen_at:%Y-%m-%d %H:%M:%S}"
