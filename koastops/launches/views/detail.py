"""A launch's page, the hub of its journey, and the small writes it offers.

- ``launches:detail`` (GET, ``launch.view``): the facts, who drafted / submitted /
  approved it, an action bar by capability and state, the latest check run's checklist
  (polled while the run is active), the structure, the reviews, open regressions and the
  launch's activity rows (paginated). The launch is looked up through
  ``selectors.launch_for_view``: a launch the user may not see (another brand, or an ad
  account a narrowed media buyer may not use) is a 404.
- ``launches:run_status`` (GET, ``launch.view``): the htmx fragment of one run's
  checklist. While the run is active the fragment polls itself every second; once the run
  has ended the view answers 286 (htmx stops polling) with the final fragment and, out of
  band, the page's state badge and action bar (the run's end moved the launch on). A run
  of another launch is a 404. Without htmx it redirects to the launch's page.
- ``launches:submit`` / ``launches:rerun`` (POST): ``services.launch_submit`` /
  ``services.launch_rerun_checks`` with the page's ``version``; back to the page with a
  message either way (a stale version or a wrong state is a message, never a 500).
- ``launches:mark_launched`` (GET form, POST, ``launch.export``):
  ``services.launch_mark_launched``; errors by the field.

Writes go through the services only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect
from django.urls import path
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from koastops.accounts import policies
from koastops.accounts.http import AuthenticatedRequest
from koastops.accounts.models import Role
from koastops.activity.verbs import VERB_INFO
from koastops.catalog.models import Brand
from koastops.core.exceptions import StaleVersion
from koastops.core.forms import add_service_error, parse_version
from koastops.core.htmx import reload_with_message, render_page, saved_response
from koastops.core.links import fast_reverse
from koastops.core.pagination import paginate
from koastops.launches import selectors, services, states
from koastops.launches.models import (
    CheckOverride,
    CheckResult,
    CheckRun,
    Launch,
    LaunchState,
    Regression,
    RegressionStatus,
    Review,
)

# The state badge's tone (colour + icon + the state's name: never colour alone).
STATE_TONES = {
    LaunchState.DRAFT: "unknown",
    LaunchState.CHECKING: "warning",
    LaunchState.READY: "ok",
    LaunchState.NEEDS_CHANGES: "failing",
    LaunchState.IN_REVIEW: "warning",
    LaunchState.APPROVED: "ok",
    LaunchState.REJECTED: "failing",
    LaunchState.LAUNCHED: "ok",
    LaunchState.CANCELLED: "archived",
}
STALE_MESSAGE = (
    "The launch changed since you opened it (someone else acted on it): "
    "here it is as it is now. Try again if it still applies."
)
BAD_VERSION_MESSAGE = "The form was incomplete: reload the page and try again."


@dataclass(frozen=True)
class Actions:
    """What the action bar offers this user on this launch in its current state."""

    edit: bool
    duplicate: bool
    cancel: bool
    submit: bool
    rerun: bool
    review: bool  # an ops lead who may review it (not their own)
    review_own: bool  # an ops lead who may not: they drafted or submitted it
    export: bool
    mark_launched: bool

    @property
    def any(self) -> bool:
        return any(
            (
                self.edit,
                self.duplicate,
                self.cancel,
                self.submit,
                self.rerun,
                self.review,
                self.export,
                self.mark_launched,
            )
        )


def actions_for(user: Any, launch: Launch, role: Role | None) -> Actions:
    """Capability AND state (a constant number of queries: a few for a media buyer)."""
    state = launch.state

    def on(capability: str) -> bool:
        return policies.can_on_launch(user, capability, launch, role=role)

    may_submit = state in states.RERUNNABLE and on("launch.submit")
    may_approve = state in states.REVIEWABLE and on("launch.approve")
    own = may_approve and not policies.may_review(user, launch)
    may_export = state in states.EXPORTABLE and on("launch.export")
    return Actions(
        edit=state in states.EDITABLE and on("launch.edit"),
        duplicate=policies.can(user, "launch.create", launch.brand, role=role),
        cancel=state in states.CANCELLABLE and on("launch.cancel"),
        submit=may_submit and state in states.SUBMITTABLE,
        # The service decides the same way: the submitter's capability, or an ops lead
        # while the launch is in review.
        rerun=may_submit or may_approve,
        review=may_approve and not own,
        review_own=own,
        export=may_export,
        mark_launched=may_export and state == LaunchState.APPROVED,
    )


def _launch(
    request: AuthenticatedRequest, brand: Brand, role: Role | None, pk: int, *, structure: bool
) -> Launch:
    return selectors.launch_for_view(request.user, brand, pk, role=role, structure=structure)


def _detail_url(brand: Brand, launch: Launch) -> str:
    return fast_reverse("launches:detail", (brand.slug, launch.pk))


def _latest_run(launch: Launch) -> CheckRun | None:
    """The launch's latest run (a post-launch re-run too, which is not ``current_run``)."""
    return CheckRun.objects.filter(launch=launch).order_by("-created_at", "-pk").first()


