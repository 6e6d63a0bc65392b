"""Launch pages: drafts — the list, the draft form (new / edit) with its structure rows
and live name check, duplicate and cancel. Thin: authorise through the policies, read
through ``selectors.visible_launches``, write only through ``services``. The form is not
validated here: ``inputs.parse`` (inside the services) reports every problem by path and
the page shows each next to its input."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q, QuerySet
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from koastops.accounts import policies
from koastops.accounts.http import AuthenticatedRequest
from koastops.accounts.models import Role
from koastops.catalog.models import Brand, CatalogStatus
from koastops.core.exceptions import StaleVersion
from koastops.core.forms import parse_version
from koastops.core.htmx import reload_with_message, render_page, saved_response
from koastops.core.pagination import paginate
from koastops.launches import forms as launch_forms
from koastops.launches import inputs, selectors, services, states
from koastops.launches.models import Launch, LaunchState
from koastops.taxonomy.catalogue import NAMING_LEVELS
from koastops.taxonomy.models import EventDefinition, EventStatus
from koastops.taxonomy.rules import level_rule

STATE_TONES: dict[str, str] = {
    LaunchState.DRAFT: "unknown",
    LaunchState.CHECKING: "unknown",
    LaunchState.READY: "ok",
    LaunchState.NEEDS_CHANGES: "warning",
    LaunchState.IN_REVIEW: "warning",
    LaunchState.APPROVED: "ok",
    LaunchState.REJECTED: "failing",
    LaunchState.LAUNCHED: "ok",
    LaunchState.CANCELLED: "archived",
}
SORTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "updated": ("Recently updated", ("-updated_at", "-pk")),
    "start": ("Start", ("start_at", "pk")),
    "name": ("Campaign name", ("campaign_name", "pk")),
}
CHECK_LEVELS = ("campaign", "adset", "ad", "utm_campaign")
NAME_CHECK_MAX = 500


def _own_or_any(user: Any, role: Role | None, launch: Launch) -> bool:
    """The own-launch part of ``policies.can_on_launch`` (``OWN_LAUNCH_ONLY``) for a launch
    already known visible (the list's rows are ``visible_launches``): no query per row."""
    if role == Role.MEDIA_BUYER and not policies.is_admin(user):
        return bool(launch.created_by_id == user.pk)
    return True


# --- the list -------------------------------------------------------------------------------


@require_GET
@policies.brand_capability("launch.view")
def launch_list(request: AuthenticatedRequest, *, brand: Brand, role: Role | None) -> HttpResponse:
    user = request.user
    accounts = list(policies.ad_accounts_for(user, brand, role=role).order_by("name", "pk"))
    q = launch_forms.LaunchFilterForm(request.GET).search()
    state = request.GET.get("state") or ""
    state = state if state in LaunchState.values else ""
    account_raw = request.GET.get("ad_account") or ""
    account = next((a for a in accounts if str(a.pk) == account_raw), None)
    mine = request.GET.get("mine") == "1"
    sort = request.GET.get("sort") or "updated"
    sort = sort if sort in SORTS else "updated"

    visible = selectors.visible_launches(user, brand, role=role)
    if q:
        visible = visible.filter(campaign_name__icontains=q)
    if account is not None:
        visible = visible.filter(ad_account=account)
    if mine:
        visible = visible.filter(Q(created_by=user) | Q(submitted_by=user))
    counts = dict(visible.order_by().values_list("state").annotate(n=Count("pk")))
    rows: QuerySet[Launch] = visible.select_related("ad_account", "created_by")
    if state:
        rows = rows.filter(state=state)
    page = paginate(request, rows.order_by(*SORTS[sort][1]))
    can_edit = policies.can(user, "launch.edit", brand, role=role)
    can_create = policies.can(user, "launch.create", brand, role=role)
    can_cancel = policies.can(user, "launch.cancel", brand, role=role)
    items = [
        {
            "launch": launch,
            "tone": STATE_TONES.get(launch.state, "unknown"),
            "may_edit": can_edit
            and launch.state in states.EDITABLE
            and _own_or_any(user, role, launch),
            "may_cancel": can_cancel
            and launch.state in states.CANCELLABLE
            and _own_or_any(user, role, launch),
        }
        for launch in page
    ]
    chips = [
        {"value": value, "label": label, "count": counts.get(value, 0)}
        for value, label in LaunchState.choices
        if counts.get(value)
    ]
    context = {
        "brand": brand,
        "tab": "launches",
        "page": page,
        "items": items,
        "q": q,
        "state": state,
        "account": account,
        "accounts": accounts,
        "mine": mine,
        "sort": sort,
        "sorts": [(key, label) for key, (label, _) in SORTS.items()],
        "states": LaunchState.choices,
        "chips": chips,
        "total": sum(counts.values()),
        "filtered": bool(q or state or account or mine),
        "can_create": can_create,
    }
    return render_page(request, "launches/list.html", context, partial="launch-table")


# --- the form -------------------------------------------------------------------------------


def _form(
    request: AuthenticatedRequest,
    brand: Brand,
    role: Role | None,
    *,
    bound: bool,
    initial: dict[str, Any] | None = None,
) -> launch_forms.LaunchForm:
    user = request.user
    accounts = policies.ad_accounts_for(user, brand, role=role).filter(status=CatalogStatus.ACTIVE)
    pixels = (
        policies.pixels_for(user, brand, role=role)
        .filter(status=CatalogStatus.ACTIVE)
        .prefetch_related("ad_accounts")
        .order_by("name", "pk")
    )
    events = EventDefinition.objects.filter(brand=brand, status=EventStatus.ACTIVE).order_by("name")
    return launch_forms.LaunchForm(
        request.POST if bound else None,
        accounts=accounts.order_by("name", "pk"),
        pixels=pixels,
        events=events,
        markets=brand.markets.order_by("code"),
        initial=initial,
    )


def _initial(launch: Launch) -> tuple[dict[str, Any], dict[str, Any]]:
    data = inputs.as_data(launch)
    initial = {
        **{name: data.get(name) for name in launch_forms.TOP_FIELDS},
        "markets": data["markets"],
        "start_at": launch_forms.local_input(data["start_at"]),
        "end_at": launch_forms.local_input(data["end_at"]),
        "version": str(launch.version),
    }
    initial["ad_account"] = str(initial["ad_account"])
    initial["pixel"] = str(initial["pixel"])
    initial["optimization_event"] = str(initial["optimization_event"])
    return initial, data


def _form_page(
    request: AuthenticatedRequest,
    brand: Brand,
    form: launch_forms.LaunchForm,
    structure: dict[str, Any],
    *,
    launch: Launch | None = None,
    errors: dict[str, list[str]] | None = None,
    status: int = 200,
    stale: bool = False,
    wrong_state: str = "",
) -> HttpResponse:
    errors = errors or {}
    if errors:
        form.show_errors(errors)
    else:
        form.no_errors()
    form.wire_name_check(reverse("launches:name_check", kwargs={"slug": brand.slug}))
    rows = launch_forms.structure_rows(structure, errors)
    nested = [
        {"label": _label(path), "anchor": _anchor(path), "messages": messages}
        for path, messages in errors.items()
        if path.startswith("ad_sets")
    ]
    context = {
        "brand": brand,
        "tab": "launches",
        "form": form,
        "launch": launch,
        "rows": rows,
        "structure_errors": errors.get("ad_sets", []),
        "nested_errors": nested,
        "has_errors": bool(errors),
        "stale": stale,
        "wrong_state": wrong_state,
        "markets": form.market_choices,
        "can_duplicate": launch is not None
        and launch.state in states.FINAL
        and policies.can(request.user, "launch.create", brand),
        "voids_approval": launch is not None
        and launch.state in (LaunchState.IN_REVIEW, LaunchState.APPROVED),
    }
    return render_page(request, "launches/form.html", context, partial="launch-form", status=status)


def _anchor(path: str) -> str:
    """The id of the input an error path names (``ad_sets.0.ads.1.landing_url`` →
    ``id_ad_sets-0-ads-1-landing_url``); a row-level path names the row."""
    parts = path.split(".")
    if len(parts) == 3 and parts[2] in launch_forms.SET_FIELDS:
        return f"id_ad_sets-{parts[1]}-{parts[2]}"
    if len(parts) == 5 and parts[4] in launch_forms.AD_FIELDS:
        return f"id_ad_sets-{parts[1]}-ads-{parts[3]}-{parts[4]}"
    if len(parts) >= 4:
        return f"ad-set-{parts[1]}-ad-{parts[3]}"
    if len(parts) >= 2:
        return f"ad-set-{parts[1]}"
    return "ad-sets"


def _label(path: str) -> str:
    parts = path.split(".")
    if len(parts) == 3:
        return f"Ad set {int(parts[1]) + 1}, {launch_forms.SET_LABELS.get(parts[2], parts[2])}"
    if len(parts) == 5:
        return (
            f"Ad set {int(parts[1]) + 1}, ad {int(parts[3]) + 1}, "
            f"{launch_forms.AD_LABELS.get(parts[4], parts[4])}"
        )
    if len(parts) == 4:
        return f"Ad set {int(parts[1]) + 1}, ad {int(parts[3]) + 1}"
    if len(parts) == 2:
        return f"Ad set {int(parts[1]) + 1}"
    return "Ad sets"


@require_http_methods(["GET", "POST"])
@policies.brand_capability("launch.create")
def launch_new(request: AuthenticatedRequest, *, brand: Brand, role: Role | None) -> HttpResponse:
    if request.method != "POST":
        form = _form(request, brand, role, bound=False, initial={"budget_type": "daily"})
        return _form_page(request, brand, form, {"ad_sets": [launch_forms.empty_ad_set()]})
    form = _form(request, brand, role, bound=True)
    data = launch_forms.gather(request.POST)
    try:
        launch = services.launch_create(user=request.user, brand=brand, data=data)
    except ValidationError as exc:
        errors = launch_forms.errors_by_path(exc)
        return _form_page(request, brand, form, data, errors=errors, status=422)
    url = reverse("launches:detail", kwargs={"slug": brand.slug, "pk": launch.pk})
    return saved_response(request, url, f"Draft “{launch.campaign_name}” saved.")


def _editable(request: AuthenticatedRequest, brand: Brand, role: Role | None, pk: int) -> Launch:
    """The launch for editing: 404 when the user may not see it, 403 when they may see it
    but not edit it (a media buyer and another buyer's launch)."""
    launch = selectors.launch_for_view(request.user, brand, pk, role=role)
    policies.require(
        policies.can_on_launch(request.user, "launch.edit", launch, role=role),
        "You may not edit this launch.",
    )
    return launch


@require_http_methods(["GET", "POST"])
@policies.brand_capability("launch.edit")
def launch_edit(
    request: AuthenticatedRequest, pk: int, *, brand: Brand, role: Role | None
) -> HttpResponse:
    launch = _editable(request, brand, role, pk)
    initial, stored = _initial(launch)
    if request.method != "POST":
        form = _form(request, brand, role, bound=False, initial=initial)
        why = "" if launch.state in states.EDITABLE else str(services.WrongState(launch, "edit"))
        return _form_page(request, brand, form, stored, launch=launch, wrong_state=why)
    data = launch_forms.gather(request.POST)
    version = parse_version(request.POST.get("version"))
    form = _form(request, brand, role, bound=True)
    try:
        if version is None:
            raise StaleVersion(expected_version=0, current_version=launch.version)
        saved = services.launch_update(
            user=request.user, launch=launch, data=data, expected_version=version
        )
    except ValidationError as exc:
        errors = launch_forms.errors_by_path(exc)
        return _form_page(request, brand, form, data, launch=launch, errors=errors, status=422)
    except StaleVersion:
        # Keep what was typed; the hidden version becomes the current one, so saving again
        # replaces the other change — the page says so, and links a reload instead.
        post = request.POST.copy()
        post["version"] = str(Launch.objects.filter(pk=launch.pk).values_list("version")[0][0])
        request.POST = post  # type: ignore[assignment]
        form = _form(request, brand, role, bound=True)
        status = 409 if request.htmx else 200
        return _form_page(request, brand, form, data, launch=launch, stale=True, status=status)
    except services.WrongState as exc:
        return _form_page(
            request, brand, form, data, launch=launch, errors={"__all__": [str(exc)]}, status=422
        )
    url = reverse("launches:detail", kwargs={"slug": brand.slug, "pk": saved.pk})
    note = " It is a draft again: submit it for review." if saved.state != launch.state else ""
    return saved_response(request, url, f"Launch “{saved.campaign_name}” saved.{note}")


# --- structure rows and the live name check (htmx fragments) ---------------------------------


def _index(raw: str | None) -> int | None:
    value = (raw or "").strip()
    if not value.isascii() or not value.isdigit() or len(value) > 4:
        return None
    number = int(value)
    return number if number <= launch_forms.MAX_INDEX else None


@require_GET
@policies.brand_capability("launch.edit")
def structure_row(
    request: AuthenticatedRequest, *, brand: Brand, role: Role | None
) -> HttpResponse:
    kind = request.GET.get("kind")
    set_index = _index(request.GET.get("set"))
    markets = [(m.code, f"{m.name} ({m.code})") for m in brand.markets.order_by("code")]
    if kind == "ad_set" and set_index is not None:
        row = launch_forms.ad_set_row(set_index, launch_forms.empty_ad_set())
        context = {"brand": brand, "set": row, "markets": markets, "new_row": True}
        return render(request, "launches/_ad_set_row.html", context)
    ad_index = _index(request.GET.get("ad"))
    if kind == "ad" and set_index is not None and ad_index is not None:
        ad = launch_forms.ad_row(set_index, ad_index, launch_forms.empty_ad(), {})
        return render(request, "launches/_ad_row.html", {"brand": brand, "ad": ad, "new_row": True})
    return HttpResponse(
        '<p class="notice notice-error">Ask for kind=ad_set&amp;set=&lt;i&gt; or '
        "kind=ad&amp;set=&lt;i&gt;&amp;ad=&lt;j&gt;.</p>",
        status=400,
    )


@require_GET
@policies.brand_capability("naming.view")
def name_check(request: AuthenticatedRequest, *, brand: Brand, role: Role | None) -> HttpResponse:
    level = request.GET.get("level") or ""
    name = request.GET.get("name") or ""
    context: dict[str, Any] = {"brand": brand, "level": level, "name": name}
    if level not in CHECK_LEVELS:
        context["problem"] = "Ask for level campaign, adset, ad or utm_campaign."
        return render(request, "launches/_name_check.html", context, status=400)
    if len(name) > NAME_CHECK_MAX:
        context["problem"] = f"A name has at most {NAME_CHECK_MAX} characters."
        return render(request, "launches/_name_check.html", context, status=400)
    context["level_label"] = NAMING_LEVELS[level]
    name = name.strip()
    if not name:
        return render(request, "launches/_name_check.html", context)
    rule = level_rule(brand, level)
    if rule.compiled is None:
        context["no_rule"] = True
        context["broken"] = bool(rule.problems)
        return render(request, "launches/_name_check.html", context)
    result = rule.compiled.validate(name)
    context["result"] = result
    context["rule_source"] = rule.source_label
    return render(request, "launches/_name_check.html", context)


# --- duplicate and cancel ------------------------------------------------------------------


@require_POST
@policies.brand_capability("launch.create")
def launch_duplicate(
    request: AuthenticatedRequest, pk: int, *, brand: Brand, role: Role | None
) -> HttpResponse:
    launch = selectors.launch_for_view(request.user, brand, pk, role=role, structure=False)
    try:
        copy = services.launch_duplicate(user=request.user, launch=launch)
    except ValidationError as exc:  # e.g. the account was archived since
        problems = "; ".join(m for ms in launch_forms.errors_by_path(exc).values() for m in ms)
        url = reverse("launches:list", kwargs={"slug": brand.slug})
        return reload_with_message(
            request, url, f"Not duplicated: {problems}", level=messages.ERROR
        )
    url = reverse("launches:edit", kwargs={"slug": brand.slug, "pk": copy.pk})
    return saved_response(request, url, f"Copied into a new draft “{copy.campaign_name}”.")


@require_http_methods(["GET", "POST"])
@policies.brand_capability("launch.cancel")
def launch_cancel(
    request: AuthenticatedRequest, pk: int, *, brand: Brand, role: Role | None
) -> HttpResponse:
    launch = selectors.launch_for_view(request.user, brand, pk, role=role, structure=False)
    if not policies.can_on_launch(request.user, "launch.cancel", launch, role=role):
        raise PermissionDenied("You may not cancel this launch.")
    context: dict[str, Any] = {
        "brand": brand,
        "tab": "launches",
        "launch": launch,
        "reason": "",
        "errors": [],
        "problem": "",
        "cancellable": launch.state in states.CANCELLABLE,
        "why_not": "" if launch.state in states.CANCELLABLE else states.WHY_NOT.get(launch.state),
    }
    if request.method != "POST":
        return render_page(request, "launches/cancel.html", context, partial="cancel-form")
    reason = request.POST.get("reason") or ""
    context["reason"] = reason[: services.COMMENT_MAX + 100]
    version = parse_version(request.POST.get("version"))
    try:
        if version is None:
            raise StaleVersion(expected_version=0, current_version=launch.version)
        services.launch_cancel(
            user=request.user, launch=launch, expected_version=version, reason=reason
        )
    except ValidationError as exc:
        context["errors"] = launch_forms.errors_by_path(exc).get("reason", [])
        context["problem"] = "" if context["errors"] else "; ".join(exc.messages)
        return render_page(
            request, "launches/cancel.html", context, partial="cancel-form", status=422
        )
    except StaleVersion:
        launch.refresh_from_db()
        context["launch"] = launch
        context["problem"] = (
            "Not cancelled: someone changed the launch meanwhile. Check its current state "
            "on its page, then cancel again if you still want to."
        )
        context["cancellable"] = launch.state in states.CANCELLABLE
        return render_page(
            request, "launches/cancel.html", context, partial="cancel-form", status=422
        )
    except services.WrongState as exc:
        context["problem"] = str(exc)
        context["cancellable"] = False
        return render_page(
            request, "launches/cancel.html", context, partial="cancel-form", status=422
        )
    url = reverse("launches:detail", kwargs={"slug": brand.slug, "pk": launch.pk})
    return saved_response(request, url, f"Launch “{launch.campaign_name}” cancelled.")


urlpatterns: list = [
    path("", launch_list, name="list"),
    path("new/", launch_new, name="new"),
    path("<int:pk>/edit/", launch_edit, name="edit"),
    path("rows/", structure_row, name="structure_row"),
    path("names/check/", name_check, name="name_check"),
    path("<int:pk>/duplicate/", launch_duplicate, name="duplicate"),
    path("<int:pk>/cancel/", launch_cancel, name="cancel"),
]
