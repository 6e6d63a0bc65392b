"""Admin for support work, view-only: connections, thresholds and alert rules change
through their pages and services (policy check, version, activity log); stats, pull runs,
imports and alerts are written by the workers. The stat tables (``HourlyStat``,
``DailyStat``) have composite primary keys, which Django's admin refuses to register;
their rows are read on the quality pages and through the API."""

from __future__ import annotations

from django.contrib import admin

from koastops.core.admin_base import ReadOnlyModelAdmin
from koastops.quality.models import (
    Alert,
    AlertRule,
    Conversion,
    ConversionImport,
    EventQuality,
    PixelConnection,
    PullRun,
    QualitySettings,
)


@admin.register(PixelConnection)
class PixelConnectionAdmin(ReadOnlyModelAdmin):
    list_display = ("pixel", "provider", "status", "counts_pulled_at", "quality_pulled_at")
    list_filter = ("provider", "status")
    list_select_related = ("pixel",)
    search_fields = ("pixel__name", "pixel__external_id")


@admin.register(PullRun)
class PullRunAdmin(ReadOnlyModelAdmin):
    list_display = ("pixel", "kind", "status", "created_at", "finished_at", "rows")
    list_filter = ("kind", "status")
    list_select_related = ("pixel",)
    search_fields = ("pixel__name", "pixel__external_id")


@admin.register(EventQuality)
class EventQualityAdmin(ReadOnlyModelAdmin):
    list_display = ("pixel", "event", "pulled_at", "emq", "dedup_coverage")
    list_select_related = ("pixel",)
    search_fields = ("pixel__name", "event")


@admin.register(QualitySettings)
class QualitySettingsAdmin(ReadOnlyModelAdmin):
    list_display = ("brand", "emq_threshold", "dedup_threshold", "tolerance_pct", "updated_at")
    list_select_related = ("brand",)


@admin.register(ConversionImport)
class ConversionImportAdmin(ReadOnlyModelAdmin):
    list_display = ("brand", "filename", "status", "created_at", "created_rows", "error_rows")
    list_filter = ("status",)
    list_select_related = ("brand",)


@admin.register(Conversion)
class ConversionAdmin(ReadOnlyModelAdmin):
    list_display = ("brand", "event", "external_id", "occurred_at", "value", "currency")
    list_select_related = ("brand",)
    search_fields = ("external_id", "event")


@admin.register(AlertRule)
class AlertRuleAdmin(ReadOnlyModelAdmin):
    list_display = ("brand", "kind", "threshold", "event", "enabled")
    list_filter = ("kind", "enabled")
    list_select_related = ("brand",)


@admin.register(Alert)
class AlertAdmin(ReadOnlyModelAdmin):
    list_display = ("brand", "kind", "subject_key", "status", "opened_at", "resolved_at")
    list_filter = ("kind", "status")
    list_select_related = ("brand",)