def _overrides(launch: Launch) -> dict[str, CheckOverride]:
    """The overrides given on the current content, by check key (one query)."""
    rows = CheckOverride.objects.filter(
        launch=launch, content_hash=launch.content_hash
    ).select_related("overridden_by")
    found: dict[str, CheckOverride] = {}
    for row in rows:  # newest first: keep the newest per check
        found.setdefault(row.check_key, row)
    return found


def _progress(run: CheckRun | None, results: list[CheckResult]) -> dict[str, Any]:
    total = len(results) or (run.total if run else 0)
    done = sum(1 for result in results if result.is_final)
    return {
        "done": done,
        "total": total,
        "percent": round(100 * done / total) if total else 100,
        "blocking": sum(1 for result in results if result.blocks),
        "warned": sum(1 for r in results if r.is_final and r.status != "pass" and not r.blocks),
    }


def run_context(
    request: AuthenticatedRequest, brand: Brand, launch: Launch, run: CheckRun | None
) -> dict[str, Any]:
    """The context of ``launches/_run_status.html`` (and the ``_checks.html`` inside)."""
    results = selectors.run_results(run) if run is not None else []
    return {
        "brand": brand,
        "launch": launch,
        "run": run,
        "results": results,
        "overrides": _overrides(launch) if run is not None else {},
        "progress": _progress(run, results),
        "poll_url": fast_reverse("launches:run_status", (brand.slug, launch.pk, run.pk))
        if run is not None
        else "",
    }


def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError, OSError):  # a zone dropped from the tz database
        return None


def _page_context(
    request: AuthenticatedRequest, brand: Brand, role: Role | None, launch: Launch
) -> dict[str, Any]:
    return {
        "brand": brand,
        "launch": launch,
        "state_tone": STATE_TONES.get(LaunchState(launch.state), "unknown"),
        "actions": actions_for(request.user, launch, role),
        "why_not": states.WHY_NOT.get(launch.state, ""),
    }


# --- the page ------------------------------------------------------------------------------


@require_GET
@policies.brand_capability("launch.view")
def detail(
    request: AuthenticatedRequest, pk: int, *, brand: Brand, role: Role | None
) -> HttpResponse:
    launch = _launch(request, brand, role, pk, structure=True)
    account = launch.ad_account
    zone = _zone(account.time_zone)
    run = _latest_run(launch)
    approved_by = launch.approved_by if launch.approved_by_id else None
    reviews = list(
        Review.objects.filter(launch=launch).select_related("reviewer").order_by("-created_at")
    )
    regressions = list(
        Regression.objects.filter(launch=launch, status=RegressionStatus.OPEN).order_by(
            "-opened_at"
        )
    )
    activity = (
        policies.activity_for(request.user, brand, role=role)
        .filter(target_type="launches.launch", target_id=str(launch.pk))
        .order_by("-id")
    )
    activity_page = paginate(request, activity, per_page=20)
    for entry in activity_page.object_list:
        info = VERB_INFO.get(entry.verb)
        entry.description = info.description if info else entry.verb
    ad_sets = sorted(launch.ad_sets.all(), key=lambda ad_set: ad_set.position)
    context = {
        **_page_context(request, brand, role, launch),
        **run_context(request, brand, launch, run),
        "tab": "launches",
        "account": account,
        "zone_name": account.time_zone if zone is not None else "UTC",
        "start_at": launch.start_at,
        "end_at": launch.end_at,
        "markets": sorted(launch.markets.all(), key=lambda market: market.code),
        "approved_by": approved_by,
        "ad_sets": ad_sets,
        "ads_count": sum(len(ad_set.ads.all()) for ad_set in ad_sets),
        "reviews": reviews,
        "regressions": regressions,
        "activity_page": activity_page,
        "list_url": fast_reverse("launches:list", (brand.slug,)),
    }
    return render_page(request, "launches/detail.html", context, partial="activity")


