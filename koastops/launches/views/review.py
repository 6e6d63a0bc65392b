"""The ops lead's pages: the approval queue across brands (``launches_global:queue``) and
the review of one launch (``launches:review``): its summary, the latest run's checklist,
the diff since the last review and the decision (approve with an override per blocking
failure, reject, request changes).

Views parse, ask ``policies`` (``brand_capability``: 404 for a brand without a role,
403 without ``launch.approve``; ``selectors.launch_for_view``: 404 for a launch the user
may not see), call the services and render. The decision form carries the version the
page was rendered on: a decision on a launch that changed meanwhile records nothing
(``StaleVersion``) and the page says so. Nobody reviews their own launch (``OwnWork``):
the page then shows no form, admins included."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.urls import URLPattern, path
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from koastops.accounts import policies
from koastops.accounts.http import AuthenticatedRequest
from koastops.accounts.models import Role
from koastops.catalog.models import Brand
from koastops.core.exceptions import StaleVersion
from koastops.core.htmx import render_page, saved_response
from koastops.core.links import fast_reverse
from koastops.core.pagination import paginate
from koastops.launches import content, review_selectors, selectors, services, states
from koastops.launches.models import CheckRun, Launch, LaunchState
from koastops.launches.review_forms import APPROVE, REJECT, ReviewForm

QUEUE_PAGE_SIZE = 25
PATH_SEPARATOR = " \N{SINGLE RIGHT-POINTING ANGLE QUOTATION MARK} "

# --- the diff, in words -----------------------------------------------------------------

FIELD_LABELS = {
    "ad_account": "Ad account",
    "pixel": "Pixel",
    "objective": "Objective",
    "optimization_event": "Optimization event",
    "markets": "Markets",
    "budget_type": "Budget type",
    "budget_amount": "Budget",
    "currency": "Currency",
    "start_at": "Start",
    "end_at": "End",
    "campaign_name": "Campaign name",
    "name": "Name",
    "market": "Market",
    "audience_note": "Audience note",
    "landing_url": "Landing URL",
    "utm_source": "UTM source",
    "utm_medium": "UTM medium",
    "utm_campaign": "UTM campaign",
    "utm_content": "UTM content",
    "utm_term": "UTM term",
}


def path_label(change_path: str) -> str:
    """``ad_sets.0.ads.1.landing_url`` → "Ad set 1 ARROW Ad 2 ARROW Landing URL" (ARROW:
    ``PATH_SEPARATOR``, a single right-pointing angle quotation mark)."""
    parts = change_path.split(".")
    words: list[str] = []
    index = 0
    while index < len(parts):
        part = parts[index]
        following = parts[index + 1] if index + 1 < len(parts) else None
        if part in ("ad_sets", "ads") and following is not None and following.isdigit():
            words.append(f"{'Ad set' if part == 'ad_sets' else 'Ad'} {int(following) + 1}")
            index += 2
            continue
        words.append(FIELD_LABELS.get(part, part.replace("_", " ").capitalize()))
        index += 1
    return PATH_SEPARATOR.join(words)


def readable(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value) or "—"
    if isinstance(value, dict):
        name = value.get("name") or "unnamed"
        ads = value.get("ads")
        return f"“{name}” with {len(ads)} ad(s)" if isinstance(ads, list) else f"“{name}”"
    return str(value)


def diff_rows(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, str]]:
    return [
        {
            "path": change.path,
            "label": path_label(change.path),
            "kind": change.kind,
            "before": readable(change.before),
            "after": readable(change.after),
        }
        for change in content.diff(before, after)
    ]


# --- the approval queue -------------------------------------------------------------------


def _person(full_name: str | None, email: str | None) -> str:
    return full_name or email or "someone"


@require_GET
@login_required
def queue(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    filters = review_selectors.parse_filters(request.GET)
    brands = review_selectors.approver_brands(user)
    # An admin's brand filter offers the switcher's brands (the first 50, one cached query).
    brand_options = brands if brands is not None else policies.switcher_brands(user)
    narrowed = policies.is_narrowed_anywhere(user)
    rows, total = review_selectors.queue_rows(user, filters, brands=brands, narrowed=narrowed)
    page = paginate(request, rows, per_page=QUEUE_PAGE_SIZE, total=total)
    now = timezone.now()
    for row in page.object_list:
        row["yours"] = user.pk in (row["created_by_id"], row["submitted_by_id"])
        row["url"] = fast_reverse("launches:review", (row["brand__slug"], row["pk"]))
        row["waiting"] = review_selectors.waiting_label(row["state_changed_at"], now)
        row["submitter"] = (
            _person(row["submitted_by__full_name"], row["submitted_by__email"])
            if row["submitted_by_id"]
            else "—"
        )
    context = {
        "page": page,
        "filters": filters,
        "brands": brand_options,
        "accounts": review_selectors.queue_accounts(
            user,
            narrowed=narrowed,
            brand_ids=[
                pk for pk, _, slug in brand_options if not filters.brand or slug == filters.brand
            ],
        ),
        "waiting_choices": [(key, label) for key, (label, _) in review_selectors.WAITING.items()],
        "list_url": fast_reverse("launches_global:queue"),
        "approver_anywhere": brands is None or bool(brands),
    }
    return render_page(request, "launches/queue.html", context, partial="queue-table")


# --- the review page ----------------------------------------------------------------------


def _load(request: AuthenticatedRequest, brand: Brand, pk: int, role: Role | None) -> Launch:
    launch = selectors.launch_for_view(request.user, brand, pk, role=role)
    policies.require(
        policies.can_on_launch(request.user, "launch.approve", launch, role=role),
        "You may not review this launch.",
    )
    return launch


def _review_page(
    request: AuthenticatedRequest,
    brand: Brand,
    launch: Launch,
    *,
    form: ReviewForm | None = None,
    error: str = "",
    reload: bool = False,
    status: int = 200,
) -> HttpResponse:
    run = (
        CheckRun.objects.filter(pk=launch.current_run_id).first() if launch.current_run_id else None
    )
    results = selectors.run_results(run) if run is not None else []
    overridden = review_selectors.overridden_keys(launch)
    blocking = [r for r in results if r.blocks and r.key not in overridden]
    last = review_selectors.last_review(launch)
    changes = diff_rows(last.snapshot, content.snapshot(launch)) if last is not None else None
    own = not policies.may_review(request.user, launch)
    in_review = launch.state == LaunchState.IN_REVIEW
    if form is None:
        form = ReviewForm(initial={"version": launch.version}, blocking=blocking)
    else:
        # Whatever was posted, the next post is based on what this page shows now.
        data = form.data.copy()  # type: ignore[attr-defined]  # a QueryDict
        data["version"] = str(launch.version)
        form.data = data
    context = {
        "brand": brand,
        "tab": "launches",
        "launch": launch,
        "run": run,
        "results": results,
        "overridden": list(overridden.values()),
        "blocking": blocking,
        "last": last,
        "changes": changes,
        "own": own,
        "checking": launch.state == LaunchState.CHECKING,
        "in_review": in_review,
        "why_not": "" if in_review else states.WHY_NOT.get(launch.state, ""),
        "show_form": in_review and not own,
        "can_rerun": in_review,
        "form": form,
        "error": error,
        "reload": reload,
        "detail_url": fast_reverse("launches:detail", (brand.slug, launch.pk)),
        "review_url": fast_reverse("launches:review", (brand.slug, launch.pk)),
        "rerun_url": fast_reverse("launches:rerun", (brand.slug, launch.pk)),
        "queue_url": fast_reverse("launches_global:queue") + f"?brand={brand.slug}",
    }
    return render_page(request, "launches/review.html", context, status=status)


DECIDED = {
    APPROVE: "approved",
    REJECT: "rejected",
    "request_changes": "sent back for changes",
}


@require_http_methods(["GET", "POST"])
@policies.brand_capability("launch.approve")
def review(
    request: AuthenticatedRequest, pk: int, *, brand: Brand, role: Role | None
) -> HttpResponse:
    launch = _load(request, brand, pk, role)
    if request.method != "POST":
        return _review_page(request, brand, launch)
    if not policies.may_review(request.user, launch):
        return _review_page(request, brand, launch, error=str(services.OwnWork()), status=403)
    run = (
        CheckRun.objects.filter(pk=launch.current_run_id).first() if launch.current_run_id else None
    )
    results = selectors.run_results(run) if run is not None else []
    overridden = review_selectors.overridden_keys(launch)
    form = ReviewForm(
        data=request.POST, blocking=[r for r in results if r.blocks and r.key not in overridden]
    )
    if not form.is_valid():
        if "version" in form.errors:
            return _review_page(
                request,
                brand,
                launch,
                form=form,
                error="This form was incomplete or out of date. Nothing was recorded.",
                reload=True,
                status=409,
            )
        return _review_page(request, brand, launch, form=form, status=422)
    decision = form.cleaned_data["decision"]
    common = {
        "user": request.user,
        "launch": launch,
        "expected_version": form.cleaned_data["version"],
        "comment": form.cleaned_data.get("comment") or "",
    }
    try:
        if decision == APPROVE:
            services.launch_approve(**common, overrides=form.overrides())
        elif decision == REJECT:
            services.launch_reject(**common)
        else:
            services.launch_request_changes(**common)
    except ValidationError as exc:
        form.add_service_error(exc)
        return _review_page(
            request, brand, _reload(request, brand, pk, role), form=form, status=422
        )
    except StaleVersion:
        return _review_page(
            request,
            brand,
            _reload(request, brand, pk, role),
            form=form,
            error="The launch changed since you opened it. Nothing was recorded: "
            "reload the page and review the current version.",
            reload=True,
            status=409,
        )
    except services.WrongState as exc:
        return _review_page(
            request, brand, _reload(request, brand, pk, role), error=str(exc), status=409
        )
    except PermissionDenied as exc:  # OwnWork included
        return _review_page(request, brand, launch, error=str(exc), status=403)
    message = f"{launch.campaign_name}: {DECIDED[decision]}."
    return saved_response(request, fast_reverse("launches:detail", (brand.slug, pk)), message)


def _reload(request: AuthenticatedRequest, brand: Brand, pk: int, role: Role | None) -> Launch:
    return selectors.launch_for_view(request.user, brand, pk, role=role)


urlpatterns: list[URLPattern] = [
    path("<int:pk>/review/", review, name="review"),
]

global_urlpatterns: list[URLPattern] = [path("review/", queue, name="queue")]
