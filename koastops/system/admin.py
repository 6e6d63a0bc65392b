from django.contrib import admin

from koastops.core.admin_base import ReadOnlyModelAdmin
from koastops.system.models import Heartbeat, WorkerPing


@admin.register(WorkerPing)
class WorkerPingAdmin(ReadOnlyModelAdmin):
    list_display = ("id", "status", "requested_by", "created_at", "completed_at", "worker_hostname")
    list_filter = ("status",)
    list_select_related = ("requested_by",)
    readonly_fields = ("created_at",)


@admin.register(Heartbeat)
class HeartbeatAdmin(ReadOnlyModelAdmin):
    list_display = ("name", "last_seen_at", "detail")
