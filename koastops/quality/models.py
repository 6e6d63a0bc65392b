"""Event-quality stats pulled from the ad platforms, CRM conversions, reconciliation
settings and alerts.

- ``PixelConnection`` (one per pixel): which provider its numbers come from, the state of
  the connection (a token error marks it broken with a visible message), how far the
  hourly counts have been pulled, and the pixel's summary figures recomputed after each
  pull, so the quality table reads one row per pixel however many stat rows exist.
- ``PullRun``: one row per pull (counts, quality, backfill), never two active for the
  same pixel (a partial unique index); pulls write these, not activity rows.
- ``HourlyStat`` / ``DailyStat``: counts per (pixel, event, source, hour | day) in UTC.
  On PostgreSQL ``HourlyStat`` is partitioned by month (migration 0001 and
  ``koastops.quality.partitions``); ``DailyStat`` is its rollup for long ranges.
- ``EventQuality``: one row per event per quality pull (EMQ, coverage, dedup, freshness,
  match keys and diagnostics), the history the charts draw.
- ``QualitySettings``: a brand's thresholds (EMQ, dedup, reconciliation tolerance) —
  launch checks read them too.
- ``ConversionImport`` / ``Conversion``: CRM conversions, idempotent by
  (brand, source, external id).
- ``AlertRule`` / ``Alert``: rules per brand; an alert is open at most once per rule and
  subject (a partial unique index) and resolves itself when the condition clears.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

from koastops.catalog.models import AdAccount, Brand, Pixel


class Provider(models.TextChoices):
    META = "meta", "Meta Graph API"
    DEMO = "demo", "Demo data"


class ConnectionStatus(models.TextChoices):
    UNKNOWN = "unknown", "Not pulled yet"
    OK = "ok", "Connected"
    RATE_LIMITED = "rate_limited", "Rate limited"
    ERROR = "error", "Last pull failed"
    BROKEN = "broken", "Connection broken"


class PixelConnection(models.Model):
    pixel = models.OneToOneField(Pixel, on_delete=models.CASCADE, related_name="connection")
    provider = models.CharField(max_length=16, choices=Provider.choices, default=Provider.META)
    status = models.CharField(
        max_length=16, choices=ConnectionStatus.choices, default=ConnectionStatus.UNKNOWN
    )
    message = models.TextField(blank=True)  # shown to users: never a token
    status_changed_at = models.DateTimeField(null=True, blank=True)
    retry_after = models.DateTimeField(null=True, blank=True)  # rate limited until
    counts_through = models.DateTimeField(null=True, blank=True)  # hourly buckets pulled < this
    counts_pulled_at = models.DateTimeField(null=True, blank=True)
    quality_pulled_at = models.DateTimeField(null=True, blank=True)
    # Summary figures, recomputed after every pull (the quality table's one row per pixel).
    last_fired_at = models.DateTimeField(null=True, blank=True)
    events_per_day = models.BigIntegerField(null=True, blank=True)  # 7-day average, all events
    server_share = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    dedup_coverage = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    key_emq = models.JSONField(default=dict, blank=True)  # {event name: EMQ} of key events
    min_key_emq = models.DecimalField(max_digits=4, decimal_places=2, null=True, blank=True)
    freshness = models.CharField(max_length=32, blank=True)
    problems = models.JSONField(default=list, blank=True)  # [{"key", "message"}]
    version = models.PositiveIntegerField(default=1, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["status"])]

    def __str__(self) -> str:
        return f"Connection of {self.pixel}"


class PullKind(models.TextChoices):
    COUNTS = "counts", "Event counts"
    QUALITY = "quality", "Quality"
    BACKFILL = "backfill", "Backfill"


class PullStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


ACTIVE_PULL_STATUSES = [PullStatus.QUEUED, PullStatus.RUNNING]


class PullRun(models.Model):
    pixel = models.ForeignKey(Pixel, on_delete=models.CASCADE, related_name="pull_runs")
    kind = models.CharField(max_length=16, choices=PullKind.choices)
    status = models.CharField(max_length=16, choices=PullStatus.choices, default=PullStatus.QUEUED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    range_start = models.DateTimeField(null=True, blank=True)
    range_end = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    progress = models.PositiveSmallIntegerField(default=0)  # percent, for "Refresh now"
    rows = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    task_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["pixel"],
                condition=Q(status__in=["queued", "running"]),
                name="quality_pullrun_one_active_per_pixel",
            ),
        ]
        indexes = [
            models.Index(fields=["pixel", "-created_at"]),
            models.Index(fields=["status", "heartbeat_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} pull of {self.pixel_id} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_PULL_STATUSES


class Source(models.TextChoices):
    TOTAL = "total", "Total"
    BROWSER = "browser", "Browser"
    SERVER = "server", "Server"


class HourlyStat(models.Model):
    """Partitioned by month on PostgreSQL (see migration 0001): the primary key holds the
    partition key ``hour``."""

    pk = models.CompositePrimaryKey("pixel_id", "event", "source", "hour")
    pixel = models.ForeignKey(Pixel, on_delete=models.CASCADE, related_name="+")
    event = models.CharField(max_length=100)
    source = models.CharField(max_length=8, choices=Source.choices)
    hour = models.DateTimeField()
    count = models.BigIntegerField()
    pulled_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["pixel", "hour"], name="quality_hourly_pixel_hour")]

    def __str__(self) -> str:
        return f"{self.event} {self.source} {self.hour:%Y-%m-%d %H:00} on {self.pixel_id}"


class DailyStat(models.Model):
    """The UTC-day rollup of ``HourlyStat``, rewritten for the days a pull touched."""

    pk = models.CompositePrimaryKey("pixel_id", "event", "source", "day")
    pixel = models.ForeignKey(Pixel, on_delete=models.CASCADE, related_name="+")
    event = models.CharField(max_length=100)
    source = models.CharField(max_length=8, choices=Source.choices)
    day = models.DateField()
    count = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["pixel", "day"], name="quality_daily_pixel_day")]

    def __str__(self) -> str:
        return f"{self.event} {self.source} {self.day} on {self.pixel_id}"


class EventQuality(models.Model):
    pixel = models.ForeignKey(Pixel, on_delete=models.CASCADE, related_name="event_quality")
    event = models.CharField(max_length=100)
    pulled_at = models.DateTimeField()
    provider = models.CharField(max_length=16, choices=Provider.choices, default=Provider.META)
    emq = models.DecimalField(max_digits=4, decimal_places=2, null=True, blank=True)
    event_coverage = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    event_coverage_goal = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    dedup_coverage = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    freshness = models.CharField(max_length=32, blank=True)
    acr = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    match_keys = models.JSONField(default=list, blank=True)
    diagnostics = models.JSONField(default=list, blank=True)
    dedupe_keys = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-pulled_at", "event"]
        constraints = [
            models.UniqueConstraint(
                fields=["pixel", "event", "pulled_at"], name="quality_eventquality_once"
            ),
        ]
        indexes = [models.Index(fields=["pixel", "event", "-pulled_at"])]

    def __str__(self) -> str:
        return f"{self.event} on {self.pixel_id} at {self.pulled_at:%Y-%m-%d %H:%M}"


class QualitySettings(models.Model):
    brand = models.OneToOneField(Brand, on_delete=models.CASCADE, related_name="quality_settings")
    emq_threshold = models.DecimalField(max_digits=3, decimal_places=1, default=Decimal("6.0"))
    dedup_threshold = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("75"))
    tolerance_pct = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("10"))
    version = models.PositiveIntegerField(default=1, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name_plural = "quality settings"

    def __str__(self) -> str:
        return f"Quality settings of {self.brand}"


class ImportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Importing"
    SUCCEEDED = "succeeded", "Imported"
    REJECTED = "rejected", "Rejected: nothing imported"
    FAILED = "failed", "Failed"


class ImportMode(models.TextChoices):
    ALL_OR_NOTHING = "all", "All or nothing"
    VALID_ROWS = "valid", "Import the valid rows"


class ConversionImport(models.Model):
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="conversion_imports")
    source = models.CharField(max_length=40, default="crm")
    channel = models.CharField(max_length=8, default="upload")  # upload | api
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    filename = models.CharField(max_length=255, blank=True)
    file = models.FileField(upload_to="conversion-imports/", blank=True)
    size_bytes = models.PositiveBigIntegerField(default=0)
    mode = models.CharField(
        max_length=8, choices=ImportMode.choices, default=ImportMode.ALL_OR_NOTHING
    )
    status = models.CharField(
        max_length=16, choices=ImportStatus.choices, default=ImportStatus.QUEUED
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_rows = models.PositiveIntegerField(default=0)
    updated_rows = models.PositiveIntegerField(default=0)
    unchanged_rows = models.PositiveIntegerField(default=0)
    error_rows = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)  # [{"row", "column", "message"}], capped
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["brand", "-created_at"])]

    def __str__(self) -> str:
        return f"Import {self.pk} of {self.brand} ({self.status})"


class Conversion(models.Model):
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="conversions")
    source = models.CharField(max_length=40, default="crm")
    external_id = models.CharField(max_length=200)
    event = models.CharField(max_length=50)  # a tracking-plan event name
    occurred_at = models.DateTimeField()
    value = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    ad_account = models.ForeignKey(
        AdAccount, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    campaign = models.CharField(max_length=200, blank=True)
    conversion_import = models.ForeignKey(
        ConversionImport, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-occurred_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["brand", "source", "external_id"], name="quality_conversion_once"
            ),
        ]
        indexes = [models.Index(fields=["brand", "event", "occurred_at"])]

    def __str__(self) -> str:
        return f"{self.event} {self.external_id} ({self.source})"


class AlertKind(models.TextChoices):
    SILENT = "silent", "Pixel silent"
    VOLUME_DROP = "volume_drop", "Event volume drop"
    EMQ_BELOW = "emq_below", "Event Match Quality below"
    DEDUP_BELOW = "dedup_below", "Dedup coverage below"
    DISCREPANCY = "discrepancy", "Discrepancy outside the band"
    CONNECTION_BROKEN = "connection_broken", "Connection broken"


class AlertRule(models.Model):
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="alert_rules")
    kind = models.CharField(max_length=20, choices=AlertKind.choices)
    # hours (silent), percent of the 7-day average (volume drop), EMQ 0-10, percent
    # (dedup); unused for discrepancy (the brand's tolerance band) and connection broken.
    threshold = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    event = models.CharField(max_length=100, blank=True)  # blank: every key event
    pixel = models.ForeignKey(
        Pixel, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    enabled = models.BooleanField(default=True)
    notify_email = models.BooleanField(default=True)
    webhook_url = models.URLField(max_length=500, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind", "pk"]
        indexes = [models.Index(fields=["brand", "enabled"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.brand})"


class AlertStatus(models.TextChoices):
    OPEN = "open", "Open"
    RESOLVED = "resolved", "Resolved"


class Alert(models.Model):
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="alerts")
    rule = models.ForeignKey(
        AlertRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts"
    )
    kind = models.CharField(max_length=20, choices=AlertKind.choices)
    pixel = models.ForeignKey(
        Pixel, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    event = models.CharField(max_length=100, blank=True)
    subject_key = models.CharField(max_length=200)  # what it is about: "pixel:12:Purchase"
    status = models.CharField(max_length=16, choices=AlertStatus.choices, default=AlertStatus.OPEN)
    message = models.TextField()
    value = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    threshold = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    opened_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)
    webhook_status = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-opened_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "subject_key"],
                condition=Q(status="open"),
                name="quality_alert_open_once",
            ),
        ]
        indexes = [models.Index(fields=["brand", "status", "-opened_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.subject_key} ({self.status})"
