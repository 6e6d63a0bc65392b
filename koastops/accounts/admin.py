from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import F
from django.http import HttpRequest

from koastops.accounts.models import (
    AdAccountGroupObjectPermission,
    AdAccountUserObjectPermission,
    ApiToken,
    BrandGroupObjectPermission,
    BrandUserObjectPermission,
    User,
)
from koastops.accounts.tokens import api_tokens_revoke_all
from koastops.activity.services import activity_record
from koastops.core.admin_base import ReadOnlyModelAdmin

# The user fields whose changes the activity log records (never the password hash).
LOGGED_USER_FIELDS = ("email", "full_name", "is_active", "is_staff", "is_superuser")


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    """Users stay editable here (creating the first admins, reactivating someone); every
    change is logged, and switching ``is_active`` off ends sessions and tokens exactly as
    deactivating on the members page does."""

    ordering = ("email",)
    list_display = ("email", "full_name", "is_active", "is_superuser", "last_login")
    search_fields = ("email", "full_name")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("full_name",)}),
        ("Status", {"fields": ("is_active", "is_staff", "is_superuser")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        # The admin's change view already runs in a transaction: the log row commits with it.
        before = {}
        if change:
            stored = User.objects.get(pk=obj.pk)
            before = {name: getattr(stored, name) for name in LOGGED_USER_FIELDS}
        super().save_model(request, obj, form, change)
        after = {name: getattr(obj, name) for name in LOGGED_USER_FIELDS}
        changed = [name for name in LOGGED_USER_FIELDS if before.get(name) != after[name]]
        if change and before.get("is_active") and not obj.is_active:
            User.objects.filter(pk=obj.pk).update(session_version=F("session_version") + 1)
            api_tokens_revoke_all(user=obj)
        if changed or not change:
            activity_record(
                verb="user.updated" if change else "user.created",
                actor=request.user,
                target=obj,
                before={name: before[name] for name in changed} if change else {},
                after={name: after[name] for name in changed},
            )


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyModelAdmin):
    list_display = (
        "name",
        "user",
        "prefix",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    )
    list_select_related = ("user",)
    search_fields = ("name", "user__email", "prefix")
    exclude = ("token_hash",)


@admin.register(BrandUserObjectPermission)
class RoleGrantAdmin(ReadOnlyModelAdmin):
    """Roles on brands, for looking up; grant and revoke on the brand's members page."""

    list_display = ("user", "permission", "content_object")
    list_select_related = ("user", "permission", "content_object")
    search_fields = ("user__email", "content_object__name")


@admin.register(AdAccountUserObjectPermission)
class AdAccountNarrowingAdmin(ReadOnlyModelAdmin):
    list_display = ("user", "permission", "content_object")
    list_select_related = ("user", "permission", "content_object")
    search_fields = ("user__email", "content_object__name")


# Group grants are not used (roles are per user) but are registered so nothing is hidden.
admin.site.register(BrandGroupObjectPermission, ReadOnlyModelAdmin)
admin.site.register(AdAccountGroupObjectPermission, ReadOnlyModelAdmin)
