"""What the two pixel tables (a brand's, and every brand's at ``/quality/``) share: the
query-string parsing (whitelisted sort and status keys only: anything else is ignored,
never an error) and the printed pieces of each row, made once per row in Python so the
template's loop only prints strings."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.http import QueryDict
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from koastops.core.links import fast_reverse
from koastops.core.templatetags import ui
from koastops.quality.models import ConnectionStatus, Provider
from koastops.quality.selectors import SHOW_FILTERS, SORTS

SEARCH_MAX = 100
_SLUG = re.compile(r"[-a-zA-Z0-9_]{1,60}")

# connection status -> badge tone (the badge has an icon and text: never colour alone)
STATUS_TONES: dict[str, str] = {
    ConnectionStatus.UNKNOWN: "unknown",
    ConnectionStatus.OK: "ok",
    ConnectionStatus.RATE_LIMITED: "warning",
    ConnectionStatus.ERROR: "failing",
    ConnectionStatus.BROKEN: "failing",
}
STATUS_LABELS: dict[str, str] = dict(ConnectionStatus.choices)
FRESHNESS_LABELS = {
    "real_time": "Real time",
    "hourly": "Hourly",
    "daily": "Daily",
    "weekly": "Weekly",
}

# The columns a table can sort by, in order: (sort key, header, abbreviation title).
COLUMNS: tuple[tuple[str, str], ...] = (
    ("last_fired", "Last fired"),
    ("events", "Events per day"),
    ("server", "Server share"),
    ("dedup", "Dedup coverage"),
    ("emq", "EMQ of key events"),
    ("freshness", "Freshness"),
    ("status", "Connection"),
)


@dataclass(frozen=True)
class TableQuery:
    search: str
    show: str
    sort: str
    brand: str = ""


def parse(params: QueryDict, *, default_sort: str = "name") -> TableQuery:
    """The table's filters from the query string; an unknown value means its default."""
    search = params.get("q", "").replace("\x00", "").strip()[:SEARCH_MAX]
    show = params.get("show", "all")
    if show not in SHOW_FILTERS:
        show = "all"
    sort = params.get("sort", default_sort)
    if sort.removeprefix("-") not in SORTS:
        sort = default_sort
    brand = params.get("brand", "")
    if not _SLUG.fullmatch(brand):
        brand = ""
    return TableQuery(search=search, show=show, sort=sort, brand=brand)


def _link(params: QueryDict, path: str, **changes: str | None) -> str:
    params = params.copy()
    params.pop("page", None)
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value
    query = params.urlencode()
    return f"{path}?{query}" if query else path


def sort_headers(params: QueryDict, path: str, sort: str) -> list[dict[str, str]]:
    """Each sortable column's header: its link (ascending first, then descending), and
    ``aria-sort`` on the column in effect."""
    headers = []
    for key, label in COLUMNS:
        current = sort.removeprefix("-") == key
        descending = current and sort.startswith("-")
        headers.append(
            {
                "key": key,
                "label": label,
                "url": _link(params, path, sort=key if descending or not current else f"-{key}"),
                "aria_sort": ("descending" if descending else "ascending") if current else "",
            }
        )
    return headers


def show_chips(
    params: QueryDict, path: str, show: str, counts: dict[str, int] | None = None
) -> list[dict[str, Any]]:
    return [
        {
            "key": key,
            "label": label,
            "active": key == show,
            "count": None if counts is None else counts.get(key, 0),
            "url": _link(params, path, show=None if key == "all" else key),
        }
        for key, label in SHOW_FILTERS.items()
    ]


def _percent(value: Decimal | None) -> str:
    return "—" if value is None else f"{value:.1f} %".replace(".0 %", " %")


def _emq(key_emq: dict[str, Any] | None) -> SafeString:
    if not key_emq:
        return mark_safe('<span class="muted">—</span>')
    parts = []
    for event in sorted(key_emq):
        value = key_emq[event]
        shown = "—" if value is None else f"{Decimal(str(value)):.1f}"
        parts.append(f"{escape(event)} {escape(shown)}")
    return mark_safe(", ".join(parts))  # noqa: S308 - escaped above


