"""Tracking-plan pages: the plan list, an event's detail with its history, the diff of two
versions, and the event editor (see koastops/taxonomy/urls.py).

Views parse, ask ``policies`` (through ``brand_capability``: 404 for a brand the user holds
no role on, 403 for a change they may not make), call a selector or service and render.
Without JavaScript every form is POST → redirect → GET with a flash message; with htmx the
list swaps its table, the editor swaps itself (422 with errors, 409 when stale) and a save
navigates with ``HX-Location`` and a toast.
"""

from __future__ import annotations

from html import escape
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.urls import URLPattern, path
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from koastops.accounts import policies
from koastops.accounts.http import AuthenticatedRequest
from koastops.accounts.models import Role
from koastops.catalog.models import Brand
from koastops.core.exceptions import StaleVersion
from koastops.core.forms import parse_version
from koastops.core.htmx import reload_with_message, render_page, saved_response
from koastops.core.links import fast_reverse
from koastops.core.pagination import paginate
from koastops.core.templatetags import ui
from koastops.taxonomy import selectors, services
from koastops.taxonomy.catalogue import (
    MAPPING_PLATFORMS,
    MAPPING_TARGET_LABELS,
    META_STANDARD_EVENTS,
    PARAM_TYPES,
    SOURCES,
    STATUSES,
    meta_required_params,
)
from koastops.taxonomy.content import diff_events
from koastops.taxonomy.forms import EventEditor, PlanFilterForm
from koastops.taxonomy.models import EventDefinition

# Status -> badge tone (colour + icon + text; never colour alone).
STATUS_TONES = {"active": "ok", "draft": "unknown", "deprecated": "archived"}
# The status actions of the detail page: target status -> (button, done message, verb shown).
STATUS_ACTIONS = {
    "active": ("Activate", "activated"),
    "deprecated": ("Deprecate", "deprecated"),
    "draft": ("Back to draft", "returned to draft"),
}
_NONE = mark_safe('<span class="muted">None</span>')


def _badge(status: str) -> SafeString:
    return ui.status_badge(
        tone=STATUS_TONES.get(status, "unknown"), label=STATUSES.get(status, status)
    )


def _manage(request: AuthenticatedRequest, brand: Brand, role: Role | None) -> bool:
    return policies.can(request.user, "taxonomy.manage", brand, role=role)


# --- the plan list ----------------------------------------------------------------------


def _mappings_html(joined: str | None) -> SafeString:
    """``Meta: <code>Purchase</code>; Google Ads: <code>purchase</code>`` or a muted None."""
    pairs = selectors.mapping_pairs(joined)
    if not pairs:
        return _NONE
    return mark_safe(  # noqa: S308 - every value is escaped
        "; ".join(
            f"{escape(MAPPING_PLATFORMS.get(platform, platform))}: <code>{escape(target)}</code>"
            for platform, target in pairs
        )
    )


def _chips(request: AuthenticatedRequest, facets: dict[str, str]) -> list[dict[str, str]]:
    chips = []
    for name, value in facets.items():
        params = request.GET.copy()
        params.pop(name, None)
        params.pop("page", None)
        query = params.urlencode()
        chips.append(
            {
                "name": name,
                "value": value,
                "label": selectors.PLAN_FACETS[name][value],
                "remove_url": f"{request.path}?{query}" if query else request.path,
            }
        )
    return chips


@require_GET
@policies.brand_capability("taxonomy.view")
def plan(request: AuthenticatedRequest, *, brand: Brand, role: Role | None) -> HttpResponse:
    filters = PlanFilterForm(request.GET)
    search, facets = filters.values()
    page = paginate(
        request, selectors.event_rows(brand=brand, search=search, facets=facets), one_query=True
    )
    rows = []
    for row in page.object_list:
        row["url"] = fast_reverse("taxonomy:event_detail", (brand.slug, row["pk"]))
        row["badge"] = _badge(row["status"])
        row["sources_label"] = SOURCES.get(row["sources"], row["sources"])
        params = row["content__parameters"]
        row["param_count"] = len(params) if isinstance(params, list) else 0
        row["mappings"] = _mappings_html(row["mappings_joined"])
        rows.append(row)
    page.object_list = rows
    context = {
        "brand": brand,
        "tab": "plan",
        "page": page,
        "q": search,
        "facets": facets,
        "chips": _chips(request, facets),
        "filters": [
            (name, label, [(value, text, facets.get(name, "") == value) for value, text in choices])
            for name, label, choices in PLAN_FILTER_CHOICES
        ],
        "can_manage": _manage(request, brand, role),
        "starter_count": len(META_STANDARD_EVENTS),
    }
    return render_page(request, "taxonomy/plan_list.html", context, partial="plan-table")


# The filter selects of the plan list: (name, label, [(value, label)…]).
PLAN_FILTER_CHOICES = [
    ("status", "Status", [("", "Any status"), *STATUSES.items()]),
    ("source", "Source", [("", "Any source"), *selectors.PLAN_FACETS["source"].items()]),
    ("platform", "Platform", [("", "Any platform"), *selectors.PLAN_FACETS["platform"].items()]),
]


