"""Admin for support work, view-only: the tracking plan and naming rules change through
their pages and services (policy check, version, activity log)."""

from __future__ import annotations

from django.contrib import admin

from koastops.core.admin_base import ReadOnlyModelAdmin
from koastops.taxonomy.models import (
    EventDefinition,
    EventMapping,
    EventRevision,
    NamingRule,
    TrackingPlan,
)


@admin.register(EventDefinition)
class EventDefinitionAdmin(ReadOnlyModelAdmin):
    list_display = ("name", "brand", "status", "sources", "version", "updated_at")
    list_filter = ("status", "sources", "brand")
    list_select_related = ("brand",)
    search_fields = ("name", "display_name", "brand__name")


@admin.register(EventRevision)
class EventRevisionAdmin(ReadOnlyModelAdmin):
    list_display = ("event", "version", "actor_label", "note", "created_at")
    list_select_related = ("event",)
    search_fields = ("event__name",)


@admin.register(NamingRule)
class NamingRuleAdmin(ReadOnlyModelAdmin):
    list_display = ("level", "brand", "version", "updated_at")
    list_filter = ("level",)
    list_select_related = ("brand",)


@admin.register(EventMapping)
class EventMappingAdmin(ReadOnlyModelAdmin):
    list_display = ("event", "platform", "target", "custom", "brand")
    list_filter = ("platform",)
    list_select_related = ("event", "brand")
    search_fields = ("target", "event__name")


@admin.register(TrackingPlan)
class TrackingPlanAdmin(ReadOnlyModelAdmin):
    list_display = ("brand", "version", "updated_at")
    list_select_related = ("brand",)
