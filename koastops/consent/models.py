"""Consent configs per brand and market and the legal sign-offs bound to their content.

A config's ``content`` is the canonical document of ``koastops.consent.content`` and
``content_hash`` its hash (market included); ``internal_notes`` lie outside the hash.
The latest decision is copied onto the config (``last_signoff``, ``signed_hash``,
``decision``, ``expires_at``) by the same transaction that records it, so a list of any
length computes every status in SQL from one table (``selectors.with_status``), with the
same rule as ``content.review_status``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from koastops.catalog.models import Brand, Market


class Decision(models.TextChoices):
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


# Why a reviewer rejects: at least one is required, "other" also needs a comment.
REJECTION_REASONS: dict[str, str] = {
    "defaults": "Default consent state not compliant for this market",
    "signals": "Consent Mode v2 signals missing or wrong",
    "gating": "Pixels or events fire before consent",
    "meta": "Meta consent gating missing or wrong",
    "ldu": "Limited Data Use wrong for this market",
    "platform": "Consent platform or banner setup not approved",
    "other": "Other (explain in the comment)",
}


class ConsentPolicy(models.Model):
    """A brand's consent settings: how long a sign-off stays valid."""

    brand = models.OneToOneField(Brand, on_delete=models.CASCADE, related_name="consent_policy")
    signoff_validity_months = models.PositiveSmallIntegerField(default=12)
    version = models.PositiveIntegerField(default=1, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name_plural = "consent policies"

    def __str__(self) -> str:
        return f"Consent policy of {self.brand}"


class ConsentConfig(models.Model):
    brand = models.ForeignKey(Brand, on_delete=models.PROTECT, related_name="consent_configs")
    market = models.ForeignKey(Market, on_delete=models.PROTECT, related_name="+")
    content = models.JSONField(default=dict, editable=False)
    content_hash = models.CharField(max_length=64, editable=False)
    internal_notes = models.TextField(blank=True)
    # Bumped by every edit (notes included): edits and reviews name the version they saw.
    version = models.PositiveIntegerField(default=1, editable=False)
    # Who last changed the signed content (not the notes): they may not sign it off.
    content_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    content_changed_at = models.DateTimeField(null=True, blank=True)
    # The latest decision, copied here by consent_decide (see the module docstring).
    last_signoff = models.ForeignKey(
        "ConsentSignOff", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    signed_hash = models.CharField(max_length=64, blank=True, editable=False)
    decision = models.CharField(max_length=16, choices=Decision.choices, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["market__name"]
        constraints = [
            models.UniqueConstraint(fields=["brand", "market"], name="consent_config_brand_market"),
        ]

    def __str__(self) -> str:
        return f"Consent config {self.market.code}" if self.market_id else "Consent config"


class ConsentSignOff(models.Model):
    """One decision by a legal reviewer on one exact content (hash and version): with the
    content itself, so the evidence export shows what was signed."""

    config = models.ForeignKey(ConsentConfig, on_delete=models.PROTECT, related_name="signoffs")
    brand = models.ForeignKey(Brand, on_delete=models.PROTECT, related_name="+")
    market = models.ForeignKey(Market, on_delete=models.PROTECT, related_name="+")
    # The n-th decision on this config: two decisions made against the same state of the
    # config would share a number, and the database refuses the second.
    sequence = models.PositiveIntegerField()
    config_version = models.PositiveIntegerField()
    content_hash = models.CharField(max_length=64)
    content = models.JSONField()
    decision = models.CharField(max_length=16, choices=Decision.choices)
    reasons = models.JSONField(default=list, blank=True)  # REJECTION_REASONS keys
    comment = models.TextField(blank=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewer_label = models.CharField(max_length=255)
    decided_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)  # approved only

    class Meta:
        ordering = ["-decided_at", "-pk"]
        indexes = [models.Index(fields=["config", "-decided_at"])]
        constraints = [
            models.UniqueConstraint(fields=["config", "sequence"], name="consent_signoff_sequence"),
        ]

    def __str__(self) -> str:
        return f"{self.get_decision_display()} v{self.config_version} of {self.config_id}"


class ConsentReminder(models.Model):
    """A reminder that was sent: once per config, version and threshold (``key``)."""

    config = models.ForeignKey(ConsentConfig, on_delete=models.CASCADE, related_name="reminders")
    key = models.CharField(max_length=64)  # "review:v3", "expiry30:s12"
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["config", "key"], name="consent_reminder_once"),
        ]

    def __str__(self) -> str:
        return f"{self.config_id} {self.key}"
