"""A brand's event-quality pages: the pixel table and each pixel's detail (charts of
counts, EMQ and dedup coverage over time, match-key feedback and Meta's diagnostics).

The table is one query for its rows (the connection summaries the pulls keep) plus one
for the status chips' counts, whatever the number of pixels or stat rows. The detail
reads a fixed handful (the pixel with its connection, the latest run, the count series,
the quality history, the latest quality per event, the thresholds)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, overload

from django.http import Http404, HttpResponse
from django.urls import path
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET

from koastops.accounts import policies
from koastops.accounts.http import AuthenticatedRequest
from koastops.accounts.models import Role
from koastops.catalog.models import Brand
from koastops.core.htmx import render_page
from koastops.core.links import fast_reverse
from koastops.core.pagination import paginate
from koastops.quality import charts, selectors, tables
from koastops.quality.models import ConnectionStatus, Provider

RANGES: dict[str, tuple[int, str]] = {
    "7d": (7, "Last 7 days, hourly"),
    "30d": (30, "Last 30 days, daily"),
    "90d": (90, "Last 90 days, daily"),
}


@require_GET
@policies.brand_capability("quality.view")
def pixel_table(request: AuthenticatedRequest, *, brand: Brand, role: Role | None) -> HttpResponse:
    query = tables.parse(request.GET)
    rows = selectors.pixel_table_rows(
        user=request.user,
        brand=brand,
        role=role,
        search=query.search,
        show=query.show,
        sort=query.sort,
    )
    counts = selectors.pixel_show_counts(
        user=request.user, brand=brand, role=role, search=query.search
    )
    page = paginate(request, rows, total=counts[query.show])
    for row in page.object_list:
        tables.decorate(row, slug=brand.slug)
    list_url = fast_reverse("quality:pixels", (brand.slug,))
    context = {
        "brand": brand,
        "tab": "quality",
        "page": page,
        "query": query,
        "q": query.search,
        "counts": counts,
        "chips": tables.show_chips(request.GET, list_url, query.show, counts),
        "headers": tables.sort_headers(request.GET, list_url, query.sort),
        "name_sort_url": tables._link(
            request.GET, list_url, sort="-name" if query.sort == "name" else "name"
        ),
        "list_url": list_url,
        "thresholds": selectors.settings_for(brand),
        "can_manage_catalog": policies.can(request.user, "catalog.manage", brand, role=role),
        "can_manage": policies.can(request.user, "quality.manage", brand, role=role),
        "cross_brand": False,
    }
    return render_page(request, "quality/pixels.html", context, partial="quality-table")


def _range(request: AuthenticatedRequest) -> str:
    value = request.GET.get("range", "7d")
    return value if value in RANGES else "7d"


def _label(moment: dt.datetime, daily: bool) -> str:
    return moment.strftime("%d %b") if daily else moment.strftime("%d %b %H:00")


class _Labels(Sequence[str]):
    """The x-axis labels, made only for the few ticks the chart prints."""

    def __init__(self, points: list[selectors.CountPoint], daily: bool) -> None:
        self.points, self.daily = points, daily

    def __len__(self) -> int:
        return len(self.points)

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> list[str]: ...
    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [_label(point.bucket, self.daily) for point in self.points[index]]
        return _label(self.points[index].bucket, self.daily)


def _count_rows(points: list[selectors.CountPoint], daily: bool) -> SafeString:
    """The counts' table rows, built here: 168 hours through the template's ``date``
    filter cost more than the rest of the page."""
    shown = "%d %b %Y" if daily else "%d %b %Y, %H:00"
    return mark_safe(  # noqa: S308 - dates and integers only
        "".join(
            f'<tr><th scope="row">{p.bucket.strftime(shown)}</th><td class="num">{p.browser}'
            f'</td><td class="num">{p.server}</td><td class="num">{p.total}</td></tr>'
            for p in points
        )
    )


def _quality_context(pixel: Any, connection: Any, days: int, now: dt.datetime) -> dict[str, Any]:
    latest = selectors.latest_quality(pixel)
    history = selectors.quality_history(pixel=pixel, since=now - dt.timedelta(days=days))
    # The key events (those the summary rates) first, then the others, four at most: a
    # chart with more lines than dash patterns would need colour to tell them apart.
    key_events = set(connection.key_emq or {}) if connection is not None else set()
    ranked = sorted(history, key=lambda event: (event not in key_events, event))
    events = ranked[: len(charts.STYLES)]
    # One x axis for all key events: every pull time any of them has.
    times = sorted({point.pulled_at for event in events for point in history[event]})
    labels = [moment.astimezone(dt.UTC).strftime("%d %b %H:%M") for moment in times]
    emq_series, dedup_series = [], []
    for event in events:
        by_time = {point.pulled_at: point for point in history[event]}
        emq_series.append(
            charts.Series(event, [getattr(by_time.get(t), "emq", None) for t in times])
        )
        dedup_series.append(
            charts.Series(event, [getattr(by_time.get(t), "dedup_coverage", None) for t in times])
        )
    table = [
        {
            "at": moment,
            "cells": [
                (
                    getattr(by.get(moment), "emq", None),
                    getattr(by.get(moment), "dedup_coverage", None),
                )
                for by in ({p.pulled_at: p for p in history[event]} for event in events)
            ],
        }
        for moment in times
    ]
    return {
        "latest": latest,
        "quality_events": events,
        "quality_table": table,
        "emq_chart": charts.line_chart(
            title="Event Match Quality per key event",
            description=f"EMQ (0 to 10) of each event at each quality pull, last {days} days.",
            labels=labels,
            series=emq_series,
            y_max=10,
        )
        if times
        else None,
        "emq_legend": charts.legend(emq_series, points=len(times)),
        "dedup_chart": charts.line_chart(
            title="Dedup coverage per key event",
            description=(
                f"Share of browser events matched by a server event's dedupe key, "
                f"at each quality pull, last {days} days."
            ),
            labels=labels,
            series=dedup_series,
            y_max=100,
            unit=" %",
        )
        if times
        else None,
        "dedup_legend": charts.legend(dedup_series, points=len(times)),
    }


@require_GET
@policies.brand_capability("quality.view")
def pixel_quality(
    request: AuthenticatedRequest, pk: int, *, brand: Brand, role: Role | None
) -> HttpResponse:
    pixel = selectors.pixel_for_view(user=request.user, brand=brand, role=role, pixel_id=pk)
    if pixel is None:
        raise Http404("No such pixel.")
    connection = selectors.connection_of(pixel)
    chosen = _range(request)
    days, range_label = RANGES[chosen]
    daily = days > 7
    now = timezone.now()
    if daily:  # through the end of today (UTC)
        end = now.replace(hour=0, minute=0, second=0, microsecond=0) + dt.timedelta(days=1)
    else:  # through the end of the current hour
        end = now.replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1)
    start = end - dt.timedelta(days=days)
    points = selectors.counts_series(pixel=pixel, start=start, end=end, daily=daily)
    count_series = [
        charts.Series("Browser", [p.browser for p in points]),
        charts.Series("Server", [p.server for p in points]),
        charts.Series("Total (deduplicated)", [p.total for p in points]),
    ]
    has_counts = any(p.total or p.browser or p.server for p in points)
    status = connection.status if connection else ConnectionStatus.UNKNOWN
    context = {
        "brand": brand,
        "tab": "quality",
        "pixel": pixel,
        "connection": connection,
        "status": status,
        "badge": tables.STATUS_TONES.get(status, "unknown"),
        "status_label": tables.STATUS_LABELS.get(status, status),
        "is_broken": status == ConnectionStatus.BROKEN,
        "is_demo": connection is not None and connection.provider == Provider.DEMO,
        "active_run": selectors.latest_run(pixel),
        "range": chosen,
        "range_label": range_label,
        "ranges": [
            {
                "key": key,
                "label": label,
                "active": key == chosen,
                "url": f"{request.path}?range={key}",
            }
            for key, (_, label) in RANGES.items()
        ],
        "start": start,
        "end": end,
        "daily": daily,
        "count_rows": _count_rows(points, daily),
        "has_counts": has_counts,
        "counts_chart": charts.line_chart(
            title="Browser and server events",
            description=(
                f"Events received per {'UTC day' if daily else 'UTC hour'}, all events of "
                f"the pixel, {range_label.lower()}."
            ),
            labels=_Labels(points, daily),
            series=count_series,
        )
        if has_counts
        else None,
        "counts_legend": charts.legend(count_series, points=len(points)),
        "thresholds": selectors.settings_for(brand),
        "can_manage_catalog": policies.can(request.user, "catalog.manage", brand, role=role),
        "can_manage": policies.can(request.user, "quality.manage", brand, role=role),
        "pixel_edit_url": fast_reverse("catalog:pixel_token", (brand.slug, pixel.pk)),
        "catalog_pixel_url": fast_reverse("catalog:pixel_detail", (brand.slug, pixel.pk)),
        "problems": [p.get("message", "") for p in (connection.problems if connection else [])],
    }
    context |= _quality_context(pixel, connection, days, now)
    return render_page(request, "quality/pixel_detail.html", context)


urlpatterns: list = [
    path("", pixel_table, name="pixels"),
    path("pixels/<int:pk>/", pixel_quality, name="pixel"),
]