@require_POST
@policies.brand_capability("taxonomy.manage")
def plan_apply_template(
    request: AuthenticatedRequest, *, brand: Brand, role: Role | None
) -> HttpResponse:
    added = services.plan_apply_template(user=request.user, brand=brand)
    url = fast_reverse("taxonomy:plan", (brand.slug,))
    if not added:
        return reload_with_message(
            request,
            url,
            "The tracking plan already has every event of the Meta starter template.",
            level=messages.INFO,
        )
    noun = "event" if len(added) == 1 else "events"
    return reload_with_message(
        request, url, f"Added {len(added)} {noun} from the Meta starter template, as drafts."
    )


# --- event detail and history --------------------------------------------------------------


def _parameters(content: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {**param, "type_label": PARAM_TYPES.get(param.get("type", ""), param.get("type", ""))}
        for param in content.get("parameters") or []
    ]


def _mappings(content: dict[str, Any]) -> list[dict[str, Any]]:
    """Each platform, mapped or not; a Meta standard mapping names the parameters Meta
    requires that it does not send (or that the event does not mark required)."""
    required_here = {p["name"] for p in content.get("parameters") or [] if p.get("required")}
    by_platform = {m["platform"]: m for m in content.get("mappings") or []}
    shown = []
    for platform, label in MAPPING_PLATFORMS.items():
        mapping = by_platform.get(platform)
        item: dict[str, Any] = {
            "platform": platform,
            "label": label,
            "target_label": MAPPING_TARGET_LABELS[platform],
            "mapping": mapping,
            "missing": [],
            "not_required": [],
        }
        if mapping and platform == "meta" and not mapping.get("custom"):
            needed = meta_required_params(mapping["target"])
            sent = set(mapping.get("parameters") or [])
            item["missing"] = [name for name in needed if name not in sent]
            item["not_required"] = [
                name for name in needed if name in sent and name not in required_here
            ]
        shown.append(item)
    return shown


def _status_actions(event: EventDefinition) -> list[dict[str, str]]:
    return [
        {"status": status, "label": label}
        for status, (label, _) in STATUS_ACTIONS.items()
        if status != event.status
    ]


@require_GET
@policies.brand_capability("taxonomy.view")
def event_detail(
    request: AuthenticatedRequest, pk: int, *, brand: Brand, role: Role | None
) -> HttpResponse:
    event = selectors.event_for_view(brand=brand, pk=pk)
    history = selectors.event_history(event)
    for number, revision in enumerate(history):
        previous = history[number + 1]["version"] if number + 1 < len(history) else None
        revision["previous"] = previous
    can_manage = _manage(request, brand, role)
    context = {
        "brand": brand,
        "tab": "plan",
        "event": event,
        "content": event.content,
        "badge": _badge(event.status),
        "sources_label": SOURCES.get(event.sources, event.sources),
        "parameters": _parameters(event.content),
        "mappings": _mappings(event.content),
        "history": history,
        "versions": [revision["version"] for revision in history],
        "can_manage": can_manage,
        "status_actions": _status_actions(event) if can_manage else [],
    }
    return render_page(request, "taxonomy/event_detail.html", context)


@require_GET
@policies.brand_capability("taxonomy.view")
def event_diff(
    request: AuthenticatedRequest, pk: int, *, brand: Brand, role: Role | None
) -> HttpResponse:
    """Two versions of the event side by side: ``?from=&to=`` (default: the previous
    version against the current one). A version that does not exist is said so."""
    event = selectors.event_for_view(brand=brand, pk=pk)
    versions = [revision["version"] for revision in selectors.event_history(event)]
    problems: list[str] = []
    raw_to, raw_from = request.GET.get("to"), request.GET.get("from")
    to = parse_version(raw_to) if raw_to not in (None, "") else event.version
    if to is None or to not in versions:
        problems.append("The version to compare to does not exist; pick one below.")
        to = None
    if raw_from == "created":
        start = None
    elif raw_from in (None, ""):
        older = [v for v in versions if to is not None and v < to]
        start = max(older) if older else None
    else:
        start = parse_version(raw_from)
        if start is None or start not in versions:
            problems.append("The version to compare from does not exist; pick one below.")
            start = None
    changes = None
    if not problems and to is not None:
        contents = selectors.event_revisions(event, [v for v in (start, to) if v is not None])
        before = contents.get(start) if start is not None else None
        changes = diff_events(before, contents.get(to))
    context = {
        "brand": brand,
        "tab": "plan",
        "event": event,
        "versions": versions,
        "start": start,
        "to": to,
        "problems": problems,
        "changes": changes,
    }
    return render_page(request, "taxonomy/event_diff.html", context)


