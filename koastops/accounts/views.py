"""The members page of a brand: who holds which role, invitations, role changes, ad-account
narrowing, revocation and deactivation.

``members.view`` opens the page, ``members.manage`` every change (``policies`` answers
404 for a brand without a role, 403 for a missing capability). The services check the
policy again and write the activity rows. Every change form posts to a real URL: without
JavaScript it is POST → redirect → GET with a flash message; with htmx the answer is the
member table (and a toast), and an invalid form comes back with its errors and 422.

Forms carry the list's query string (``?q=…&page=…``) in their action, so the table that
comes back after a change shows the same search and page.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseLocation, reswap, retarget

from koastops.accounts import policies, selectors, services
from koastops.accounts.forms import MemberInviteForm, MemberRoleForm, MemberSearchForm
from koastops.accounts.http import AuthenticatedRequest
from koastops.accounts.models import Role, User
from koastops.catalog.models import AdAccount, Brand
from koastops.core.htmx import add_toast, render_page, wants_fragment
from koastops.core.pagination import paginate

TEMPLATE = "accounts/members.html"


# --- helpers ---------------------------------------------------------------------------


def _list_url(brand: Brand, request: AuthenticatedRequest) -> str:
    url = reverse("members:list", args=[brand.slug])
    query = request.GET.urlencode()
    return f"{url}?{query}" if query else url


def _context(
    request: AuthenticatedRequest,
    *,
    brand: Brand,
    role: Role | None,
    ad_accounts: list[AdAccount],
    invite_form: MemberInviteForm | None = None,
    invalid_row: tuple[int, MemberRoleForm] | None = None,
    refused: tuple[int, ValidationError] | None = None,
) -> dict[str, Any]:
    search = MemberSearchForm(request.GET).search()
    page = paginate(request, selectors.member_list(brand=brand, search=search))
    rows = selectors.member_rows(
        actor=request.user, brand=brand, users=page.object_list, ad_accounts=ad_accounts
    )
    if invalid_row is not None:
        user_id, form = invalid_row
        for row in rows:
            if row.user.pk == user_id:
                row.errors = form.errors
                row.non_field_errors = form.non_field_errors()
                row.form_role = form.data.get("role", "")
                # Bound to request.POST by member_role (forms type ``data`` as a Mapping).
                posted = cast(QueryDict, form.data)
                row.form_ad_account_ids = {
                    int(value)
                    for value in posted.getlist("ad_accounts")
                    if value.isascii() and value.isdigit()
                }
    if refused is not None:
        user_id, error = refused
        for row in rows:
            if row.user.pk == user_id:
                row.action_errors = error.messages
    narrowable = selectors.active_ad_accounts(ad_accounts)
    return {
        "brand": brand,
        "tab": "members",
        "page": page,
        "rows": rows,
        "q": search,
        "list_url": reverse("members:list", args=[brand.slug]),
        "list_query": request.GET.urlencode(),
        "roles": Role.choices,
        "narrowable_ad_accounts": narrowable,
        "can_manage": policies.can(request.user, "members.manage", brand, role=role),
        "invite_form": invite_form or MemberInviteForm(ad_accounts=ad_accounts),
    }


def _changed(
    request: AuthenticatedRequest,
    *,
    brand: Brand,
    role: Role | None,
    ad_accounts: list[AdAccount],
    message: str,
    reset_invite_form: bool = False,
) -> HttpResponse:
    """After a successful change: the refreshed table with a toast (htmx), or redirect."""
    if not policies.can(request.user, "members.view", brand):
        # The actor revoked their own role: the page is gone for them.
        url = reverse("catalog:brand_list")
        messages.success(request, message)
        if request.htmx:
            return add_toast(HttpResponseLocation(url, target="#main", select="#main"), message)
        return redirect(url)
    if not wants_fragment(request):
        messages.success(request, message)
        return redirect(_list_url(brand, request))
    context = _context(request, brand=brand, role=role, ad_accounts=ad_accounts)
    context["invite_oob"] = True
    partial = "member-table-and-invite-form" if reset_invite_form else "member-table"
    return add_toast(render(request, f"{TEMPLATE}#{partial}", context), message)


def _refused(
    request: AuthenticatedRequest,
    *,
    brand: Brand,
    role: Role | None,
    ad_accounts: list[AdAccount],
    user: User,
    error: ValidationError,
) -> HttpResponse:
    """A revocation or deactivation the service refused: the table with the reason on the
    member's row (422), and the reason as a toast for htmx."""
    context = _context(
        request, brand=brand, role=role, ad_accounts=ad_accounts, refused=(user.pk, error)
    )
    response = render_page(request, TEMPLATE, context, partial="member-table", status=422)
    if wants_fragment(request):
        add_toast(response, " ".join(error.messages), level="error")
    return response


