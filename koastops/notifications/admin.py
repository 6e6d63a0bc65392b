"""Notifications are written by the services that notify; the admin only looks them up."""

from __future__ import annotations

from django.contrib import admin

from koastops.core.admin_base import ReadOnlyModelAdmin
from koastops.notifications.models import Notification


@admin.register(Notification)
class NotificationAdmin(ReadOnlyModelAdmin):
    list_display = ("title", "user", "kind", "created_at", "read_at", "emailed_at")
    list_filter = ("kind",)
    list_select_related = ("user",)
    search_fields = ("title", "user__email", "key")