def decorate(row: dict[str, Any], *, slug: str, cross_brand: bool = False) -> None:
    """Add a row's printed pieces (url, badge, figures, the demo label) and the row's
    markup, ``html``: built here in one f-string, as the template's loop over 25 rows of
    eleven cells cost more than the rest of the page (every value is escaped)."""
    status = row["connection__status"] or ConnectionStatus.UNKNOWN
    row["url"] = fast_reverse("quality:pixel", (slug, row["pk"]))
    row["badge"] = ui.status_badge(
        tone=STATUS_TONES.get(status, "unknown"), label=STATUS_LABELS.get(status, status)
    )
    row["is_demo"] = row["connection__provider"] == Provider.DEMO
    row["pulled"] = row["connection__counts_pulled_at"] is not None
    per_day = row["connection__events_per_day"]
    row["events_per_day"] = "—" if per_day is None else f"{per_day:,}"
    row["server_share"] = _percent(row["connection__server_share"])
    row["dedup_coverage"] = _percent(row["connection__dedup_coverage"])
    row["key_emq"] = _emq(row["connection__key_emq"])
    freshness = row["connection__freshness"] or ""
    row["freshness"] = FRESHNESS_LABELS.get(freshness, freshness.replace("_", " ")) or "—"
    problems = row["connection__problems"] or []
    row["problems"] = _problems(problems)
    row["last_fired"] = (
        _time(row["connection__last_fired_at"], "%d %b %Y, %H:%M")
        if row["connection__last_fired_at"]
        else _NOT_IN_HOURS
        if row["pulled"]
        else _DASH
    )
    row["pulled_at"] = (
        _time(row["connection__counts_pulled_at"], "%d %b, %H:%M") if row["pulled"] else _NOT_PULLED
    )
    demo = ' <span class="badge badge-info">demo data</span>' if row["is_demo"] else ""
    brand_cell = f"<td>{escape(row['brand__name'])}</td>" if cross_brand else ""
    row["html"] = mark_safe(  # noqa: S308 - user text escaped, the rest is ours
        f'<tr><th scope="row"><a href="{escape(row["url"])}">{escape(row["name"])}</a> '
        f'<code class="muted">{escape(row["external_id"])}</code>{demo}</th>{brand_cell}'
        f'<td class="nowrap">{row["last_fired"]}</td>'
        f'<td class="num">{row["events_per_day"]}</td>'
        f'<td class="num">{row["server_share"]}</td>'
        f'<td class="num">{row["dedup_coverage"]}</td>'
        f"<td>{row['key_emq']}</td><td>{escape(row['freshness'])}</td>"
        f'<td class="col-status">{row["badge"]}</td><td>{row["problems"]}</td>'
        f'<td class="nowrap">{row["pulled_at"]}</td></tr>'
    )


_DASH = mark_safe('<span class="muted">—</span>')
_NOT_IN_HOURS = mark_safe('<span class="muted">Not in the pulled hours</span>')
_NOT_PULLED = mark_safe('<span class="muted">Not pulled yet</span>')
_NO_PROBLEMS = mark_safe('<span class="muted">None</span>')


def _time(moment: Any, shown: str) -> SafeString:
    """``<time>`` in UTC, formatted in Python (the template's ``date`` filter costs more
    per row than the rest of the row)."""
    utc = moment.astimezone(dt.UTC)
    return mark_safe(  # noqa: S308 - digits and month names only
        f'<time datetime="{utc.isoformat()}">{utc.strftime(shown).lstrip("0")}</time>'
    )


def _problems(problems: list[dict[str, Any]]) -> SafeString:
    messages = [str(problem.get("message", "")) for problem in problems if problem]
    if not messages:
        return _NO_PROBLEMS
    alert = ui.icon("triangle-alert")
    items = "".join(f"<li>{alert} {escape(message)}</li>" for message in messages)
    return mark_safe(f'<ul class="quality-problems">{items}</ul>')  # noqa: S308 - escaped
