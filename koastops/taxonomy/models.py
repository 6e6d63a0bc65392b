"""The tracking plan (event definitions and their history) and the naming rules.

An event definition's content lives in one canonical JSON document (``content``, the
``koastops.taxonomy.content.EventContent.to_dict`` form); the columns beside it (name,
status, sources, owner) and the ``EventMapping`` rows repeat what lists filter and drift
queries group on, and are rewritten from the content by every write (services only).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from koastops.catalog.models import Brand, Platform
from koastops.taxonomy.catalogue import NAMING_LEVELS, SOURCES, STATUSES


class EventStatus(models.TextChoices):
    DRAFT = "draft", STATUSES["draft"]
    ACTIVE = "active", STATUSES["active"]
    DEPRECATED = "deprecated", STATUSES["deprecated"]


class EventSources(models.TextChoices):
    BROWSER = "browser", SOURCES["browser"]
    SERVER = "server", SOURCES["server"]
    BOTH = "both", SOURCES["both"]


class NamingLevel(models.TextChoices):
    CAMPAIGN = "campaign", NAMING_LEVELS["campaign"]
    ADSET = "adset", NAMING_LEVELS["adset"]
    AD = "ad", NAMING_LEVELS["ad"]
    UTM_CAMPAIGN = "utm_campaign", NAMING_LEVELS["utm_campaign"]
    EVENT_NAME = "event_name", NAMING_LEVELS["event_name"]


class TrackingPlan(models.Model):
    """One per brand: its version moves with every change to any of the brand's events, so
    an import confirmed against one state of the plan is refused if the plan moved on."""

    brand = models.OneToOneField(Brand, on_delete=models.CASCADE, related_name="tracking_plan")
    version = models.PositiveIntegerField(default=1, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Tracking plan of {self.brand}"


class EventDefinition(models.Model):
    brand = models.ForeignKey(Brand, on_delete=models.PROTECT, related_name="events")
    name = models.CharField(max_length=50)
    display_name = models.CharField(max_length=120, blank=True)
    owner = models.CharField(max_length=120, blank=True)
    status = models.CharField(max_length=16, choices=EventStatus.choices, default=EventStatus.DRAFT)
    sources = models.CharField(
        max_length=16, choices=EventSources.choices, default=EventSources.BROWSER
    )
    content = models.JSONField(default=dict, editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                "brand", Lower("name"), name="taxonomy_event_brand_name_ci_unique"
            ),
        ]
        indexes = [models.Index(fields=["brand", "status"])]

    def __str__(self) -> str:
        return self.name


class EventMapping(models.Model):
    """The platform event an event definition maps to (a copy of one entry of its
    content's ``mappings``), for filters and the drift view's clash query."""

    event = models.ForeignKey(EventDefinition, on_delete=models.CASCADE, related_name="mappings")
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+")
    platform = models.CharField(max_length=16, choices=Platform.choices)
    target = models.CharField(max_length=100)
    custom = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["event", "platform"], name="taxonomy_mapping_event_platform"
            ),
        ]
        indexes = [models.Index(fields=["brand", "platform", "target"])]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.platform}:{self.target}"


class EventRevision(models.Model):
    """The content of one version of an event, kept for its history and diffs."""

    event = models.ForeignKey(EventDefinition, on_delete=models.CASCADE, related_name="revisions")
    version = models.PositiveIntegerField()
    content = models.JSONField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=255, blank=True)
    note = models.CharField(max_length=120, blank=True)  # "created", "imported", ...
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(fields=["event", "version"], name="taxonomy_revision_version"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} v{self.version}"


class NamingRule(models.Model):
    """The rule for one level: the brand's own (``brand`` set) or the install-wide default
    (``brand`` empty, admins only). ``spec`` is the engine's rule document
    (``koastops.taxonomy.naming``), validated by the service before it is saved."""

    brand = models.ForeignKey(
        Brand, null=True, blank=True, on_delete=models.CASCADE, related_name="naming_rules"
    )
    level = models.CharField(max_length=16, choices=NamingLevel.choices)
    spec = models.JSONField(default=dict)
    version = models.PositiveIntegerField(default=1, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["level"]
        constraints = [
            models.UniqueConstraint(
                fields=["brand", "level"],
                condition=Q(brand__isnull=False),
                name="taxonomy_rule_brand_level",
            ),
            models.UniqueConstraint(
                fields=["level"],
                condition=Q(brand__isnull=True),
                name="taxonomy_rule_default_level",
            ),
        ]

    def __str__(self) -> str:
        scope = self.brand.name if self.brand_id and self.brand else "Install default"
        return f"{scope}: {self.get_level_display()}"
