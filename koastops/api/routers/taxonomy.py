"""The tracking plan over the API (under /api/v1/brands/{slug}/…): list and read event
definitions (``taxonomy.view``), create, replace and change the status of one
(``taxonomy.manage``), and the plan's export document.

Writes go through the same services as the pages (``koastops.taxonomy.services``), which
validate the whole content with ``content.parse_event``, lock, compare the version and
write the revision and the activity row in one transaction. As with the catalog writes,
a write to an existing event needs ``If-Match: "<version>"`` (428 without, 409 when it is
no longer current; nothing is written). Content errors answer 422 with ``loc`` naming the
content path: ``parameters[0].type`` is ``["body", "parameters", 0, "type"]``.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict

from koastops.accounts.http import ApiRequest
from koastops.api.common import brand_with_capability, responses
from koastops.api.pagination import PageParams, paginate
from koastops.api.routers.catalog import IfMatch, _expected_version, _Refused
from koastops.api.schemas import NO_NUL, Text, VersionErrorOut
from koastops.catalog.models import Brand
from koastops.core.exceptions import StaleVersion
from koastops.taxonomy import selectors, services, transfer
from koastops.taxonomy.catalogue import MAPPING_PLATFORMS, PARAM_TYPES, SOURCES, STATUSES
from koastops.taxonomy.content import EVENT_NAME
from koastops.taxonomy.models import EventDefinition

router = Router(tags=["tracking plan"])

Status_ = Literal[tuple(STATUSES)]  # type: ignore[valid-type]
Sources = Literal[tuple(SOURCES)]  # type: ignore[valid-type]
Platform = Literal[tuple(MAPPING_PLATFORMS)]  # type: ignore[valid-type]
ParamType = Literal[tuple(PARAM_TYPES)]  # type: ignore[valid-type]
NoFilter = Literal[""]

# --- shapes ---------------------------------------------------------------------------------
# The bodies say the content's shape (for the OpenAPI document, and strictly: no coercion
# of "true" or "1"); what a value may be beyond its type (names, lengths, Meta standard
# events, parameters a mapping sends) is content.parse_event's, as on the pages.


class _Strict(Schema):
    model_config = ConfigDict(extra="forbid", strict=True)


class ParameterBody(_Strict):
    name: Text
    type: ParamType = "string"  # type: ignore[valid-type]
    required: bool = False
    allowed_values: list[Text] = Field([], max_length=1000)
    pattern: Text = ""
    description: Text = ""


class MappingBody(_Strict):
    platform: Platform  # type: ignore[valid-type]
    target: Text
    custom: bool = Field(False, description="Meta only: a custom event, not a standard one.")
    parameters: list[Text] = Field(
        [], max_length=1000, description="Names of the event's parameters sent."
    )


class EventBody(_Strict):
    name: Text = Field(description="Letters, digits and _, starting with a letter (≤ 50).")
    display_name: Text = ""
    description: Text = Field("", description="Business meaning: what counts as this event.")
    trigger: Text = Field("", description="When it fires.")
    owner: Text = ""
    status: Status_ = "draft"  # type: ignore[valid-type]
    sources: Sources = "browser"  # type: ignore[valid-type]
    event_id_required: bool = Field(
        False, description="Whether browser and server send an event_id for deduplication."
    )
    parameters: list[ParameterBody] = Field([], max_length=1000)
    mappings: list[MappingBody] = Field([], max_length=100)


class StatusBody(_Strict):
    status: Status_  # type: ignore[valid-type]


class ParameterOut(Schema):
    name: str
    type: str
    required: bool
    allowed_values: list[str]
    pattern: str
    description: str


class MappingOut(Schema):
    platform: str
    target: str
    custom: bool
    parameters: list[str]


class EventOut(Schema):
    name: str
    display_name: str
    description: str
    trigger: str
    owner: str
    status: str
    sources: str
    event_id_required: bool
    parameters: list[ParameterOut]
    mappings: list[MappingOut]
    version: int = Field(description="Bumped by every change; send it back as If-Match.")
    updated_at: dt.datetime


class EventPage(Schema):
    count: int
    page: int
    page_size: int
    items: list[EventOut]


class PlanDocumentOut(Schema):
    format: str = Field(description=f"Always {transfer.FORMAT!r}.")
    events: list[dict[str, Any]] = Field(
        description="Each event's content plus `json_schema` (draft 2020-12) of its parameters."
    )


class EventFilters(PageParams):
    status: Status_ | NoFilter = Field("", description="draft, active or deprecated (empty: any).")  # type: ignore[valid-type]
    source: Sources | NoFilter = Field(  # type: ignore[valid-type]
        "",
        description=(
            "As on the plan page: browser (or server) lists the events sent from the browser"
            " (the server), both sides included; both only those sent from both (empty: any)."
        ),
    )
    platform: Platform | Literal["none"] | NoFilter = Field(  # type: ignore[valid-type]
        "",
        description="Events mapped to meta, google or linkedin; none: mapped to no platform.",
    )
    q: str = Field(
        "", max_length=100, pattern=NO_NUL, description="Search in names and display names."
    )


# --- helpers --------------------------------------------------------------------------------

_PATH_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
_VERSIONED = {409: VersionErrorOut, 428: VersionErrorOut}


def content_loc(path: str) -> list[str | int]:
    """A content path as an API ``loc``: ``parameters[0].type`` → ``["body", "parameters",
    0, "type"]``; ``__all__`` and ``(event)`` → ``["body"]``."""
    if path in ("__all__", "(event)"):
        return ["body"]
    parts: list[str | int] = ["body"]
    for name, index in _PATH_PART.findall(path):
        parts.append(int(index) if index else name)
    return parts


def _unprocessable(exc: ValidationError) -> Status:
    if hasattr(exc, "error_dict"):
        detail = [
            {"loc": content_loc(path), "msg": message, "type": "value_error"}
            for path, messages in exc.message_dict.items()
            for message in messages
        ]
    else:
        detail = [{"loc": ["body"], "msg": m, "type": "value_error"} for m in exc.messages]
    return Status(422, {"detail": detail})


def _event(brand: Brand, name: str) -> EventDefinition:
    if not EVENT_NAME.fullmatch(name):  # no such name can exist (and no NUL reaches SQL)
        raise Http404
    return selectors.event_by_name(brand, name)


def _out(event: EventDefinition) -> dict[str, Any]:
    return {**event.content, "version": event.version, "updated_at": event.updated_at}


def _answer(response: HttpResponse, event: EventDefinition, status: int = 200) -> Status:
    response["ETag"] = f'"{event.version}"'
    return Status(status, _out(event))


def _stale(event: EventDefinition, exc: StaleVersion) -> Status:
    revision = selectors.event_last_revision(event)
    who = (
        f" by {revision.actor_label} at {revision.created_at.isoformat()}"
        if revision is not None
        else ""
    )
    return Status(
        409,
        {
            "detail": f"Changed{who} meanwhile: If-Match is version {exc.expected_version}, the"
            f" current version is {exc.current_version}. Nothing was changed; GET it again"
            " and re-apply your change.",
            "field": "If-Match",
            "version": exc.current_version,
        },
    )


# --- reads ----------------------------------------------------------------------------------


@router.get("/brands/{slug}/events", response=responses({200: EventPage}))
def event_list(request: ApiRequest, slug: str, filters: Query[EventFilters]) -> dict[str, Any]:
    """The brand's tracking plan, by name, with the filters of the plan page."""
    brand, _ = brand_with_capability(request, slug, "taxonomy.view")
    queryset = selectors.event_list(
        brand=brand,
        status=filters.status,
        source=filters.source,
        platform=filters.platform,
        search=filters.q,
    ).values("content", "version", "updated_at")
    page = paginate(queryset, filters)
    page["items"] = [
        {**row["content"], "version": row["version"], "updated_at": row["updated_at"]}
        for row in page["items"]
    ]
    return page


