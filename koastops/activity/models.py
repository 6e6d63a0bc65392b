from __future__ import annotations

from django.conf import settings
from django.db import models


class ActivityEntry(models.Model):
    """One append-only, hash-chained record of a change or decision.

    Rows outlive what they describe: actor and brand are plain references without
    database constraints or cascades (a cascade would have to UPDATE or DELETE this
    table, which the PostgreSQL trigger forbids), and labels keep the names readable.
    """

    created_at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    actor_label = models.CharField(max_length=255)
    verb = models.CharField(max_length=64, db_index=True)
    brand = models.ForeignKey(
        "catalog.Brand",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    target_type = models.CharField(max_length=64)
    target_id = models.CharField(max_length=64)
    target_label = models.CharField(max_length=255)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)
    # Which ACTIVITY_LOG_KEYS entry signed this row (its HMAC key lives outside the database).
    key_id = models.CharField(max_length=32, blank=True, default="")

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "activity entries"
        indexes = [
            models.Index(fields=["brand", "-id"]),
            models.Index(fields=["target_type", "target_id"]),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.actor_label} {self.verb} {self.target_label}"