@require_POST
@policies.brand_capability("taxonomy.manage")
def event_status(
    request: AuthenticatedRequest, pk: int, *, brand: Brand, role: Role | None
) -> HttpResponse:
    event = selectors.event_for_view(brand=brand, pk=pk)
    url = fast_reverse("taxonomy:event_detail", (brand.slug, event.pk))
    status = str(request.POST.get("status", ""))
    version = parse_version(request.POST.get("version"))
    if status not in STATUS_ACTIONS:
        return reload_with_message(request, url, "Choose a status to set.", level=messages.ERROR)
    if version is None:
        return reload_with_message(
            request,
            url,
            "This page was out of date: nothing was changed. Try again.",
            level=messages.ERROR,
        )
    try:
        services.event_set_status(
            user=request.user, event=event, status=status, expected_version=version
        )
    except services.AlreadyInState as exc:
        return reload_with_message(
            request, url, f"{event.name} is already {exc.status}.", level=messages.INFO
        )
    except StaleVersion:
        stale = _stale(event)
        return reload_with_message(
            request,
            url,
            f"Not changed: {stale['actor']} changed {event.name} meanwhile"
            f" ({stale['at']:%Y-%m-%d %H:%M}). Check the current version and try again.",
            level=messages.ERROR,
        )
    except ValidationError as exc:
        return reload_with_message(request, url, " ".join(exc.messages), level=messages.ERROR)
    return reload_with_message(request, url, f"{event.name} {STATUS_ACTIONS[status][1]}.")


# --- the editor ------------------------------------------------------------------------------


def _stale(event: EventDefinition) -> dict[str, Any]:
    """Who changed the event last, and when (from its latest revision)."""
    last = selectors.event_last_revision(event)
    return {
        "actor": (last.actor_label if last else "") or "someone",
        "at": last.created_at if last else event.updated_at,
    }


def _editor_page(
    request: AuthenticatedRequest,
    brand: Brand,
    editor: EventEditor,
    event: EventDefinition | None = None,
    *,
    status: int = 200,
    stale: dict[str, Any] | None = None,
) -> HttpResponse:
    context = {
        "brand": brand,
        "tab": "plan",
        "editor": editor,
        "event": event,
        "stale": stale,
        "meta_standard_events": list(META_STANDARD_EVENTS),
    }
    return render_page(
        request, "taxonomy/event_form.html", context, partial="event-form", status=status
    )


def _invalid_status(request: AuthenticatedRequest) -> int:
    return 422 if request.method == "POST" else 200


@require_http_methods(["GET", "POST"])
@policies.brand_capability("taxonomy.manage")
def event_create(request: AuthenticatedRequest, *, brand: Brand, role: Role | None) -> HttpResponse:
    if request.method != "POST":
        return _editor_page(request, brand, EventEditor(editing=False))
    editor = EventEditor(editing=False, data=request.POST)
    if editor.row_changed:
        return _editor_page(request, brand, editor)
    if editor.is_valid():
        try:
            event = services.event_create(user=request.user, brand=brand, content=editor.content())
        except ValidationError as exc:
            editor.add_service_error(exc)
        else:
            url = fast_reverse("taxonomy:event_detail", (brand.slug, event.pk))
            return saved_response(request, url, f"Event “{event.name}” added to the tracking plan.")
    return _editor_page(request, brand, editor, status=_invalid_status(request))


@require_http_methods(["GET", "POST"])
@policies.brand_capability("taxonomy.manage")
def event_edit(
    request: AuthenticatedRequest, pk: int, *, brand: Brand, role: Role | None
) -> HttpResponse:
    event = selectors.event_for_view(brand=brand, pk=pk)
    if request.method != "POST":
        editor = EventEditor.for_content(event.content, editing=True, version=event.version)
        return _editor_page(request, brand, editor, event)
    version = parse_version(request.POST.get("version"))
    editor = EventEditor(editing=True, data=request.POST, version=version)
    if editor.row_changed:
        return _editor_page(request, brand, editor, event)
    if version is None:
        editor.add_error(
            "This form is out of date or incomplete: reload the page and make your changes again."
        )
    if editor.is_valid():
        try:
            saved = services.event_update(
                user=request.user,
                event=event,
                content=editor.content(status=event.status),
                expected_version=version or 0,
            )
        except ValidationError as exc:
            editor.add_service_error(exc)
        except StaleVersion:
            current = selectors.event_for_view(brand=brand, pk=pk)
            editor = EventEditor.for_content(current.content, editing=True, version=current.version)
            return _editor_page(
                request,
                brand,
                editor,
                current,
                status=409 if request.htmx else 200,
                stale=_stale(current),
            )
        else:
            url = fast_reverse("taxonomy:event_detail", (brand.slug, saved.pk))
            return saved_response(request, url, f"Event “{saved.name}” saved.")
    return _editor_page(request, brand, editor, event, status=_invalid_status(request))


urlpatterns: list[URLPattern] = [
    path("plan/", plan, name="plan"),
    path("plan/template/", plan_apply_template, name="plan_apply_template"),
    path("plan/events/new/", event_create, name="event_create"),
    path("plan/events/<int:pk>/", event_detail, name="event_detail"),
    path("plan/events/<int:pk>/edit/", event_edit, name="event_edit"),
    path("plan/events/<int:pk>/status/", event_status, name="event_status"),
    path("plan/events/<int:pk>/diff/", event_diff, name="event_diff"),
]
