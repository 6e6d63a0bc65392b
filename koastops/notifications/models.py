"""In-app notifications (each also emailed once, by a worker): what someone has to act
on, with a link to it. ``key`` makes a notification idempotent per user: the same reason
(config version and threshold, launch and state, …) never notifies twice."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from koastops.catalog.models import Brand


class Notification(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    brand = models.ForeignKey(Brand, null=True, blank=True, on_delete=models.CASCADE)
    kind = models.CharField(max_length=40)  # "consent.review", "consent.expiring", …
    key = models.CharField(max_length=200)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=500, blank=True)  # a path on this install
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="notification_once_per_key"),
        ]
        indexes = [models.Index(fields=["user", "read_at", "-created_at"])]

    def __str__(self) -> str:
        return self.title
