"""The members page of a brand: who holds which role, invitations, role changes, ad-account
narrowing, revocation and deactivation.

``members.view`` opens the page, ``members.manage`` every change (``policies`` answers
404 for a brand without a role, 403 for a missing capability). The services check the
policy again and write the activity rows. Every change form posts to a real URL: without
JavaScript it is POST → redirect → GET with a flash message; with htmx the answer is the
member table (and a toast), and an invalid form comes back with its errors and 422.

Forms carry the list's query string (``?q=…&page=…``) in their action, so the table that
comes back after a change shows the same search and page.

The role editor (a form with selects) is not rendered on every row: "Change role" fetches
it on demand from ``members:role_edit`` (the editor fragment for htmx; without
JavaScript, the page with that row's editor open). Changing or revoking one's own role
asks first: with JavaScript the form's ``data-confirm`` dialog (its htmx request then
carries ``confirm_self=1``); without, the server answers a confirmation step on the row
and acts only on a post with ``confirm_self=1``.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse, QueryDict
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseLocation, reswap, retarget

from koastops.accounts import policies, selectors, services
from koastops.accounts.forms import MemberInviteForm, MemberRoleForm, MemberSearchForm
from koastops.accounts.http import AuthenticatedRequest
from koastops.accounts.models import Role, User
from koastops.catalog.models import AdAccount, Brand
from koastops.core.htmx import HTMX_VARY, add_toast, render_page, wants_fragment
from koastops.core.links import fast_reverse
from koastops.core.pagination import paginate_cached
from koastops.core.templatetags.ui import icon, status_badge

TEMPLATE = "accounts/members.html"


# --- helpers ---------------------------------------------------------------------------


def _list_url(brand: Brand, request: AuthenticatedRequest) -> str:
    url = reverse("members:list", args=[brand.slug])
    query = request.GET.urlencode()
    return f"{url}?{query}" if query else url


def _self_consequence(*, actor: User, brand: Brand, new_role: Role | None = None) -> str:
    """What changing (``new_role``) or revoking (None) one's own role costs, in words."""
    if policies.is_admin(actor):
        change = (
            f"your role there becomes {new_role.label}"
            if new_role
            else "you will no longer hold a role there"
        )
        return f"As an admin you keep every right on {brand.name}; {change}."
    if new_role is None:
        return (
            f"You will lose ops-lead rights on {brand.name} and every access to it: its pages "
            "answer “not found” for you from your next click. Only another ops lead or an "
            "admin can give you a role again."
        )
    return (
        f"You will lose ops-lead rights on {brand.name} and become {new_role.label}: you can "
        "no longer manage its members, ad accounts or pixels, and this page closes for you. "
        "Only another ops lead or an admin can make you ops lead again."
    )


def _posted_ad_account_ids(form: MemberRoleForm) -> set[int]:
    # Bound to request.POST by member_role (forms type ``data`` as a Mapping).
    posted = cast(QueryDict, form.data)
    return {
        int(value) for value in posted.getlist("ad_accounts") if value.isascii() and value.isdigit()
    }


def _role_form(
    member: User,
    *,
    ad_accounts: list[AdAccount],
    data: QueryDict | None = None,
    row: selectors.MemberRow | None = None,
) -> MemberRoleForm:
    """The change-role form of one member: ids unique per member (several editors can be
    open), bound to a post or showing the row's role and narrowing."""
    initial = {}
    if row is not None:
        initial = {"role": row.form_role, "ad_accounts": sorted(row.form_ad_account_ids)}
    form = MemberRoleForm(
        data, initial=initial, ad_accounts=ad_accounts, auto_id=f"role-{member.pk}-%s"
    )
    if data is None:
        # Opened on demand: the role select takes the focus (htmx honours autofocus).
        form.fields["role"].widget.attrs["autofocus"] = True
    return form


