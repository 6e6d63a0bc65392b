"""The launches API's operations (see the package's docstring)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404, HttpResponse
from ninja import Header, Path, Query, Router, Status

from koastops.accounts.http import ApiRequest
from koastops.accounts.models import Role
from koastops.api.common import brand_with_capability, responses
from koastops.api.pagination import paginate
from koastops.api.routers.launches.schemas import (
    ApproveIn,
    CancelIn,
    ChecksOut,
    ChecksParams,
    CommentIn,
    LaunchedIn,
    LaunchFilters,
    LaunchIn,
    LaunchOut,
    LaunchPage,
)
from koastops.api.schemas import VersionErrorOut
from koastops.catalog.models import Brand
from koastops.core.exceptions import StaleVersion
from koastops.launches import inputs, selectors, services
from koastops.launches.models import CheckRun, Launch

router = Router(tags=["launches"])

ObjectId = Annotated[int, Path(ge=1, le=2**63 - 1)]
IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description='The launch\'s version from the ETag of your last GET, e.g. "3". Required.',
    ),
]
_VERSIONED = {409: VersionErrorOut, 412: VersionErrorOut, 428: VersionErrorOut}
_WRITE_ERRORS = (401, 403, 404, 422)


# --- helpers ------------------------------------------------------------------------------


class _Refused(Exception):
    """A write refused for its version or state: 409 / 412 / 428 naming the field."""

    def __init__(self, status: int, detail: Any, field: str, version: int | None) -> None:
        super().__init__(str(detail))
        self.status = status
        self.body: dict[str, Any] = {"detail": detail, "field": field, "version": version}


def _expected_version(if_match: str | None) -> int:
    if if_match is None or not if_match.strip():
        raise _Refused(
            428,
            'This write needs If-Match: "<version>", with the version from the ETag of a GET'
            " of the launch (or its `version` field).",
            "If-Match",
            None,
        )
    value = if_match.strip().removeprefix("W/").strip('"')
    if not (value.isascii() and value.isdigit() and len(value) <= 9):
        refused = _Refused(422, "", "If-Match", None)
        refused.body = {
            "detail": [
                {
                    "loc": ["header", "If-Match"],
                    "msg": 'If-Match must be one version, e.g. "3" (no lists, no "*").',
                    "type": "value_error",
                }
            ]
        }
        raise refused
    return int(value)


def _person(user: Any) -> str | None:
    return user.email if user is not None else None


def _run_out(run: CheckRun | None, launch: Launch) -> dict[str, Any] | None:
    if run is None:
        return None
    return {
        "id": run.pk,
        "state": run.state,
        "trigger": run.trigger,
        "content_hash": run.content_hash,
        "current": run.content_hash == launch.content_hash,
        "total": run.total,
        "completed": run.completed,
        "blocking_failed": run.blocking_failed,
        "warned": run.warned,
        "message": run.message,
        "created_at": run.created_at,
        "finished_at": run.finished_at,
    }


def _latest_run(launch: Launch) -> CheckRun | None:
    return CheckRun.objects.filter(launch=launch).order_by("-created_at", "-pk").first()


def _launch_out(launch: Launch) -> dict[str, Any]:
    data = inputs.as_data(launch)
    approved = bool(launch.approved_hash) and launch.approved_hash == launch.content_hash
    return {
        **data,
        "id": launch.pk,
        "brand": launch.brand.slug,
        "state": launch.state,
        "state_label": launch.get_state_display(),
        "state_changed_at": launch.state_changed_at,
        "version": launch.version,
        "content_hash": launch.content_hash,
        "ad_account_name": launch.ad_account.name,
        "currency": launch.ad_account.currency,
        "time_zone": launch.ad_account.time_zone,
        "pixel_name": launch.pixel.name,
        "optimization_event_name": launch.optimization_event.name,
        "created_by": _person(launch.created_by),
        "submitted_by": _person(launch.submitted_by),
        "submitted_at": launch.submitted_at,
        "approval": {
            "approved_by": _person(launch.approved_by),
            "approved_at": launch.approved_at,
            "content_hash": launch.approved_hash,
        }
        if approved
        else None,
        "platform_campaign_id": launch.platform_campaign_id,
        "launched_at": launch.launched_at,
        "latest_run": _run_out(_latest_run(launch), launch),
    }


def _load(user: Any, brand: Brand, role: Role | None, pk: int) -> Launch:
    """The launch with its structure, as the user may see it (404 otherwise)."""
    launch = (
        selectors.with_structure(selectors.visible_launches(user, brand, role=role).filter(pk=pk))
        .select_related("approved_by")
        .first()
    )
    if launch is None:
        raise Http404("No such launch.")
    return launch


def _answer(response: HttpResponse, launch: Launch, status: int = 200) -> Any:
    response["ETag"] = f'"{launch.version}"'
    return Status(status, _launch_out(launch))


def _write(
    request: ApiRequest,
    response: HttpResponse,
    slug: str,
    pk: int,
    capability: str,
    if_match: str | None,
    intent: Callable[[Launch, int], Any],
) -> Any:
    """Resolve the brand (``capability``) and the launch (visible, else 404), then run
    ``intent(launch, expected_version)`` turning its refusals into 409 / 412 / 428; the
    service's ``PermissionDenied`` (``OwnWork`` too) and ``ValidationError`` reach the API's
    handlers (403, 422 by field). Answers the launch as it is now."""
    brand, role = brand_with_capability(request, slug, capability)
    launch = _load(request.auth, brand, role, pk)
    try:
        expected = _expected_version(if_match)
        try:
            intent(launch, expected)
        except StaleVersion as exc:
            raise _Refused(
                412,
                f"The launch changed meanwhile: If-Match is version {exc.expected_version}, the"
                f" current version is {exc.current_version}. Nothing was changed; GET it again.",
                "If-Match",
                exc.current_version,
            ) from exc
        except services.WrongState as exc:
            raise _Refused(409, str(exc), "state", exc.launch.version) from exc
    except _Refused as refused:
        return Status(refused.status, refused.body)
    return _answer(response, _load(request.auth, brand, role, pk))


# --- reads --------------------------------------------------------------------------------


@router.get(
    "/brands/{slug}/launches",
    response=responses({200: LaunchPage}),
    url_name="launch_list",
)
def launch_list(request: ApiRequest, slug: str, filters: Query[LaunchFilters]) -> Any:
    """The brand's launches you may see, newest change first."""
    brand, role = brand_with_capability(request, slug, "launch.view")
    queryset = (
        selectors.visible_launches(request.auth, brand, role=role)
        .select_related("ad_account", "created_by")
        .order_by("-updated_at", "-pk")
    )
    if filters.state:
        queryset = queryset.filter(state=filters.state)
    if filters.ad_account:
        queryset = queryset.filter(ad_account_id=filters.ad_account)
    q = (filters.q or "").strip()
    if q:
        if "\x00" in q:
            raise ValidationError({"q": "Remove the NUL character."})
        queryset = queryset.filter(Q(campaign_name__icontains=q))
    page = paginate(queryset, filters)
    page["items"] = [
        {
            "id": launch.pk,
            "campaign_name": launch.campaign_name,
            "state": launch.state,
            "state_label": launch.get_state_display(),
            "state_changed_at": launch.state_changed_at,
            "version": launch.version,
            "ad_account": {
                "id": launch.ad_account.pk,
                "name": launch.ad_account.name,
                "external_id": launch.ad_account.external_id,
            },
            "objective": launch.objective,
            "budget_type": launch.budget_type,
            "budget_amount": f"{launch.budget_amount:.2f}",
            "currency": launch.ad_account.currency,
            "start_at": launch.start_at,
            "end_at": launch.end_at,
            "created_by": _person(launch.created_by),
            "updated_at": launch.updated_at,
        }
        for launch in page["items"]
    ]
    return page


