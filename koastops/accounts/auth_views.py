"""Django's password views, with the activity row every state change gets. The row is
written in the same transaction as the new password hash."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import views as auth_views
from django.db import transaction
from django.http import HttpResponse

from koastops.accounts.ratelimit import password_reset_allowed
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


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset form, rate limited per email address and per client IP
    (``accounts.ratelimit``). Over a limit nothing is sent and the form says to wait; the
    answer is the same whether or not the address belongs to a user."""

    def form_valid(self, form: Any) -> HttpResponse:
        if not password_reset_allowed(request=self.request, email=form.cleaned_data["email"]):
            context = self.get_context_data(form=form, rate_limited=True)
            return self.render_to_response(context, status=429)
        return super().form_valid(form)
