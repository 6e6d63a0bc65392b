"""Django's password views, with the activity row every state change gets. The row is
written in the same transaction as the new password hash."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import views as auth_views
from django.db import transaction
from django.http import HttpResponse

from koastops.activity.services import activity_record


class PasswordChangeView(auth_views.PasswordChangeView):
    def form_valid(self, form: Any) -> HttpResponse:
        with transaction.atomic():
            response = super().form_valid(form)
            activity_record(verb="user.password_changed", actor=form.user, target=form.user)
        return response


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    def form_valid(self, form: Any) -> HttpResponse:
        with transaction.atomic():
            response = super().form_valid(form)
            activity_record(verb="user.password_reset", actor=form.user, target=form.user)
        return response
