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


class TaskDelivery(models.Model):
    """One task run the broker has handed to a worker, counted per delivery.

    ``acks_late`` with ``reject_on_worker_lost`` puts a message back when the worker
    process dies mid-run (OOM kill, segfault, hard time limit). A task that kills its
    worker every time would come back forever; the base task class counts deliveries of
    each run here and refuses the run past ``CELERY_TASK_MAX_DELIVERIES``. The row is
    deleted when the run returns (success, failure or retry), so only runs that took a
    worker down, or were given up, remain.
    """

    key = models.CharField(max_length=255, unique=True, help_text="task id and retry number")
    task_name = models.CharField(max_length=255)
    deliveries = models.PositiveIntegerField(default=0)
    first_delivered_at = models.DateTimeField()
    last_delivered_at = models.DateTimeField()
    given_up_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-last_delivered_at"]
        verbose_name_plural = "task deliveries"

    def __str__(self) -> str:
        return f"{self.task_name} [{self.key}] x{self.deliveries}"


class SentEmail(models.Model):
    """Marks that the task run ``key`` has handed its email to the mail server, so a
    redelivered message does not send it again (see ``system.services.email_send_once``)."""

    key = models.CharField(max_length=255, unique=True)
    task_name = models.CharField(max_length=255)
    sent_at = models.DateTimeField()

    class Meta:
        ordering = ["-sent_at"]

    def __str__(self) -> str:
        return f"{self.task_name} [{self.key}] sent {self.sent_at:%Y-%m-%d %H:%M:%S}"
