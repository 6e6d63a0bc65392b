from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower

from koastops.catalog import validators


class Platform(models.TextChoices):
    META = "meta", "Meta"
    GOOGLE = "google", "Google Ads"
    LINKEDIN = "linkedin", "LinkedIn"


class CatalogStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    ARCHIVED = "archived", "Archived"


class TimestampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class Market(models.Model):
    """A country (ISO 3166-1 alpha-2) and its privacy regime. Reference data, shipped."""

    class PrivacyRegime(models.TextChoices):
        GDPR = "gdpr", "GDPR (EEA)"
        UK_GDPR = "uk_gdpr", "UK GDPR"
        US_STATE = "us_state", "US state privacy laws"
        LGPD = "lgpd", "LGPD (Brazil)"
        NONE = "none", "No specific regime"

    code = models.CharField(max_length=2, unique=True)
    name = models.CharField(max_length=100)
    privacy_regime = models.CharField(max_length=16, choices=PrivacyRegime.choices)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Brand(TimestampedModel):
    """The unit of scope: roles, ad accounts, pixels and launches all belong to one brand."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60, unique=True)
    description = models.TextField(blank=True)
    markets = models.ManyToManyField(Market, related_name="brands", blank=True)
    status = models.CharField(
        max_length=16, choices=CatalogStatus.choices, default=CatalogStatus.ACTIVE
    )
    archived_at = models.DateTimeField(null=True, blank=True)
    # Bumped by every write (edit, archive, restore, token change); edits name the
    # version they were based on, so a concurrent change is refused, not overwritten.
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(Lower("name"), name="catalog_brand_name_ci_unique"),
        ]
        # Roles are object permissions on the brand (see koastops.accounts.policies).
        permissions = [
            ("role_ops_lead", "Ops lead"),
            ("role_media_buyer", "Media buyer"),
            ("role_legal_reviewer", "Legal reviewer"),
            ("role_analyst", "Analyst"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_archived(self) -> bool:
        return self.status == CatalogStatus.ARCHIVED


class AdAccount(TimestampedModel):
    brand = models.ForeignKey(Brand, on_delete=models.PROTECT, related_name="ad_accounts")
    platform = models.CharField(max_length=16, choices=Platform.choices)
    external_id = models.CharField("external id", max_length=40)
    name = models.CharField(max_length=120)
    currency = models.CharField(max_length=3, validators=[validators.validate_currency])
    time_zone = models.CharField(max_length=64, validators=[validators.validate_time_zone])
    markets = models.ManyToManyField(Market, related_name="ad_accounts", blank=True)
    status = models.CharField(
        max_length=16, choices=CatalogStatus.choices, default=CatalogStatus.ACTIVE
    )
    archived_at = models.DateTimeField(null=True, blank=True)
    # Bumped by every write (edit, archive, restore, token change); edits name the
    # version they were based on, so a concurrent change is refused, not overwritten.
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "external_id"], name="catalog_adaccount_platform_external_id"
            ),
        ]
        indexes = [models.Index(fields=["brand", "status"])]
        # A media buyer narrowed to chosen ad accounts holds this on each of them.
        permissions = [("use_adaccount", "Use the ad account for launches")]

    def __str__(self) -> str:
        return f"{self.name} ({self.external_id})"

    def clean(self) -> None:
        if self.platform in validators.AD_ACCOUNT_ID_RULES and self.external_id:
            try:
                validators.validate_ad_account_external_id(self.platform, self.external_id)
            except ValidationError as exc:
                raise ValidationError({"external_id": exc.messages}) from exc

    @property
    def is_archived(self) -> bool:
        return self.status == CatalogStatus.ARCHIVED


class Pixel(TimestampedModel):
    """A pixel / dataset. Its access token is stored encrypted and never rendered back."""

    brand = models.ForeignKey(Brand, on_delete=models.PROTECT, related_name="pixels")
    platform = models.CharField(max_length=16, choices=Platform.choices)
    external_id = models.CharField("external id", max_length=40)
    name = models.CharField(max_length=120)
    ad_accounts = models.ManyToManyField(AdAccount, related_name="pixels", blank=True)
    capi_enabled = models.BooleanField("Conversions API enabled", default=False)
    access_token_encrypted = models.TextField(blank=True, editable=False)
    access_token_changed_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_fired_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(
        max_length=16, choices=CatalogStatus.choices, default=CatalogStatus.ACTIVE
    )
    archived_at = models.DateTimeField(null=True, blank=True)
    # Bumped by every write (edit, archive, restore, token change); edits name the
    # version they were based on, so a concurrent change is refused, not overwritten.
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "external_id"], name="catalog_pixel_platform_external_id"
            ),
        ]
        indexes = [models.Index(fields=["brand", "status"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.external_id})"

    def clean(self) -> None:
        if self.platform in validators.PIXEL_ID_RULES and self.external_id:
            try:
                validators.validate_pixel_external_id(self.platform, self.external_id)
            except ValidationError as exc:
                raise ValidationError({"external_id": exc.messages}) from exc

    @property
    def has_access_token(self) -> bool:
        return bool(self.access_token_encrypted)

    @property
    def is_archived(self) -> bool:
        return self.status == CatalogStatus.ARCHIVED
