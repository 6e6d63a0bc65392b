"""API: alerts (under /api/v1/brands/{slug}/…), read only; every role of a brand
(``quality.view``) reads them, as on the alerts page, scoped the same way: a media buyer
narrowed to some ad accounts sees only the alerts on their pixels or on no pixel.

- ``GET alerts?status=open|resolved|all&kind=…``: open alerts first (newest first), then
  resolved ones, paginated like every list. Constant queries whatever the number of rows.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from ninja import Field, Query, Router, Schema

from koastops.accounts.http import ApiRequest
from koastops.api.common import brand_with_capability, responses
from koastops.api.pagination import PageParams, paginate
from koastops.quality import alert_selectors
from koastops.quality.models import AlertKind

router = Router(tags=["alerts"])

KindKey = Literal[tuple(AlertKind.values)]  # type: ignore[valid-type]


class AlertFilters(PageParams):
    status: Literal["open", "resolved", "all"] = Field("all", description="Default: all.")
    kind: KindKey | None = Field(None, description="One kind of rule.")  # type: ignore[valid-type]


class AlertPixelOut(Schema):
    id: int
    name: str
    external_id: str


class AlertOut(Schema):
    id: int
    kind: KindKey  # type: ignore[valid-type]
    kind_label: str
    status: Literal["open", "resolved"]
    rule_id: int | None = Field(description="Null once the rule was deleted.")
    subject_key: str = Field(description='What it is about: "pixel:12", "pixel:12:Purchase".')
    pixel: AlertPixelOut | None
    event: str
    message: str
    value: Decimal | None = Field(description="The measured figure (hours, %, EMQ).")
    threshold: Decimal | None
    opened_at: dt.datetime
    last_seen_at: dt.datetime
    resolved_at: dt.datetime | None
    notified_at: dt.datetime | None
    webhook_status: str


class AlertPage(Schema):
    count: int
    page: int
    page_size: int
    items: list[AlertOut]


_KIND_LABELS = dict(AlertKind.choices)


@router.get(
    "/brands/{slug}/alerts",
    response=responses({200: AlertPage}),
    url_name="alert_list",
)
def alert_list(request: ApiRequest, slug: str, filters: Query[AlertFilters]) -> Any:
    """The brand's alerts the token's user may see: open first, then the history."""
    brand, role = brand_with_capability(request, slug, "quality.view")
    alerts = alert_selectors.alert_list(
        user=request.auth, brand=brand, role=role, status=filters.status, kind=filters.kind or ""
    ).values(
        "id",
        "kind",
        "status",
        "rule_id",
        "subject_key",
        "pixel_id",
        "pixel__name",
        "pixel__external_id",
        "event",
        "message",
        "value",
        "threshold",
        "opened_at",
        "last_seen_at",
        "resolved_at",
        "notified_at",
        "webhook_status",
    )
    page = paginate(alerts, filters)
    page["items"] = [
        {
            "id": row["id"],
            "kind": row["kind"],
            "kind_label": _KIND_LABELS.get(row["kind"], row["kind"]),
            "status": row["status"],
            "rule_id": row["rule_id"],
            "subject_key": row["subject_key"],
            "pixel": None
            if row["pixel_id"] is None
            else {
                "id": row["pixel_id"],
                "name": row["pixel__name"],
                "external_id": row["pixel__external_id"],
            },
            "event": row["event"],
            "message": row["message"],
            "value": row["value"],
            "threshold": row["threshold"],
            "opened_at": row["opened_at"],
            "last_seen_at": row["last_seen_at"],
            "resolved_at": row["resolved_at"],
            "notified_at": row["notified_at"],
            "webhook_status": row["webhook_status"],
        }
        for row in page["items"]
    ]
    return page