@require_GET
@policies.brand_capability("launch.view")
def run_status(
    request: AuthenticatedRequest, pk: int, run_pk: int, *, brand: Brand, role: Role | None
) -> HttpResponseBase:
    launch = _launch(request, brand, role, pk, structure=False)
    run = get_object_or_404(CheckRun, launch=launch, pk=run_pk)
    if not request.htmx:
        return redirect(f"{_detail_url(brand, launch)}#checklist")
    context = {**run_context(request, brand, launch, run), "fragment": True}
    if run.is_active:
        return render_page(request, "launches/_run_status.html", context)
    # The run has ended: the final fragment, and out of band the state badge and the
    # action bar (the run's end moved the launch on in the same transaction).
    context.update(_page_context(request, brand, role, launch))
    context["oob"] = True
    response = render_page(request, "launches/_run_status.html", context)
    response.status_code = 286  # htmx stops polling; the final fragment swaps in
    return response


# --- submit and re-run ---------------------------------------------------------------------


def _run_intent(
    request: AuthenticatedRequest, brand: Brand, role: Role | None, pk: int, intent: Any
) -> HttpResponse:
    launch = _launch(request, brand, role, pk, structure=False)
    url = _detail_url(brand, launch)
    version = parse_version(request.POST.get("version"))
    if version is None:
        return reload_with_message(request, url, BAD_VERSION_MESSAGE, level=messages.ERROR)
    try:
        intent(user=request.user, launch=launch, expected_version=version)
    except StaleVersion:
        return reload_with_message(request, url, STALE_MESSAGE, level=messages.ERROR)
    except services.WrongState as exc:
        return reload_with_message(request, url, str(exc), level=messages.ERROR)
    return reload_with_message(request, f"{url}#checklist", "Checks started.")


@require_POST
@policies.brand_capability("launch.submit")
def submit(
    request: AuthenticatedRequest, pk: int, *, brand: Brand, role: Role | None
) -> HttpResponse:
    return _run_intent(request, brand, role, pk, services.launch_submit)


@require_POST
@policies.brand_capability("launch.view")  # the service decides: see launch_rerun_checks
def rerun(
    request: AuthenticatedRequest, pk: int, *, brand: Brand, role: Role | None
) -> HttpResponse:
    return _run_intent(request, brand, role, pk, services.launch_rerun_checks)


# --- mark launched -------------------------------------------------------------------------


class MarkLaunchedForm(forms.Form):
    platform_campaign_id = forms.CharField(
        label="Platform campaign id",
        max_length=40,
        required=False,  # the service says what is missing, in its words
        help_text="The id Ads Manager shows for the campaign once it is published, "
        "e.g. 120210000000000001.",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )


@require_http_methods(["GET", "POST"])
@policies.brand_capability("launch.export")
def mark_launched(
    request: AuthenticatedRequest, pk: int, *, brand: Brand, role: Role | None
) -> HttpResponse:
    launch = _launch(request, brand, role, pk, structure=False)
    policies.require(
        policies.can_on_launch(request.user, "launch.export", launch, role=role),
        "You may not mark this launch launched.",
    )
    url = _detail_url(brand, launch)
    status = 200
    if request.method == "POST":
        form = MarkLaunchedForm(request.POST)
        if form.is_valid():
            version = parse_version(request.POST.get("version"))
            try:
                if version is None:
                    raise StaleVersion(expected_version=0, current_version=launch.version)
                services.launch_mark_launched(
                    user=request.user,
                    launch=launch,
                    expected_version=version,
                    platform_campaign_id=form.cleaned_data["platform_campaign_id"],
                )
            except ValidationError as exc:
                add_service_error(form, exc)
            except StaleVersion:
                form.add_error(None, STALE_MESSAGE)
                status = 409
            except services.WrongState as exc:
                form.add_error(None, str(exc))
                status = 409
            else:
                return saved_response(
                    request,
                    url,
                    f"Marked launched: its checks re-run daily for {services.MONITOR_DAYS} days.",
                )
        if status == 200 and request.htmx:
            status = 422
        launch.refresh_from_db(fields=["version", "state", "state_changed_at"])
    else:
        form = MarkLaunchedForm()
    context = {
        "brand": brand,
        "tab": "launches",
        "launch": launch,
        "form": form,
        "detail_url": url,
        "why_not": states.WHY_NOT.get(launch.state, ""),
        "state_tone": STATE_TONES.get(LaunchState(launch.state), "unknown"),
    }
    return render_page(
        request, "launches/mark_launched.html", context, partial="mark-launched-form", status=status
    )


urlpatterns: list = [
    path("<int:pk>/", detail, name="detail"),
    path("<int:pk>/runs/<int:run_pk>/", run_status, name="run_status"),
    path("<int:pk>/submit/", submit, name="submit"),
    path("<int:pk>/rerun/", rerun, name="rerun"),
    path("<int:pk>/launched/", mark_launched, name="mark_launched"),
]