def _editor_context(
    request: AuthenticatedRequest, *, brand: Brand, ad_accounts: list[AdAccount]
) -> dict[str, Any]:
    """What the role editor needs besides its row (on the page and as a fragment)."""
    return {
        "brand": brand,
        "list_url": reverse("members:list", args=[brand.slug]),
        "list_query": request.GET.urlencode(),
        "roles": Role.choices,
        "narrowable_ad_accounts": selectors.active_ad_accounts(ad_accounts),
        "is_admin": policies.is_admin(request.user),
        "self_role_question": f"Change your own role on {brand.name}?",
        "self_role_consequence": (
            f"As an admin you keep every right on {brand.name}."
            if policies.is_admin(request.user)
            else f"You will lose ops-lead rights on {brand.name} unless you keep the role "
            "Ops lead: you can no longer manage its members, ad accounts or pixels, and this "
            "page closes for you."
        ),
        "self_revoke_consequence": _self_consequence(actor=request.user, brand=brand),
    }


_LOCKED_ACTIONS = (
    "No actions: only an admin can change the last ops lead (see the note by the role)"
)


def _row_actions(
    row: selectors.MemberRow,
    *,
    email: str,
    brand_name: str,
    csrf: str,
    self_revoke_consequence: str,
) -> SafeString:
    """The actions cell's menu of one row, as markup made once in Python: the row loop is
    the page's hot path and this menu (three forms, their confirmation texts) its bulk.
    ``email``, ``brand_name``, ``csrf`` and the consequence come escaped."""
    if not row.show_menu:
        return mark_safe(  # noqa: S308 - static text
            f'<span class="muted">{icon("lock", label=_LOCKED_ACTIONS)}</span>'
        )
    csrf_input = f'<input type="hidden" name="csrfmiddlewaretoken" value="{csrf}">'
    edit_url, revoke_url = escape(row.edit_url), escape(row.revoke_url)
    items = []
    if row.user.is_active:
        items.append(
            f'<li><a class="menu-item" href="{edit_url}" hx-get="{edit_url}" '
            f'hx-target="#member-{row.pk_str}-role" hx-swap="innerHTML">Change role'
            f'<span class="visually-hidden"> of {email}</span></a></li>'
        )
    if row.is_self:
        items.append(
            f'<li><form method="post" action="{revoke_url}" hx-post="{revoke_url}" '
            f'data-confirm-title="Remove yourself from {brand_name}?" '
            f'data-confirm="{self_revoke_consequence}" data-confirm-button="Remove me" '
            f"""data-confirm-tone="danger" hx-vals='{{"confirm_self": "1"}}'>"""
            f'{csrf_input}<button type="submit" class="menu-item menu-item-danger">Remove myself'
            f'<span class="visually-hidden"> from {brand_name}</span></button></form></li>'
        )
    else:
        items.append(
            f'<li><form method="post" action="{revoke_url}" hx-post="{revoke_url}" '
            f'data-confirm="Revoke the role of {email} on {brand_name}? They lose access to '
            'this brand at once." data-confirm-button="Revoke role" data-confirm-tone="danger">'
            f'{csrf_input}<button type="submit" class="menu-item menu-item-danger">Revoke role'
            f'<span class="visually-hidden"> of {email}</span></button></form></li>'
        )
    if row.can_deactivate:
        deactivate_url = escape(row.deactivate_url)
        items.append(
            f'<li><form method="post" action="{deactivate_url}" '
            f'hx-post="{deactivate_url}" data-confirm="Deactivate {email}? They are signed '
            'out everywhere, their API tokens stop working and they can no longer sign in." '
            'data-confirm-button="Deactivate" data-confirm-tone="danger">'
            f'{csrf_input}<button type="submit" class="menu-item menu-item-danger">Deactivate'
            f'<span class="visually-hidden"> {email}</span></button></form></li>'
        )
    return mark_safe(  # noqa: S308 - every value in it is escaped
        '<details class="row-menu"><summary class="btn btn-ghost btn-sm" '
        f'aria-label="Actions for {email}">{icon("ellipsis")}</summary>'
        f'<ul class="menu">{"".join(items)}</ul></details>'
    )


