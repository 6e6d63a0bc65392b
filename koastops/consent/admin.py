"""Admin for support work, view-only: consent configs change and are signed off through
their pages and services (policy check, version or hash, activity log)."""

from __future__ import annotations

from django.contrib import admin

from koastops.consent.models import ConsentConfig, ConsentPolicy, ConsentReminder, ConsentSignOff
from koastops.core.admin_base import ReadOnlyModelAdmin


@admin.register(ConsentConfig)
class ConsentConfigAdmin(ReadOnlyModelAdmin):
    list_display = ("brand", "market", "version", "decision", "expires_at", "updated_at")
    list_filter = ("decision", "brand")
    list_select_related = ("brand", "market")
    search_fields = ("brand__name", "market__code", "market__name")


@admin.register(ConsentSignOff)
class ConsentSignOffAdmin(ReadOnlyModelAdmin):
    list_display = ("config", "decision", "reviewer_label", "decided_at", "expires_at")
    list_filter = ("decision",)
    list_select_related = ("config__market",)
    search_fields = ("reviewer_label", "brand__name", "market__code")


@admin.register(ConsentPolicy)
class ConsentPolicyAdmin(ReadOnlyModelAdmin):
    list_display = ("brand", "signoff_validity_months", "updated_at")
    list_select_related = ("brand",)


@admin.register(ConsentReminder)
class ConsentReminderAdmin(ReadOnlyModelAdmin):
    list_display = ("config", "key", "sent_at")