@router.get(
    "/brands/{slug}/launches/{pk}",
    response=responses({200: LaunchOut}),
    url_name="launch_detail",
)
def launch_detail(request: ApiRequest, slug: str, pk: ObjectId, response: HttpResponse) -> Any:
    """The launch with its structure (the shape a POST or PATCH sends), state, version
    (also the ETag), content hash, current approval and latest check run."""
    brand, role = brand_with_capability(request, slug, "launch.view")
    return _answer(response, _load(request.auth, brand, role, pk))


@router.get(
    "/brands/{slug}/launches/{pk}/checks",
    response=responses({200: ChecksOut}),
    url_name="launch_checks",
)
def launch_checks(request: ApiRequest, slug: str, pk: ObjectId, params: Query[ChecksParams]) -> Any:
    """The latest check run (or the run ``?run=`` of this launch) and its results in the
    registry's order."""
    brand, role = brand_with_capability(request, slug, "launch.view")
    launch = selectors.visible_launches(request.auth, brand, role=role).filter(pk=pk).first()
    if launch is None:
        raise Http404("No such launch.")
    runs = CheckRun.objects.filter(launch=launch).order_by("-created_at", "-pk")
    run = runs.filter(pk=params.run).first() if params.run else runs.first()
    if run is None:
        if params.run:
            raise Http404("No such run.")
        return {"run": None, "results": []}
    overridden = set(
        launch.overrides.filter(content_hash=run.content_hash).values_list("check_key", flat=True)
    )
    return {
        "run": _run_out(run, launch),
        "results": [
            {
                "key": result.key,
                "title": result.title,
                "severity": result.severity,
                "status": result.status,
                "message": result.message,
                "details": result.details if isinstance(result.details, dict) else {},
                "overridden": result.key in overridden,
            }
            for result in selectors.run_results(run)
        ],
    }


