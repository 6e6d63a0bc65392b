"""Admin for support work, view-only: launches, their structure, limits, runs, reviews,
overrides and regressions change only through the launch pages, the API and the workers
(services: policy check, version, activity log)."""

from __future__ import annotations

from django.contrib import admin

from koastops.core.admin_base import ReadOnlyModelAdmin
from koastops.launches.models import (
    Ad,
    AdSet,
    BudgetLimit,
    CheckOverride,
    CheckResult,
    CheckRun,
    Launch,
    Regression,
    Review,
)


@admin.register(Launch)
class LaunchAdmin(ReadOnlyModelAdmin):
    list_display = ("campaign_name", "brand", "ad_account", "state", "state_changed_at")
    list_filter = ("state", "objective")
    list_select_related = ("brand", "ad_account")
    search_fields = ("campaign_name", "platform_campaign_id")


@admin.register(AdSet)
class AdSetAdmin(ReadOnlyModelAdmin):
    list_display = ("name", "launch", "market", "position")
    list_select_related = ("launch", "market")
    search_fields = ("name",)


@admin.register(Ad)
class AdAdmin(ReadOnlyModelAdmin):
    list_display = ("name", "ad_set", "landing_url", "position")
    list_select_related = ("ad_set",)
    search_fields = ("name", "landing_url")


@admin.register(BudgetLimit)
class BudgetLimitAdmin(ReadOnlyModelAdmin):
    list_display = ("ad_account", "daily_min", "daily_max", "lifetime_max", "updated_at")
    list_select_related = ("ad_account",)


@admin.register(CheckRun)
class CheckRunAdmin(ReadOnlyModelAdmin):
    list_display = ("launch", "trigger", "state", "completed", "total", "created_at")
    list_filter = ("state", "trigger")
    list_select_related = ("launch",)


@admin.register(CheckResult)
class CheckResultAdmin(ReadOnlyModelAdmin):
    list_display = ("run", "key", "severity", "status", "finished_at")
    list_filter = ("status", "severity", "key")
    list_select_related = ("run",)


@admin.register(Review)
class ReviewAdmin(ReadOnlyModelAdmin):
    list_display = ("launch", "decision", "reviewer", "created_at")
    list_filter = ("decision",)
    list_select_related = ("launch", "reviewer")


@admin.register(CheckOverride)
class CheckOverrideAdmin(ReadOnlyModelAdmin):
    list_display = ("launch", "check_key", "overridden_by", "created_at")
    list_select_related = ("launch", "overridden_by")


@admin.register(Regression)
class RegressionAdmin(ReadOnlyModelAdmin):
    list_display = ("launch", "check_key", "status", "opened_at", "resolved_at")
    list_filter = ("status",)
    list_select_related = ("launch",)