_ALL_AD_ACCOUNTS = '<span class="muted">All ad accounts</span>'


def _row_markup(row: selectors.MemberRow, *, email: str, can_manage: bool) -> None:
    """The fixed cells of one row as markup made once in Python (the row loop prints them
    around the role cell's content, the notes and the actions): ``row.start`` up to the
    role cell's content, ``row.middle`` from it to the actions cell's content, ``row.end``
    after it. ``email`` comes escaped."""
    pk = row.pk_str
    you = ' <span class="muted">(you)</span>' if row.is_self else ""
    row.start = mark_safe(  # noqa: S308 - every value in it is escaped
        f'<tr id="member-{pk}">\n<th scope="row">{escape(row.name)}{you}</th>\n'
        f'<td>{email}</td>\n<td id="member-{pk}-role">'
    )
    accounts = escape(row.ad_accounts_text) if row.is_media_buyer else _ALL_AD_ACCOUNTS
    actions_cell = '\n<td class="row-actions col-actions">' if can_manage else ""
    row.middle = mark_safe(  # noqa: S308 - every value in it is escaped
        f"</td>\n<td>{accounts}</td>\n<td>{row.badge}</td>{actions_cell}"
    )
    row.end = mark_safe("</td>\n</tr>" if can_manage else "\n</tr>")  # noqa: S308 - static