# --- writes -------------------------------------------------------------------------------


@router.post(
    "/brands/{slug}/launches",
    response=responses({201: LaunchOut}),
    url_name="launch_create",
)
def launch_create(request: ApiRequest, slug: str, payload: LaunchIn, response: HttpResponse) -> Any:
    """A new draft. 422 names each problem by its path (``ad_sets.0.ads.1.landing_url``)."""
    brand, role = brand_with_capability(request, slug, "launch.create")
    launch = services.launch_create(
        user=request.auth, brand=brand, data=payload.dict(exclude_unset=True)
    )
    return _answer(response, _load(request.auth, brand, role, launch.pk), 201)


@router.patch(
    "/brands/{slug}/launches/{pk}",
    response=responses({200: LaunchOut, **_VERSIONED}, errors=_WRITE_ERRORS),
    url_name="launch_update",
)
def launch_update(
    request: ApiRequest,
    slug: str,
    pk: ObjectId,
    payload: LaunchIn,
    response: HttpResponse,
    if_match: IfMatch = None,
) -> Any:
    """Change the fields given (the rest stay; a given ``ad_sets`` replaces the whole
    structure). Editing an in-review or approved launch voids its review or approval and
    returns it to draft."""
    changes = payload.dict(exclude_unset=True)

    def intent(launch: Launch, expected: int) -> Any:
        if launch.version != expected:  # the merge below is over the content of that version
            raise StaleVersion(expected_version=expected, current_version=launch.version)
        data = {**inputs.as_data(launch), **changes}
        return services.launch_update(
            user=request.auth, launch=launch, data=data, expected_version=expected
        )

    return _write(request, response, slug, pk, "launch.edit", if_match, intent)


@router.post(
    "/brands/{slug}/launches/{pk}/submit",
    response=responses({200: LaunchOut, **_VERSIONED}, errors=_WRITE_ERRORS),
    url_name="launch_submit",
)
def launch_submit(
    request: ApiRequest, slug: str, pk: ObjectId, response: HttpResponse, if_match: IfMatch = None
) -> Any:
    """Run the checklist; when it ends the launch is in review (``latest_run`` shows the
    run; poll ``…/checks``)."""
    return _write(
        request,
        response,
        slug,
        pk,
        "launch.submit",
        if_match,
        lambda launch, expected: services.launch_submit(
            user=request.auth, launch=launch, expected_version=expected
        ),
    )


@router.post(
    "/brands/{slug}/launches/{pk}/rerun",
    response=responses({200: LaunchOut, **_VERSIONED}, errors=_WRITE_ERRORS),
    url_name="launch_rerun",
)
def launch_rerun(
    request: ApiRequest, slug: str, pk: ObjectId, response: HttpResponse, if_match: IfMatch = None
) -> Any:
    """Run the checklist again (e.g. after a consent sign-off); from in review the launch
    returns to review when the run ends."""
    return _write(
        request,
        response,
        slug,
        pk,
        "launch.submit",
        if_match,
        lambda launch, expected: services.launch_rerun_checks(
            user=request.auth, launch=launch, expected_version=expected
        ),
    )


