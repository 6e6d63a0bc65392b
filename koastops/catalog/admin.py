"""Admin for support work, view-only: changes go through the catalog pages and their
services (policy check + activity log). Markets are reference data shipped by a migration;
pixel credentials are never shown."""

from __future__ import annotations

from django.contrib import admin

from koastops.catalog.models import AdAccount, Brand, Market, Pixel
from koastops.core.admin_base import ReadOnlyModelAdmin


@admin.register(Market)
class MarketAdmin(ReadOnlyModelAdmin):
    list_display = ("code", "name", "privacy_regime")
    list_filter = ("privacy_regime",)
    search_fields = ("code", "name")
    ordering = ("name",)


@admin.register(Brand)
class BrandAdmin(ReadOnlyModelAdmin):
    list_display = ("name", "slug", "status", "created_at")
    list_filter = ("status", "markets__privacy_regime")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    filter_horizontal = ("markets",)
    readonly_fields = ("archived_at", "created_at", "updated_at")


@admin.register(AdAccount)
class AdAccountAdmin(ReadOnlyModelAdmin):
    list_display = ("name", "external_id", "platform", "brand", "currency", "time_zone", "status")
    list_filter = ("platform", "status", "brand")
    list_select_related = ("brand",)
    search_fields = ("external_id", "name", "brand__name")
    autocomplete_fields = ("brand",)
    filter_horizontal = ("markets",)
    readonly_fields = ("archived_at", "created_at", "updated_at")


@admin.register(Pixel)
class PixelAdmin(ReadOnlyModelAdmin):
    list_display = (
        "name",
        "external_id",
        "platform",
        "brand",
        "capi_enabled",
        "has_access_token",
        "last_fired_at",
        "status",
    )
    list_filter = ("platform", "status", "capi_enabled", "brand")
    list_select_related = ("brand",)
    search_fields = ("external_id", "name", "brand__name")
    autocomplete_fields = ("brand",)
    filter_horizontal = ("ad_accounts",)
    # The ciphertext never leaves the database through the admin; tokens are set on the
    # pixel's token page.
    exclude = ("access_token_encrypted",)
    readonly_fields = (
        "has_access_token",
        "access_token_changed_at",
        "archived_at",
        "created_at",
        "updated_at",
    )

    @admin.display(boolean=True, description="Access token set")
    def has_access_token(self, obj: Pixel) -> bool:
        return obj.has_access_token
