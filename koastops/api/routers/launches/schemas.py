"""The launches API's request and response shapes (``koastops.api.routers.launches``)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from ninja import Field, Schema

from koastops.api.pagination import PageParams
from koastops.launches import inputs
from koastops.launches.models import LaunchState

StateKey = Literal[tuple(LaunchState.values)]  # type: ignore[valid-type]


class LaunchFilters(PageParams):
    state: StateKey | None = Field(None, description="Only launches in this state.")  # type: ignore[valid-type]
    ad_account: int | None = Field(None, ge=1, le=2**63 - 1, description="An ad account id.")
    q: str | None = Field(None, max_length=200, description="Part of the campaign name.")


class NamedOut(Schema):
    id: int
    name: str
    external_id: str


class LaunchSummaryOut(Schema):
    id: int
    campaign_name: str
    state: StateKey  # type: ignore[valid-type]
    state_label: str
    state_changed_at: dt.datetime
    version: int
    ad_account: NamedOut
    objective: str
    budget_type: str
    budget_amount: str
    currency: str
    start_at: dt.datetime
    end_at: dt.datetime | None
    created_by: str | None = Field(description="The drafter's email.")
    updated_at: dt.datetime


class LaunchPage(Schema):
    count: int
    page: int
    page_size: int
    items: list[LaunchSummaryOut]


class AdIn(Schema):
    name: Any = Field(None, description="The ad's name (naming rule: ad).")
    landing_url: Any = Field(None, description="http(s) URL.")
    utm_source: Any = None
    utm_medium: Any = None
    utm_campaign: Any = None
    utm_content: Any = None
    utm_term: Any = None


class AdSetIn(Schema):
    name: Any = Field(None, description="The ad set's name (naming rule: ad set).")
    market: Any = Field(None, description="One of the launch's market codes.")
    audience_note: Any = None
    ads: list[AdIn] | None = Field(None, description=f"1 to {inputs.MAX_ADS_PER_SET} ads.")


class LaunchIn(Schema):
    """A launch's content. Every field is checked by the service (``inputs.parse``): a
    missing or bad one is a 422 naming its path."""

    ad_account: Any = Field(None, description="An ad account id (one you may use).")
    pixel: Any = Field(None, description="A pixel id of the brand, on the account's platform.")
    objective: Any = Field(None, description="OUTCOME_SALES, OUTCOME_LEADS, …")
    optimization_event: Any = Field(None, description="An active event definition's id.")
    markets: Any = Field(None, description='Market codes of the brand, e.g. ["DE", "FR"].')
    budget_type: Any = Field(None, description="daily or lifetime.")
    budget_amount: Any = Field(None, description='In the account\'s currency, e.g. "250.00".')
    start_at: Any = Field(None, description="ISO 8601; without an offset: the account's zone.")
    end_at: Any = Field(None, description="ISO 8601 (required for a lifetime budget).")
    campaign_name: Any = None
    ad_sets: list[AdSetIn] | None = Field(
        None, description=f"1 to {inputs.MAX_AD_SETS} ad sets (a PATCH replaces them all)."
    )


class AdOut(Schema):
    name: str
    landing_url: str
    utm_source: str
    utm_medium: str
    utm_campaign: str
    utm_content: str
    utm_term: str


class AdSetOut(Schema):
    name: str
    market: str
    audience_note: str
    ads: list[AdOut]


class RunSummaryOut(Schema):
    id: int
    state: str = Field(description="queued, running, done, error or cancelled.")
    trigger: str
    content_hash: str
    current: bool = Field(description="Made on the launch's current content.")
    total: int
    completed: int
    blocking_failed: int
    warned: int
    message: str
    created_at: dt.datetime
    finished_at: dt.datetime | None


class ApprovalOut(Schema):
    approved_by: str | None
    approved_at: dt.datetime | None
    content_hash: str


class LaunchOut(Schema):
    id: int
    brand: str
    state: StateKey  # type: ignore[valid-type]
    state_label: str
    state_changed_at: dt.datetime
    version: int = Field(description="Send it back as If-Match with a write.")
    content_hash: str
    ad_account: int
    ad_account_name: str
    currency: str
    time_zone: str
    pixel: int
    pixel_name: str
    objective: str
    optimization_event: int
    optimization_event_name: str
    markets: list[str]
    budget_type: str
    budget_amount: str
    start_at: str = Field(description="ISO 8601 in the ad account's time zone.")
    end_at: str | None
    campaign_name: str
    ad_sets: list[AdSetOut]
    created_by: str | None
    submitted_by: str | None
    submitted_at: dt.datetime | None
    approval: ApprovalOut | None = Field(description="Set while the approval is current.")
    platform_campaign_id: str
    launched_at: dt.datetime | None
    latest_run: RunSummaryOut | None


class ApproveIn(Schema):
    comment: str = ""
    overrides: dict[str, str] = Field(
        default_factory=dict,
        description="check key → the written reason to approve despite its failure.",
    )


class CommentIn(Schema):
    comment: str = Field("", description="Required: the media buyer reads it.")


class CancelIn(Schema):
    reason: str = ""


class LaunchedIn(Schema):
    platform_campaign_id: str = Field("", description="The campaign id Ads Manager gave it.")


class CheckResultOut(Schema):
    key: str
    title: str
    severity: str = Field(description="blocking or advisory.")
    status: str = Field(description="pending, running, pass, warn, fail or error.")
    message: str
    details: dict[str, Any]
    overridden: bool = Field(description="An ops lead overrode it on this content.")


class ChecksOut(Schema):
    run: RunSummaryOut | None = Field(description="null: the checks never ran.")
    results: list[CheckResultOut]


class ChecksParams(Schema):
    run: int | None = Field(None, ge=1, le=2**63 - 1, description="An older run's id.")