@router.post(
    "/brands/{slug}/launches/{pk}/approve",
    response=responses({200: LaunchOut, **_VERSIONED}, errors=_WRITE_ERRORS),
    url_name="launch_approve",
)
def launch_approve(
    request: ApiRequest,
    slug: str,
    pk: ObjectId,
    payload: ApproveIn,
    response: HttpResponse,
    if_match: IfMatch = None,
) -> Any:
    """Approve the content the latest run checked. Each blocking check that failed needs
    ``overrides.<key>``: a written reason (422 on that path otherwise). Never your own
    launch (403)."""
    return _write(
        request,
        response,
        slug,
        pk,
        "launch.approve",
        if_match,
        lambda launch, expected: services.launch_approve(
            user=request.auth,
            launch=launch,
            expected_version=expected,
            comment=payload.comment,
            overrides=payload.overrides,
        ),
    )


@router.post(
    "/brands/{slug}/launches/{pk}/reject",
    response=responses({200: LaunchOut, **_VERSIONED}, errors=_WRITE_ERRORS),
    url_name="launch_reject",
)
def launch_reject(
    request: ApiRequest,
    slug: str,
    pk: ObjectId,
    payload: CommentIn,
    response: HttpResponse,
    if_match: IfMatch = None,
) -> Any:
    """Reject the launch (final); ``comment`` is required."""
    return _write(
        request,
        response,
        slug,
        pk,
        "launch.approve",
        if_match,
        lambda launch, expected: services.launch_reject(
            user=request.auth, launch=launch, expected_version=expected, comment=payload.comment
        ),
    )


@router.post(
    "/brands/{slug}/launches/{pk}/request-changes",
    response=responses({200: LaunchOut, **_VERSIONED}, errors=_WRITE_ERRORS),
    url_name="launch_request_changes",
)
def launch_request_changes(
    request: ApiRequest,
    slug: str,
    pk: ObjectId,
    payload: CommentIn,
    response: HttpResponse,
    if_match: IfMatch = None,
) -> Any:
    """Send the launch back to its media buyer (needs changes); ``comment`` is required."""
    return _write(
        request,
        response,
        slug,
        pk,
        "launch.approve",
        if_match,
        lambda launch, expected: services.launch_request_changes(
            user=request.auth, launch=launch, expected_version=expected, comment=payload.comment
        ),
    )


@router.post(
    "/brands/{slug}/launches/{pk}/cancel",
    response=responses({200: LaunchOut, **_VERSIONED}, errors=_WRITE_ERRORS),
    url_name="launch_cancel",
)
def launch_cancel(
    request: ApiRequest,
    slug: str,
    pk: ObjectId,
    payload: CancelIn,
    response: HttpResponse,
    if_match: IfMatch = None,
) -> Any:
    """Cancel the launch (any state before launched); an active check run is cancelled."""
    return _write(
        request,
        response,
        slug,
        pk,
        "launch.cancel",
        if_match,
        lambda launch, expected: services.launch_cancel(
            user=request.auth, launch=launch, expected_version=expected, reason=payload.reason
        ),
    )


@router.post(
    "/brands/{slug}/launches/{pk}/launched",
    response=responses({200: LaunchOut, **_VERSIONED}, errors=_WRITE_ERRORS),
    url_name="launch_mark_launched",
)
def launch_mark_launched(
    request: ApiRequest,
    slug: str,
    pk: ObjectId,
    payload: LaunchedIn,
    response: HttpResponse,
    if_match: IfMatch = None,
) -> Any:
    """The approved launch is live in Ads Manager: record its campaign id."""
    return _write(
        request,
        response,
        slug,
        pk,
        "launch.export",
        if_match,
        lambda launch, expected: services.launch_mark_launched(
            user=request.auth,
            launch=launch,
            expected_version=expected,
            platform_campaign_id=payload.platform_campaign_id,
        ),
    )
