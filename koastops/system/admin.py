from django.contrib import admin

from koastops.core.admin_base import ReadOnlyModelAdmin
from koastops.system.models import Heartbeat, SentEmail, TaskDelivery, WorkerPing


@admin.register(WorkerPing)
class WorkerPingAdmin(ReadOnlyModelAdmin):
    list_display = ("id", "status", "requested_by", "created_at", "completed_at", "worker_hostname")
    list_filter = ("status",)
    list_select_related = ("requested_by",)
    readonly_fields = ("created_at",)


@admin.register(Heartbeat)
class HeartbeatAdmin(ReadOnlyModelAdmin):
    list_display = ("name", "last_seen_at", "detail")


@admin.register(TaskDelivery)
class TaskDeliveryAdmin(ReadOnlyModelAdmin):
    """Task runs whose worker died mid-run; ``given up`` ones were not run again."""

    list_display = ("task_name", "key", "deliveries", "last_delivered_at", "given_up_at")
    list_filter = ("task_name",)


@admin.register(SentEmail)
class SentEmailAdmin(ReadOnlyModelAdmin):
    """One row per task run that handed its email to the mail server (no addresses)."""

    list_display = ("task_name", "key", "sent_at")
    list_filter = ("task_name",)