@router.get(
    "/brands/{slug}/events/{name}", response=responses({200: EventOut}, errors=(401, 403, 404))
)
def event_detail(request: ApiRequest, slug: str, name: str, response: HttpResponse) -> Any:
    """One event definition (its name in any case), with its version as ETag."""
    brand, _ = brand_with_capability(request, slug, "taxonomy.view")
    return _answer(response, _event(brand, name))


@router.get(
    "/brands/{slug}/plan/export",
    response=responses({200: PlanDocumentOut}, errors=(401, 403, 404)),
)
def plan_export(request: ApiRequest, slug: str) -> HttpResponse:
    """The plan document, exactly as the page's "Export JSON" downloads it."""
    brand, _ = brand_with_capability(request, slug, "taxonomy.view")
    return HttpResponse(selectors.plan_document(brand), content_type="application/json")


# --- writes ---------------------------------------------------------------------------------


@router.post("/brands/{slug}/events", response=responses({201: EventOut}))
def event_create(request: ApiRequest, slug: str, payload: EventBody, response: HttpResponse) -> Any:
    """Add an event definition. Answers 201 with it and its ETag."""
    brand, _ = brand_with_capability(request, slug, "taxonomy.manage")
    try:
        event = services.event_create(user=request.auth, brand=brand, content=payload.dict())
    except ValidationError as exc:
        return _unprocessable(exc)
    return _answer(response, event, 201)


@router.put("/brands/{slug}/events/{name}", response=responses({200: EventOut} | _VERSIONED))
def event_update(
    request: ApiRequest,
    slug: str,
    name: str,
    payload: EventBody,
    response: HttpResponse,
    if_match: IfMatch = None,
) -> Any:
    """Replace the event's content (the body's name renames it). Needs If-Match."""
    brand, _ = brand_with_capability(request, slug, "taxonomy.manage")
    event = _event(brand, name)
    try:
        expected = _expected_version(if_match)
        saved = services.event_update(
            user=request.auth, event=event, content=payload.dict(), expected_version=expected
        )
    except _Refused as refused:
        return Status(refused.status, refused.body)
    except StaleVersion as exc:
        return _stale(event, exc)
    except ValidationError as exc:
        return _unprocessable(exc)
    return _answer(response, saved)


@router.post(
    "/brands/{slug}/events/{name}/status", response=responses({200: EventOut} | _VERSIONED)
)
def event_set_status(
    request: ApiRequest,
    slug: str,
    name: str,
    payload: StatusBody,
    response: HttpResponse,
    if_match: IfMatch = None,
) -> Any:
    """Activate, deprecate or return the event to draft. Needs If-Match; 409 if it already
    has that status."""
    brand, _ = brand_with_capability(request, slug, "taxonomy.manage")
    event = _event(brand, name)
    try:
        expected = _expected_version(if_match)
        saved = services.event_set_status(
            user=request.auth, event=event, status=payload.status, expected_version=expected
        )
    except _Refused as refused:
        return Status(refused.status, refused.body)
    except StaleVersion as exc:
        return _stale(event, exc)
    except services.AlreadyInState as exc:
        return Status(409, {"detail": str(exc), "field": "status", "version": event.version})
    except ValidationError as exc:
        return _unprocessable(exc)
    return _answer(response, saved)
