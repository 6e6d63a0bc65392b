from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.contrib.auth.hashers import is_password_usable
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse

from koastops.accounts.models import (
    AdAccountGroupObjectPermission,
    AdAccountUserObjectPermission,
    ApiToken,
    BrandGroupObjectPermission,
    BrandUserObjectPermission,
    Membership,
    User,
)
from koastops.accounts.services import user_deactivate
from koastops.activity.services import activity_record
from koastops.core.admin_base import ReadOnlyModelAdmin

# The user fields whose changes the activity log records (never the password hash).
LOGGED_USER_FIELDS = ("email", "full_name", "is_active", "is_staff", "is_superuser")


def _signed_in_admin(request: HttpRequest) -> User:
    """The admin site lets only signed-in staff in: its ``request.user`` is a ``User``."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied
    return user


class AdminUserChangeForm(UserChangeForm):
    actor: Any = None  # the signed-in admin, set by ``UserAdmin.get_form``

    def clean_is_active(self) -> bool:
        value = self.cleaned_data["is_active"]
        # ``self.instance`` still holds the stored values here. The service refuses this
        # too; the form only says so by the field instead of a 403 page.
        is_self = self.instance.pk is not None and self.instance.pk == getattr(
            self.actor, "pk", None
        )
        if is_self and self.instance.is_active and not value:
            raise ValidationError("You cannot deactivate yourself; ask another admin.")
        return value


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    """Users stay editable here (creating the first admins, reactivating someone); every
    change is logged. Switching ``is_active`` off calls the members page's service
    (``user_deactivate``: sessions and tokens end, ``member.deactivated`` is logged);
    setting a password is logged (``user.password_set``); deleting a user is refused —
    deactivate instead, so the log keeps naming who did what."""

    form = AdminUserChangeForm
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

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any):
        form = super().get_form(request, obj, change=change, **kwargs)
        if issubclass(form, AdminUserChangeForm):
            form.actor = request.user  # a class made for this request by modelform_factory
        return form

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        # The admin's change view already runs in a transaction: the log rows commit with it.
        before = {}
        deactivating = False
        if change:
            stored = User.objects.get(pk=obj.pk)
            before = {name: getattr(stored, name) for name in LOGGED_USER_FIELDS}
            deactivating = stored.is_active and not obj.is_active
            if deactivating:
                obj.is_active = True  # switched off below by the service, with its log row
        super().save_model(request, obj, form, change)
        after = {name: getattr(obj, name) for name in LOGGED_USER_FIELDS}
        changed = [name for name in LOGGED_USER_FIELDS if before.get(name) != after[name]]
        if changed or not change:
            activity_record(
                verb="user.updated" if change else "user.created",
                actor=request.user,
                target=obj,
                before={name: before[name] for name in changed} if change else {},
                after={name: after[name] for name in changed},
            )
        if deactivating:
            user_deactivate(actor=_signed_in_admin(request), user=obj)

    def user_change_password(
        self, request: HttpRequest, id: str, form_url: str = ""
    ) -> HttpResponse:
        user = self.get_object(request, unquote(id))
        with transaction.atomic():
            response = super().user_change_password(request, id, form_url)
            if user is not None and request.method == "POST":
                stored = User.objects.filter(pk=user.pk).values_list("password", flat=True).get()
                if stored != user.password:
                    activity_record(
                        verb="user.password_set",
                        actor=request.user,
                        target=user,
                        after={"usable_password": is_password_usable(stored)},
                    )
        return response


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


@admin.register(Membership)
class MembershipAdmin(ReadOnlyModelAdmin):
    """One role per user and brand, for looking up; changes on the brand's members page."""

    list_display = ("user", "brand", "role", "updated_at")
    list_filter = ("role",)
    list_select_related = ("user", "brand")
    search_fields = ("user__email", "brand__name")


@admin.register(AdAccountUserObjectPermission)
class AdAccountNarrowingAdmin(ReadOnlyModelAdmin):
    list_display = ("user", "permission", "content_object")
    list_select_related = ("user", "permission", "content_object")
    search_fields = ("user__email", "content_object__name")


# Group grants are not used (roles are per user) but are registered so nothing is hidden.
admin.site.register(BrandGroupObjectPermission, ReadOnlyModelAdmin)
admin.site.register(AdAccountGroupObjectPermission, ReadOnlyModelAdmin)