def _member_name(user: User) -> str:
    return user.full_name or user.email


# --- views -----------------------------------------------------------------------------


@require_GET
@policies.brand_capability("members.view")
def member_list(request: AuthenticatedRequest, *, brand: Brand, role: Role | None) -> HttpResponse:
    ad_accounts = selectors.brand_ad_accounts(brand=brand)
    context = _context(request, brand=brand, role=role, ad_accounts=ad_accounts)
    return render_page(request, TEMPLATE, context, partial="member-table")


@require_POST
@policies.brand_capability("members.manage")
def member_invite(
    request: AuthenticatedRequest, *, brand: Brand, role: Role | None
) -> HttpResponse:
    ad_accounts = selectors.brand_ad_accounts(brand=brand)
    form = MemberInviteForm(request.POST, ad_accounts=ad_accounts)
    if form.is_valid():
        data = form.cleaned_data
        try:
            user = services.member_invite(
                actor=request.user,
                brand=brand,
                email=data["email"],
                role=Role(data["role"]),
                full_name=data["full_name"],
                ad_accounts=data["ad_accounts"],
            )
        except ValidationError as exc:
            form.add_service_error(exc)
        else:
            message = f"{user.email} is now {Role(data['role']).label} on {brand.name}."
            return _changed(
                request,
                brand=brand,
                role=role,
                ad_accounts=ad_accounts,
                message=message,
                reset_invite_form=True,
            )
    context = _context(request, brand=brand, role=role, ad_accounts=ad_accounts, invite_form=form)
    if wants_fragment(request):
        response = render(request, f"{TEMPLATE}#invite-form", context, status=422)
        return reswap(retarget(response, "#invite-form"), "outerHTML")
    return render(request, TEMPLATE, context, status=422)


@require_POST
@policies.brand_capability("members.manage")
def member_role(
    request: AuthenticatedRequest, user_id: int, *, brand: Brand, role: Role | None
) -> HttpResponse:
    member = selectors.member_for_change(brand=brand, user_id=user_id)
    ad_accounts = selectors.brand_ad_accounts(brand=brand)
    form = MemberRoleForm(request.POST, ad_accounts=ad_accounts)
    if form.is_valid():
        new_role = Role(form.cleaned_data["role"])
        chosen = form.cleaned_data["ad_accounts"]
        try:
            services.member_grant_role(
                actor=request.user,
                brand=brand,
                user=member,
                role=new_role,
                # Always passed: the service refuses a narrowing for any other role.
                ad_accounts=chosen,
            )
        except ValidationError as exc:
            form.add_service_error(exc)
        else:
            scope = ""
            if new_role == Role.MEDIA_BUYER:
                count = len(chosen)
                scope = (
                    f" ({count} ad account{'' if count == 1 else 's'})"
                    if count
                    else " (all ad accounts)"
                )
            message = f"{_member_name(member)} is now {new_role.label}{scope}."
            return _changed(
                request, brand=brand, role=role, ad_accounts=ad_accounts, message=message
            )
    context = _context(
        request, brand=brand, role=role, ad_accounts=ad_accounts, invalid_row=(member.pk, form)
    )
    return render_page(request, TEMPLATE, context, partial="member-table", status=422)


@require_POST
@policies.brand_capability("members.manage")
def member_revoke(
    request: AuthenticatedRequest, user_id: int, *, brand: Brand, role: Role | None
) -> HttpResponse:
    member = selectors.member_for_change(brand=brand, user_id=user_id)
    ad_accounts = selectors.brand_ad_accounts(brand=brand)
    try:
        services.member_revoke_role(actor=request.user, brand=brand, user=member)
    except ValidationError as exc:
        return _refused(
            request, brand=brand, role=role, ad_accounts=ad_accounts, user=member, error=exc
        )
    return _changed(
        request,
        brand=brand,
        role=role,
        ad_accounts=ad_accounts,
        message=f"{_member_name(member)} no longer has a role on {brand.name}.",
    )


@require_POST
@policies.brand_capability("members.manage")
def member_deactivate(
    request: AuthenticatedRequest, user_id: int, *, brand: Brand, role: Role | None
) -> HttpResponse:
    member = selectors.member_for_change(brand=brand, user_id=user_id)
    ad_accounts = selectors.brand_ad_accounts(brand=brand)
    # PermissionDenied (403) when the member holds roles on brands the actor does not lead.
    try:
        changed = services.user_deactivate(actor=request.user, user=member, brand=brand)
    except ValidationError as exc:
        return _refused(
            request, brand=brand, role=role, ad_accounts=ad_accounts, user=member, error=exc
        )
    name = _member_name(member)
    message = (
        f"{name} is deactivated and signed out everywhere."
        if changed
        else f"{name} was already deactivated."
    )
    return _changed(request, brand=brand, role=role, ad_accounts=ad_accounts, message=message)
