"""Reconciliation page (``quality:reconciliation``) and its CSV export
(``quality:reconciliation_export``): platform vs CRM per event and day in the chosen ad
account's time zone (``koastops.quality.reconciliation``). Every role of the brand reads
it (``quality.view``); the ad accounts and pixels are the reader's (a narrowed media buyer
sees only theirs). Constant queries whatever the number of pixels."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Max, Q
from django.http import HttpResponse, StreamingHttpResponse
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET

from koastops.accounts import policies
from koastops.accounts.http import AuthenticatedRequest
from koastops.accounts.models import Role
from koastops.catalog.models import AdAccount, Brand
from koastops.core import csvexport
from koastops.core.htmx import render_page
from koastops.quality import charts, selectors
from koastops.quality.conversion_forms import ReconciliationFilterForm
from koastops.quality.models import PixelConnection, Provider
from koastops.quality.reconciliation import (
    ReconRow,
    counts_by_day,
    reconcile,
    summary,
    time_zone_of,
)


def _accounts(request: AuthenticatedRequest, brand: Brand, role: Role | None) -> list[AdAccount]:
    accounts = policies.ad_accounts_for(request.user, brand, role=role).order_by("name", "pk")
    rows = list(accounts)
    # the brand's first active account comes first (the default)
    rows.sort(key=lambda a: (a.status != "active",))
    return rows


def _mapped_events(brand: Brand) -> list[str]:
    from koastops.taxonomy.models import EventMapping, EventStatus

    return list(
        EventMapping.objects.filter(
            brand=brand,
            platform="meta",
            event__status__in=[EventStatus.ACTIVE, EventStatus.DEPRECATED],
        )
        .order_by("event__name")
        .values_list("event__name", flat=True)
    )


def _state(request: AuthenticatedRequest, brand: Brand, role: Role | None) -> dict[str, Any]:
    accounts = _accounts(request, brand, role)
    events = _mapped_events(brand)
    by_pk = {a.pk: a for a in accounts}
    raw = request.GET.get("account", "")
    account = by_pk.get(int(raw)) if raw.isdigit() and len(raw) < 19 else None
    account = account or (accounts[0] if accounts else None)
    zone = time_zone_of(account)
    form = ReconciliationFilterForm(
        request.GET,
        accounts=[(a.pk, f"{a.name} ({a.external_id}, {a.time_zone})") for a in accounts],
        events=events,
        today=timezone.now().astimezone(zone).date(),
    )
    state: dict[str, Any] = {
        "brand": brand,
        "tab": "quality",
        "form": form,
        "accounts": accounts,
        "events": events,
        "rows": [],
        "account": None,
    }
    if account is None or not form.is_valid():
        return state
    data = form.cleaned_data
    pixels = policies.pixels_for(request.user, brand, role=role)
    rows = reconcile(brand, ad_account=account, start=data["start"], end=data["end"], pixels=pixels)
    if data.get("event"):
        rows = [r for r in rows if r.event == data["event"]]
    pulled = PixelConnection.objects.filter(
        pixel__in=pixels.filter(ad_accounts=account).values("pk")
    ).aggregate(
        pulled_at=Max("counts_pulled_at"),
        demo=Count("pk", filter=Q(provider=Provider.DEMO)),
    )
    state.update(
        {
            "account": account,
            "zone": zone.key,
            "start": data["start"],
            "end": data["end"],
            "event": data.get("event") or "",
            "rows": rows,
            "summary": summary(rows),
            "pulled_at": pulled["pulled_at"],
            "demo": bool(pulled["demo"]),
            "band": selectors.settings_for(brand).tolerance_pct,
        }
    )
    return state


def _chart(rows: list[ReconRow]) -> dict[str, Any] | None:
    """The platform and CRM counts per day as one SVG line chart (``charts``: each series
    its own dash pattern and marker, so it reads without colour), its legend, and the
    numbers for the table beside it."""
    points = counts_by_day(rows)
    if not points:
        return None
    series = [
        charts.Series("Platform", [platform for _day, platform, _crm in points]),
        charts.Series("CRM", [crm for _day, _platform, crm in points]),
    ]
    first, last = points[0][0], points[-1][0]
    return {
        "svg": charts.line_chart(
            title="Platform and CRM conversions per day",
            description=(
                f"{first.day} {first:%b} to {last.day} {last:%b %Y}, every event shown; the "
                "table below "
                "has the numbers."
            ),
            labels=[f"{day.day} {day:%b}" for day, _p, _c in points],
            series=series,
        ),
        "legend": charts.legend(series, points=len(points)),
        "table": points,
    }


@require_GET
@policies.brand_capability("quality.view")
def reconciliation(
    request: AuthenticatedRequest, *, brand: Brand, role: Role | None
) -> HttpResponse:
    state = _state(request, brand, role)
    state["chart"] = _chart(state["rows"])
    query = request.GET.copy()
    state["export_query"] = query.urlencode()
    return render_page(request, "quality/reconciliation.html", state, partial="recon-results")


EXPORT_COLUMNS = [
    "event",
    "day",
    "time_zone",
    "ad_account",
    "platform",
    "crm",
    "diff",
    "pct",
    "flagged",
    "causes",
]


@require_GET
@policies.brand_capability("quality.view")
def reconciliation_export(
    request: AuthenticatedRequest, *, brand: Brand, role: Role | None
) -> HttpResponse:
    state = _state(request, brand, role)
    account = state["account"]
    zone = state.get("zone", "UTC")
    label = account.external_id if account else ""

    neutral = csvexport.neutralise_cell

    def cells(row: ReconRow) -> list[str]:
        # text cells neutralised; the numbers stay numbers (a negative difference is no
        # formula, and a quote in front would make it text in a spreadsheet)
        return [
            neutral(row.event),
            row.day.isoformat(),
            neutral(zone),
            neutral(label),
            str(row.platform),
            str(row.crm),
            str(row.diff),
            "" if row.pct is None else str(row.pct),
            "yes" if row.flagged else "no",
            neutral(" | ".join(row.causes)),
        ]

    response = StreamingHttpResponse(
        csvexport.csv_lines(
            EXPORT_COLUMNS, (cells(row) for row in state["rows"]), neutralise=False
        ),
        content_type="text/csv; charset=utf-8",
    )
    stamp = dt.date.today().isoformat()  # noqa: DTZ011 — a file name only
    response["Content-Disposition"] = (
        f'attachment; filename="reconciliation-{brand.slug}-{stamp}.csv"'
    )
    response["Cache-Control"] = "no-store"
    return response  # type: ignore[return-value]


urlpatterns = [
    path("reconciliation/", reconciliation, name="reconciliation"),
    path("reconciliation/export.csv", reconciliation_export, name="reconciliation_export"),
]
