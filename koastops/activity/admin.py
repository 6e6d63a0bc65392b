from django.contrib import admin

from koastops.activity.models import ActivityEntry


@admin.register(ActivityEntry)
class ActivityEntryAdmin(admin.ModelAdmin):
    """Read-only: the log is append-only everywhere, the admin included."""

    list_display = ("created_at", "actor_label", "verb", "target_type", "target_label", "brand")
    list_filter = ("verb", "target_type")
    search_fields = ("actor_label", "target_label", "verb")
    list_select_related = ("brand",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
