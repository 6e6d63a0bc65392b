"""Launch pages: budget limits — the brand's ad accounts the user may use with their
limits (what the checklist's budget check reads), and the ops lead's form per account.
Writes only through ``services.budget_limit_save`` (compare-and-set on the version)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_http_methods

from koastops.accounts import policies
from koastops.accounts.http import AuthenticatedRequest
from koastops.accounts.models import Role
from koastops.catalog.models import AdAccount, Brand
from koastops.core.exceptions import StaleVersion
from koastops.core.forms import add_service_error, parse_version
from koastops.core.htmx import render_page, saved_response
from koastops.core.pagination import paginate
from koastops.launches import services
from koastops.launches.forms import BudgetLimitForm
from koastops.launches.models import BudgetLimit


def _amount(value: Any) -> str:
    return "" if value is None else f"{value:.2f}"


@require_GET
@policies.brand_capability("launch.view")
def limit_list(request: AuthenticatedRequest, *, brand: Brand, role: Role | None) -> HttpResponse:
    accounts = (
        policies.ad_accounts_for(request.user, brand, role=role)
        .select_related("budget_limit", "budget_limit__updated_by")
        .order_by("name", "pk")
    )
    page = paginate(request, accounts)
    rows = []
    for account in page:
        limit: BudgetLimit | None = getattr(account, "budget_limit", None)
        rows.append(
            {
                "account": account,
                "limit": limit,
                "daily_min": _amount(limit.daily_min) if limit else "",
                "daily_max": _amount(limit.daily_max) if limit else "",
                "lifetime_max": _amount(limit.lifetime_max) if limit else "",
            }
        )
    context = {
        "brand": brand,
        "tab": "launches",
        "page": page,
        "rows": rows,
        "can_edit": policies.can(request.user, "launch.limits", brand, role=role),
    }
    return render_page(request, "launches/limits.html", context, partial="limit-table")


def _account(request: AuthenticatedRequest, brand: Brand, role: Role | None, pk: int) -> AdAccount:
    account = (
        policies.ad_accounts_for(request.user, brand, role=role)
        .select_related("budget_limit")
        .filter(pk=pk)
        .first()
    )
    if account is None:
        raise Http404("No such ad account.")
    return account


def _initial(account: AdAccount) -> dict[str, Any]:
    limit: BudgetLimit | None = getattr(account, "budget_limit", None)
    if limit is None:
        return {"version": "0"}
    return {
        "version": str(limit.version),
        "daily_min": _amount(limit.daily_min),
        "daily_max": _amount(limit.daily_max),
        "lifetime_max": _amount(limit.lifetime_max),
    }


@require_http_methods(["GET", "POST"])
@policies.brand_capability("launch.limits")
def limit_edit(
    request: AuthenticatedRequest, account_pk: int, *, brand: Brand, role: Role | None
) -> HttpResponse:
    account = _account(request, brand, role, account_pk)
    form = BudgetLimitForm(
        request.POST if request.method == "POST" else None,
        initial=_initial(account),
        currency=account.currency,
    )
    stale = False
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        version = parse_version(data.get("version"))
        try:
            if version is None:
                raise StaleVersion(expected_version=-1, current_version=0)
            services.budget_limit_save(
                user=request.user,
                ad_account=account,
                daily_min=data.get("daily_min"),
                daily_max=data.get("daily_max"),
                lifetime_max=data.get("lifetime_max"),
                expected_version=version,
            )
        except ValidationError as exc:
            add_service_error(form, exc)
            status = 422
        except StaleVersion:
            account = _account(request, brand, role, account_pk)
            form = BudgetLimitForm(initial=_initial(account), currency=account.currency)
            stale = True
            status = 409 if request.htmx else 200
        else:
            url = reverse("launches:limits", kwargs={"slug": brand.slug})
            return saved_response(request, url, f"Budget limits of {account.name} saved.")
    elif request.method == "POST":
        status = 422
    return render_page(
        request,
        "launches/limit_form.html",
        {"brand": brand, "tab": "launches", "form": form, "account": account, "stale": stale},
        partial="limit-form",
        status=status,
    )


urlpatterns: list = [
    path("limits/", limit_list, name="limits"),
    path("limits/<int:account_pk>/", limit_edit, name="limit_edit"),
]
