"""The user's own page (``/me/``): their roles per brand and their personal API tokens.

A new token's plaintext exists only in the response to the POST that created it: that
response renders the page (or, with htmx, its token region) instead of redirecting, and
is marked ``Cache-Control: no-store`` so neither the browser nor a proxy keeps it. Only
the token's hash is stored, so it can never be shown again.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.views.decorators.http import require_GET, require_POST

from koastops.accounts import policies, tokens
from koastops.accounts.http import AuthenticatedRequest
from koastops.accounts.models import ApiToken, User
from koastops.core.forms import add_service_error
from koastops.core.htmx import add_toast, render_page

TEMPLATE = "accounts/profile.html"
TOKENS_REGION = "api-tokens"


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label="Token name",
        max_length=100,
        help_text="What will use it, e.g. “Looker export” — so you know which one to revoke.",
    )
    expires_in_days = forms.IntegerField(
        label="Expires after (days)",
        min_value=1,
        max_value=tokens.MAX_LIFETIME_DAYS,
        initial=90,
        help_text=f"Between 1 and {tokens.MAX_LIFETIME_DAYS} days.",
    )


def _context(
    user: User, form: ApiTokenForm, *, new_token: str = "", new_token_row: ApiToken | None = None
) -> dict[str, Any]:
    now = timezone.now()
    api_tokens = list(user.api_tokens.order_by("-created_at", "-pk"))
    for token in api_tokens:
        token.status = tokens.token_status(token, now)  # type: ignore[attr-defined]
    return {
        "roles": policies.roles_of(user),
        "is_admin": policies.is_admin(user),
        "api_tokens": api_tokens,
        "form": form,
        "new_token": new_token,
        "new_token_row": new_token_row,
    }


def _partial(request: AuthenticatedRequest) -> str | None:
    """The token region only when htmx swaps that region; otherwise the whole page."""
    htmx = request.htmx
    return TOKENS_REGION if htmx and htmx.target == TOKENS_REGION else None


@require_GET
def profile_detail(request: AuthenticatedRequest) -> HttpResponse:
    return render_page(
        request, TEMPLATE, _context(request.user, ApiTokenForm()), partial=_partial(request)
    )


@require_POST
def token_create(request: AuthenticatedRequest) -> HttpResponse:
    form = ApiTokenForm(request.POST)
    if form.is_valid():
        try:
            row, plaintext = tokens.api_token_create(
                user=request.user,
                name=form.cleaned_data["name"],
                expires_in_days=form.cleaned_data["expires_in_days"],
            )
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            # Rendered, not redirected: this answer is the only place the token appears.
            context = _context(request.user, ApiTokenForm(), new_token=plaintext, new_token_row=row)
            response = render_page(request, TEMPLATE, context, partial=_partial(request))
            add_never_cache_headers(response)
            patch_cache_control(response, no_store=True)
            return add_toast(response, f"Token “{row.name}” created.") if request.htmx else response
    return render_page(
        request, TEMPLATE, _context(request.user, form), partial=_partial(request), status=422
    )


@require_POST
def token_revoke(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    # Another user's token answers 404, like one that does not exist.
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    if tokens.api_token_revoke(user=request.user, token=token):
        message = f"Token “{token.name}” revoked. It stops working at once."
    else:
        message = f"Token “{token.name}” was already revoked."
    if request.htmx:
        response = render_page(
            request, TEMPLATE, _context(request.user, ApiTokenForm()), partial=TOKENS_REGION
        )
        return add_toast(response, message)
    messages.success(request, message)
    return redirect("profile:detail")