def _context(
    request: AuthenticatedRequest,
    *,
    brand: Brand,
    role: Role | None,
    ad_accounts: list[AdAccount] | None,
    invite_form: MemberInviteForm | None = None,
    editing: User | None = None,
    form: MemberRoleForm | None = None,
    refused: tuple[int, ValidationError] | None = None,
    confirm: str = "",
    confirm_message: str = "",
    open_invite: bool = False,
) -> dict[str, Any]:
    """The page. ``editing``: the member whose role editor is open (with ``form``'s
    errors or, with ``confirm``, the values awaiting the actor's confirmation).
    ``ad_accounts``: the brand's, or None to read them only if a form needs them (the
    plain list does not: the narrowing names come with the rows)."""
    search = MemberSearchForm(request.GET).search()
    admin = policies.is_admin(request.user)
    key, build, values = selectors.member_rows_source(
        actor=request.user, brand=brand, search=search
    )
    page = paginate_cached(request, key, build, *values)
    rows = [
        selectors.row_from_values(values, actor=request.user, admin=admin)
        for values in page.object_list
    ]
    if editing is not None and editing.pk not in {row.user.pk for row in rows}:
        # Not on this page (any more): shown anyway, on top.
        found = selectors.member_row_values(actor=request.user, brand=brand, user_id=editing.pk)
        if found is not None:
            rows.insert(0, selectors.row_from_values(found, actor=request.user, admin=admin))
    can_manage = policies.can(request.user, "members.manage", brand, role=role)
    open_invite_form = invite_form is None and (
        can_manage and (open_invite or not (rows or search))
    )
    if ad_accounts is None and (editing is not None or open_invite_form):
        ad_accounts = selectors.brand_ad_accounts(brand=brand)  # for the forms' choices
    list_url = fast_reverse("members:list", [brand.slug])
    suffix = f"?{request.GET.urlencode()}" if request.GET else ""
    editor_context = _editor_context(request, brand=brand, ad_accounts=ad_accounts or [])
    brand_name = escape(brand.name)
    csrf = escape(get_token(request)) if can_manage else ""
    self_revoke_consequence = escape(editor_context["self_revoke_consequence"])
    badges = {
        True: status_badge(tone="ok", label="Active"),
        False: status_badge(tone="archived", label="Deactivated"),
    }
    for row in rows:
        # The row loop is the page's hot path: its strings are made here, once each.
        pk = str(row.user.pk)
        row.pk_str = pk
        row.name = row.user.full_name or "—"
        row.edit_url = f"{list_url}{pk}/role/edit/{suffix}"
        row.revoke_url = f"{list_url}{pk}/revoke/{suffix}"
        row.deactivate_url = f"{list_url}{pk}/deactivate/{suffix}"
        if editing is not None and row.user.pk == editing.pk:
            row.user = editing  # the instance at hand (the other rows carry their values)
            row.editing = confirm != "revoke"
            row.confirm = confirm
            if form is not None:
                row.errors = form.errors
                row.non_field_errors = form.non_field_errors()
                row.form_role = form.data.get("role", "")
                row.form_ad_account_ids = _posted_ad_account_ids(form)
                row.form = form
            else:
                row.form = _role_form(row.user, ad_accounts=ad_accounts or [], row=row)
        if refused is not None and row.user.pk == refused[0]:
            row.action_errors = refused[1].messages
        row.ad_accounts_text = (
            ", ".join(account.name for account in row.narrowed_to) or "All ad accounts"
        )
        # The notes (a refusal, a confirmation) live in the actions cell: managers only.
        row.has_notes = can_manage and bool(row.action_errors or row.confirm == "revoke")
        row.show_menu = admin or not row.is_sole_ops_lead
        row.role_text = str(row.role.label) if row.role else "—"
        row.email = row.user.email
        row.badge = badges[row.user.is_active]
        email = escape(row.email)
        if can_manage:
            row.actions = _row_actions(
                row,
                email=email,
                brand_name=brand_name,
                csrf=csrf,
                self_revoke_consequence=self_revoke_consequence,
            )
        _row_markup(row, email=email, can_manage=can_manage)
    return {
        **editor_context,
        "tab": "members",
        "page": page,
        "rows": rows,
        "q": search,
        "can_manage": can_manage,
        # The invite form (its selects and checkboxes cost more than the table's rows) is
        # rendered on demand: "Invite a member" fetches it from members:invite_form. It is open
        # on the page after an invalid invitation, on that URL without JavaScript, and on
        # a brand nobody has a role on yet (the empty state points at it).
        "invite_form": invite_form
        or (MemberInviteForm(ad_accounts=ad_accounts or []) if open_invite_form else None),
        "invite_url": fast_reverse("members:invite", [brand.slug]),
        "invite_form_url": fast_reverse("members:invite_form", [brand.slug]),
        "confirm_message": confirm_message,
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
    context = _context(
        request, brand=brand, role=role, ad_accounts=ad_accounts, open_invite=reset_invite_form
    )
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


def _asks_self_confirmation(
    request: AuthenticatedRequest,
    *,
    brand: Brand,
    member: User,
    current: Role | None,
    new: Role | None,
) -> bool:
    """The actor changes (``new``) or revokes (None) their own role without having
    confirmed. Not asked when the service is going to refuse anyway (the last ops lead,
    for a non-admin): the refusal says why."""
    if member.pk != request.user.pk or request.POST.get("confirm_self") == "1":
        return False
    if current is None or current == new:
        return False
    sole = selectors.sole_ops_lead_id(brand=brand) == member.pk
    return not (sole and not policies.is_admin(request.user) and new != Role.OPS_LEAD)


def _confirm_self(
    request: AuthenticatedRequest,
    *,
    brand: Brand,
    role: Role | None,
    ad_accounts: list[AdAccount],
    member: User,
    form: MemberRoleForm | None,
    new_role: Role | None,
) -> HttpResponse:
    """The confirmation step on the actor's own row (the page, or the table for htmx)."""
    kind = "role" if new_role else "revoke"
    context = _context(
        request,
        brand=brand,
        role=role,
        ad_accounts=ad_accounts,
        editing=member,
        form=form,
        confirm=kind,
        confirm_message=_self_consequence(actor=request.user, brand=brand, new_role=new_role),
    )
    return render_page(request, TEMPLATE, context, partial="member-table")


# --- views -----------------------------------------------------------------------------


@require_GET
@policies.brand_capability("members.view")
def member_list(request: AuthenticatedRequest, *, brand: Brand, role: Role | None) -> HttpResponse:
    context = _context(request, brand=brand, role=role, ad_accounts=None)
    return render_page(request, TEMPLATE, context, partial="member-table")


@require_GET
@policies.brand_capability("members.manage")
def member_invite_form(
    request: AuthenticatedRequest, *, brand: Brand, role: Role | None
) -> HttpResponse:
    """The invite form on demand ("Invite a member"; it is not on the list, its fields cost
    more than the table's rows): the form's fragment for htmx, else the page with the form
    open (so the button works without JavaScript)."""
    ad_accounts = selectors.brand_ad_accounts(brand=brand)
    if not wants_fragment(request):
        context = _context(
            request, brand=brand, role=role, ad_accounts=ad_accounts, open_invite=True
        )
        return render_page(request, TEMPLATE, context)
    invite = MemberInviteForm(ad_accounts=ad_accounts)
    invite.fields["email"].widget.attrs["autofocus"] = True  # htmx honours autofocus
    context = {
        "brand": brand,
        "can_manage": True,
        "invite_form": invite,
        "invite_url": reverse("members:invite", args=[brand.slug]),
        "list_query": request.GET.urlencode(),
        "narrowable_ad_accounts": selectors.active_ad_accounts(ad_accounts),
    }
    response = render(request, f"{TEMPLATE}#invite-form", context)
    patch_vary_headers(response, HTMX_VARY)
    return response


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


@require_GET
@policies.brand_capability("members.manage")
def member_role_edit(
    request: AuthenticatedRequest, user_id: int, *, brand: Brand, role: Role | None
) -> HttpResponse:
    """The change-role editor of one member, on demand: the fragment for htmx, else the
    page with that row's editor open (so "Change role" works without JavaScript)."""
    member = selectors.member_for_change(brand=brand, user_id=user_id)
    ad_accounts = selectors.brand_ad_accounts(brand=brand)
    if not wants_fragment(request):
        context = _context(request, brand=brand, role=role, ad_accounts=ad_accounts, editing=member)
        return render_page(request, TEMPLATE, context)
    [row] = selectors.member_rows(
        actor=request.user,
        brand=brand,
        users=[member],
        ad_accounts=ad_accounts,
        mark_sole_ops_lead=True,
    )
    row.editing = True
    row.form = _role_form(member, ad_accounts=ad_accounts, row=row)
    context = {**_editor_context(request, brand=brand, ad_accounts=ad_accounts), "row": row}
    response = render(request, f"{TEMPLATE}#role-editor", context)
    patch_vary_headers(response, HTMX_VARY)
    return response


@require_POST
@policies.brand_capability("members.manage")
def member_role(
    request: AuthenticatedRequest, user_id: int, *, brand: Brand, role: Role | None
) -> HttpResponse:
    member = selectors.member_for_change(brand=brand, user_id=user_id)
    ad_accounts = selectors.brand_ad_accounts(brand=brand)
    form = _role_form(member, ad_accounts=ad_accounts, data=request.POST)
    if form.is_valid():
        new_role = Role(form.cleaned_data["role"])
        chosen = form.cleaned_data["ad_accounts"]
        if _asks_self_confirmation(request, brand=brand, member=member, current=role, new=new_role):
            return _confirm_self(
                request,
                brand=brand,
                role=role,
                ad_accounts=ad_accounts,
                member=member,
                form=form,
                new_role=new_role,
            )
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
        request, brand=brand, role=role, ad_accounts=ad_accounts, editing=member, form=form
    )
    return render_page(request, TEMPLATE, context, partial="member-table", status=422)


@require_POST
@policies.brand_capability("members.manage")
def member_revoke(
    request: AuthenticatedRequest, user_id: int, *, brand: Brand, role: Role | None
) -> HttpResponse:
    member = selectors.member_for_change(brand=brand, user_id=user_id)
    ad_accounts = selectors.brand_ad_accounts(brand=brand)
    if _asks_self_confirmation(request, brand=brand, member=member, current=role, new=None):
        return _confirm_self(
            request,
            brand=brand,
            role=role,
            ad_accounts=ad_accounts,
            member=member,
            form=None,
            new_role=None,
        )
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
