"""Reads for the event-quality pages and API.

The tables read one row per pixel: the pixel joined with its ``PixelConnection`` summary
(recomputed after every pull by the pulls), so a table of 2,000 pixels costs the same
single query whatever the number of stat rows behind it. Scoping is the policy's
(``policies.pixels_for`` on a brand, ``brands_for`` + ``pixel_visible_q`` across brands):
a narrowed media buyer never gets a row (or a count) of a pixel outside it.

Every figure is UTC: hourly buckets start on the hour, days are UTC days.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery, Sum

from koastops.accounts import policies
from koastops.accounts.models import Role
from koastops.catalog.models import Brand, CatalogStatus, Pixel
from koastops.core import sqlcache
from koastops.quality.models import (
    ConnectionStatus,
    DailyStat,
    EventQuality,
    HourlyStat,
    PixelConnection,
    PullRun,
    QualitySettings,
    Source,
)

# --- the pixel tables ----------------------------------------------------------------------

# What a row reads: the pixel and its connection's summary (NULL when never pulled).
ROW_FIELDS: tuple[str, ...] = (
    "pk",
    "name",
    "external_id",
    "brand_id",
    "connection__provider",
    "connection__status",
    "connection__message",
    "connection__last_fired_at",
    "connection__events_per_day",
    "connection__server_share",
    "connection__dedup_coverage",
    "connection__key_emq",
    "connection__min_key_emq",
    "connection__freshness",
    "connection__problems",
    "connection__counts_pulled_at",
    "connection__quality_pulled_at",
)

# ?sort= key -> the column it orders by (anything else: the default, by name).
SORTS: dict[str, str] = {
    "name": "name",
    "last_fired": "connection__last_fired_at",
    "events": "connection__events_per_day",
    "server": "connection__server_share",
    "dedup": "connection__dedup_coverage",
    "emq": "connection__min_key_emq",
    "freshness": "connection__freshness",
    "status": "connection__status",
    "brand": "brand__name",
}

# ?show= key -> label (the status chips of the tables).
SHOW_FILTERS: dict[str, str] = {
    "all": "All",
    "problems": "With problems",
    "broken": "Connection broken",
    "not_pulled": "Not pulled yet",
    "ok": "Healthy",
}

_HAS_PROBLEMS = Q(connection__isnull=False) & ~Q(connection__problems=[])
_NOT_PULLED = Q(connection__isnull=True) | Q(connection__status=ConnectionStatus.UNKNOWN)
_BROKEN = Q(connection__status=ConnectionStatus.BROKEN)
_SHOW_Q: dict[str, Q] = {
    "problems": _HAS_PROBLEMS | _BROKEN,
    "broken": _BROKEN,
    "not_pulled": _NOT_PULLED,
    "ok": Q(connection__status=ConnectionStatus.OK, connection__problems=[]),
}


def order_for(sort: str) -> list[Any]:
    """The ORDER BY of a ``?sort=`` value (``-`` prefix: descending; unknown: by name).
    Empty figures (never pulled) sort last either way; the pixel id breaks ties."""
    descending = sort.startswith("-")
    column = SORTS.get(sort.removeprefix("-"), "name")
    expression = F(column)
    ordered = expression.desc(nulls_last=True) if descending else expression.asc(nulls_last=True)
    return [ordered, "pk"]


def _filtered(queryset: QuerySet[Pixel], *, search: str, show: str) -> QuerySet[Pixel]:
    queryset = queryset.filter(status=CatalogStatus.ACTIVE)
    if search:
        queryset = queryset.filter(Q(name__icontains=search) | Q(external_id__icontains=search))
    if condition := _SHOW_Q.get(show):
        queryset = queryset.filter(condition)
    return queryset


# Pages of the brand table read through sqlcache (one compiled statement per page): the first few.
_CACHED_PAGES = 20


class TableRows:
    """The rows of a pixel table, sliceable for ``Paginator`` (whose ``count`` the caller
    sets from a count it read anyway): a slice is ONE query that orders and cuts only the
    narrow rows (pixel id and the sort key) in a subquery, then reads the wide ones (the
    summary's JSON, the message) for the page's 25 — instead of sorting 2,000 wide rows.

    ``cached``: for a brand table whose rows do not depend on who asks (every role but a
    media buyer, who may be narrowed), ``(key, brand id, search, show)``: the statement of
    the first pages is compiled once per process (``koastops.core.sqlcache``)."""

    def __init__(
        self,
        filtered: QuerySet[Pixel],
        order: list[Any],
        fields: Sequence[str],
        cached: tuple[str, int, str, str] | None = None,
    ):
        self.filtered, self.order, self.fields = filtered, order, tuple(fields)
        self.cached = cached

    def _page(self, filtered: QuerySet[Pixel], window: slice) -> QuerySet[Any]:
        ids = filtered.order_by(*self.order).values("pk")[window]
        page: QuerySet[Any] = (
            Pixel.objects.filter(pk__in=ids).order_by(*self.order).values(*self.fields)
        )
        return page

    def __getitem__(self, window: slice) -> list[dict[str, Any]]:
        start, stop = window.start or 0, window.stop
        if stop is not None and stop <= start:
            return []  # an empty page (no rows): nothing to ask
        if self.cached is not None and stop is not None and stop <= _CACHED_PAGES * 100:
            key, brand_id, search, show = self.cached

            def build(brand_marker: int, *search_marker: str) -> QuerySet[Any]:
                mine = Pixel.objects.filter(brand_id=brand_marker)
                term = search_marker[0] if search_marker else ""
                return self._page(_filtered(mine, search=term, show=show), window)

            values: tuple[int | str, ...] = (brand_id, search) if search else (brand_id,)
            return sqlcache.dict_rows(f"{key}:{start}:{stop}:{bool(search)}", build, *values)
        return list(self._page(self.filtered, window))

    def count(self) -> int:  # Paginator asks only when its count was not set
        return self.filtered.order_by().count()

    def __len__(self) -> int:
        return self.count()


def _same_for_every_viewer(user: Any, role: Role | None) -> bool:
    """Only a media buyer can be narrowed: for anyone else the brand's rows are the
    same, so their statement can be compiled once."""
    if policies.is_admin(user):
        return True
    return role is not None and role != Role.MEDIA_BUYER and policies.is_active_user(user)


def pixel_table_rows(
    *,
    user: Any,
    brand: Brand,
    role: Role | None,
    search: str = "",
    show: str = "all",
    sort: str = "name",
) -> TableRows:
    """The brand's pixel table: rows (``ROW_FIELDS``) of the active pixels the user may
    see, one query per page (see ``TableRows``)."""
    pixels = policies.pixels_for(user, brand, role=role)
    cached = (
        (f"quality.rows:{sort}:{show}", brand.pk, search, show)
        if _same_for_every_viewer(user, role)
        else None
    )
    return TableRows(
        _filtered(pixels, search=search, show=show), order_for(sort), ROW_FIELDS, cached
    )


def _counts_of(pixels: QuerySet[Pixel], search: str) -> QuerySet[Any]:
    return (
        _filtered(pixels, search=search, show="all")
        .order_by()
        .values("brand_id")
        .annotate(
            all=Count("pk"),
            problems=Count("pk", filter=_SHOW_Q["problems"]),
            broken=Count("pk", filter=_SHOW_Q["broken"]),
            not_pulled=Count("pk", filter=_SHOW_Q["not_pulled"]),
            ok=Count("pk", filter=_SHOW_Q["ok"]),
        )
        .values_list("all", "problems", "broken", "not_pulled", "ok")
    )


_COUNT_NAMES = ("all", "problems", "broken", "not_pulled", "ok")


def pixel_show_counts(
    *, user: Any, brand: Brand, role: Role | None, search: str = ""
) -> dict[str, int]:
    """How many of the brand's visible active pixels each status chip shows (one query,
    compiled once per process for everyone but a media buyer)."""
    if _same_for_every_viewer(user, role):

        def build(brand_marker: int, *search_marker: str) -> QuerySet[Any]:
            term = search_marker[0] if search_marker else ""
            return _counts_of(Pixel.objects.filter(brand_id=brand_marker), term)

        values: tuple[int | str, ...] = (brand.pk, search) if search else (brand.pk,)
        found = sqlcache.rows(f"quality.counts:{bool(search)}", build, *values)
    else:
        found = list(_counts_of(policies.pixels_for(user, brand, role=role), search))
    numbers = found[0] if found else (0,) * len(_COUNT_NAMES)
    return {name: int(n or 0) for name, n in zip(_COUNT_NAMES, numbers, strict=True)}


def _visible_pixels_everywhere(user: Any) -> QuerySet[Pixel]:
    """Every pixel of every brand the user holds a role on (all for admins), narrowed
    media buyers only theirs on the brands that narrow them: subqueries, one query."""
    if policies.is_admin(user):
        return Pixel.objects.all()  # every brand: no subquery to plan
    narrowed = policies.is_narrowed_anywhere(user)
    return Pixel.objects.filter(
        Q(brand__in=policies.brands_for(user).values("pk")),
        policies.pixel_visible_q(user, narrowed=narrowed),
    )


def all_pixel_rows(
    *,
    user: Any,
    brand_slug: str = "",
    search: str = "",
    show: str = "all",
    sort: str = "brand",
) -> TableRows:
    """The cross-brand table: ``ROW_FIELDS`` plus the brand's name and slug, of every
    active pixel the user may see on any of their brands (``brand_slug``: only that
    brand's; a brand they hold no role on gives no rows)."""
    queryset = _visible_pixels_everywhere(user)
    if brand_slug:
        queryset = queryset.filter(brand__slug=brand_slug)
    order = order_for(sort)
    order.insert(1, "name" if sort.removeprefix("-") == "brand" else "brand__name")
    return TableRows(
        _filtered(queryset, search=search, show=show),
        order,
        (*ROW_FIELDS, "brand__name", "brand__slug"),
    )


# --- one pixel -----------------------------------------------------------------------------


def pixel_for_view(*, user: Any, brand: Brand, role: Role | None, pixel_id: int) -> Pixel | None:
    """The brand's pixel if the user may see it (else None: the view answers 404), with
    its connection (None when never set up) read in the same query."""
    return (
        policies.pixels_for(user, brand, role=role)
        .select_related("connection")
        .filter(pk=pixel_id)
        .first()
    )


def connection_of(pixel: Pixel) -> PixelConnection | None:
    """The pixel's connection if it was read with it (``select_related``) or exists."""
    try:
        return pixel.connection
    except PixelConnection.DoesNotExist:
        return None


def latest_run(pixel: Pixel) -> PullRun | None:
    return PullRun.objects.filter(pixel=pixel).order_by("-created_at", "-pk").first()


@dataclass(frozen=True)
class CountPoint:
    bucket: dt.datetime  # the start of the UTC hour or day
    browser: int
    server: int
    total: int


def _as_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def counts_series(
    *, pixel: Pixel, start: dt.datetime, end: dt.datetime, daily: bool
) -> list[CountPoint]:
    """Browser, server and total counts of all the pixel's events per bucket whose start
    lies in [start, end): hourly from ``HourlyStat`` or, ``daily``, from the
    ``DailyStat`` rollup. Buckets without rows are zero (every bucket is listed). One
    query."""
    browser_sum = Sum("count", filter=Q(source=Source.BROWSER))
    server_sum = Sum("count", filter=Q(source=Source.SERVER))
    total_sum = Sum("count", filter=Q(source=Source.TOTAL))
    found: dict[dt.datetime, tuple[int, int, int]] = {}
    if daily:
        days = (
            DailyStat.objects.filter(
                pixel=pixel, day__gte=_ceil_day(start).date(), day__lt=_ceil_day(end).date()
            )
            .values("day")
            .annotate(browser=browser_sum, server=server_sum, total=total_sum)
            .order_by()
            .values_list("day", "browser", "server", "total")
        )
        for day, browser, server, total in days:
            found[_as_midnight(day)] = (browser or 0, server or 0, total or 0)
        step = dt.timedelta(days=1)
        bucket = _ceil_day(start)
    else:

        def hourly(pixel_id: int, since: dt.datetime, until: dt.datetime) -> QuerySet[Any]:
            return (
                HourlyStat.objects.filter(pixel_id=pixel_id, hour__gte=since, hour__lt=until)
                .values("hour")
                .annotate(browser=browser_sum, server=server_sum, total=total_sum)
                .order_by()
                .values_list("hour", "browser", "server", "total")
            )

        # Compiled once per process (koastops.core.sqlcache): every detail page runs it.
        hours = sqlcache.rows("quality.hourly_series", hourly, pixel.pk, start, end)
        for hour, browser, server, total in hours:
            found[hour] = (browser or 0, server or 0, total or 0)  # aware, UTC
        step = dt.timedelta(hours=1)
        bucket = _ceil_hour(start)
    zero = (0, 0, 0)
    points = []
    while bucket < end:
        browser, server, total = found.get(bucket, zero)
        points.append(CountPoint(bucket, int(browser), int(server), int(total)))
        bucket += step
    return points


@dataclass(frozen=True)
class QualityPoint:
    pulled_at: dt.datetime
    emq: Decimal | None
    dedup_coverage: Decimal | None


def quality_history(
    *, pixel: Pixel, since: dt.datetime, events: Sequence[str] = ()
) -> dict[str, list[QualityPoint]]:
    """EMQ and dedup coverage per event over time (each quality pull since ``since``),
    oldest first, for ``events`` (all when empty). One query."""

    def read(pixel_id: int, after: dt.datetime) -> QuerySet[Any]:
        rows = EventQuality.objects.filter(pixel_id=pixel_id, pulled_at__gte=after)
        if events:
            rows = rows.filter(event__in=list(events))
        history_rows: QuerySet[Any] = rows.order_by("event", "pulled_at").values_list(
            "event", "pulled_at", "emq", "dedup_coverage"
        )
        return history_rows

    found = (
        list(read(pixel.pk, since))
        if events
        else sqlcache.rows("quality.history", read, pixel.pk, since)
    )
    history: dict[str, list[QualityPoint]] = {}
    for event, pulled_at, emq, dedup in found:
        history.setdefault(event, []).append(QualityPoint(pulled_at, emq, dedup))
    return history


def latest_quality(pixel: Pixel) -> list[EventQuality]:
    """The latest quality row of each of the pixel's events (match keys, diagnostics,
    dedupe keys), by event. One query (a correlated subquery: no DISTINCT ON, so SQLite
    answers too)."""
    newest = (
        EventQuality.objects.filter(pixel_id=OuterRef("pixel_id"), event=OuterRef("event"))
        .order_by("-pulled_at")
        .values("pulled_at")[:1]
    )
    return list(
        EventQuality.objects.filter(pixel=pixel, pulled_at=Subquery(newest)).order_by("event")
    )


# --- the API's sums ------------------------------------------------------------------------


def _ceil_hour(moment: dt.datetime) -> dt.datetime:
    moment = moment.astimezone(dt.UTC)
    floor = moment.replace(minute=0, second=0, microsecond=0)
    return floor if floor == moment else floor + dt.timedelta(hours=1)


def _ceil_day(moment: dt.datetime) -> dt.datetime:
    moment = moment.astimezone(dt.UTC)
    floor = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return floor if floor == moment else floor + dt.timedelta(days=1)


def _floor_day(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)


@dataclass
class EventSums:
    event: str
    total: int = 0
    browser: int = 0
    server: int = 0

    def add(self, source: str, n: int) -> None:
        if source == Source.TOTAL:
            self.total += n
        elif source == Source.BROWSER:
            self.browser += n
        elif source == Source.SERVER:
            self.server += n


@dataclass
class Sums:
    events: dict[str, EventSums] = field(default_factory=dict)

    def add(self, rows: Any) -> None:
        for event, source, n in rows:
            sums = self.events.get(event)
            if sums is None:
                sums = self.events[event] = EventSums(event)
            sums.add(source, int(n or 0))


def _hourly_sums(pixel_id: int, start: dt.datetime, end: dt.datetime) -> QuerySet[Any]:
    return (
        HourlyStat.objects.filter(pixel_id=pixel_id, hour__gte=start, hour__lt=end)
        .values("event", "source")
        .annotate(n=Sum("count"))
        .order_by()
        .values_list("event", "source", "n")
    )


def stats_sums(*, pixel_id: int, start: dt.datetime, end: dt.datetime) -> list[EventSums]:
    """Per event, the counts (total, browser, server) of the hourly buckets whose start
    lies in [start, end), by event. A range of whole UTC days reads the daily rollup for
    them and the hourly rows only for the partial days at either end (three queries at
    most, whatever the range)."""
    sums = Sums()
    first_day, last_day = _ceil_day(start), _floor_day(end)
    if last_day - first_day >= dt.timedelta(days=2):
        sums.add(_hourly_sums(pixel_id, start, first_day))
        sums.add(
            DailyStat.objects.filter(
                pixel_id=pixel_id, day__gte=first_day.date(), day__lt=last_day.date()
            )
            .values("event", "source")
            .annotate(n=Sum("count"))
            .order_by()
            .values_list("event", "source", "n")
        )
        sums.add(_hourly_sums(pixel_id, last_day, end))
    else:
        sums.add(_hourly_sums(pixel_id, start, end))
    return [sums.events[event] for event in sorted(sums.events)]


@dataclass(frozen=True)
class SeriesRow:
    event: str
    bucket: dt.datetime
    total: int
    browser: int
    server: int


def stats_series(
    *, pixel_id: int, start: dt.datetime, end: dt.datetime, granularity: str
) -> list[SeriesRow]:
    """Per event and bucket (``hour`` or ``day``, UTC) whose start lies in [start, end),
    the counts; buckets without any row are left out. By bucket, then event. One query."""
    if granularity == "day":
        rows: Any = (
            DailyStat.objects.filter(
                pixel_id=pixel_id, day__gte=_ceil_day(start).date(), day__lt=_ceil_day(end).date()
            )
            .values("event", "day", "source")
            .annotate(n=Sum("count"))
            .order_by()
            .values_list("event", "day", "source", "n")
        )
    else:
        rows = (
            HourlyStat.objects.filter(pixel_id=pixel_id, hour__gte=start, hour__lt=end)
            .values("event", "hour", "source")
            .annotate(n=Sum("count"))
            .order_by()
            .values_list("event", "hour", "source", "n")
        )
    buckets: dict[tuple[dt.datetime, str], dict[str, int]] = {}
    for event, when, source, n in rows:
        bucket = _as_midnight(when) if granularity == "day" else when.astimezone(dt.UTC)
        buckets.setdefault((bucket, event), {})[source] = int(n or 0)
    return [
        SeriesRow(
            event=event,
            bucket=bucket,
            total=counts.get(Source.TOTAL, 0),
            browser=counts.get(Source.BROWSER, 0),
            server=counts.get(Source.SERVER, 0),
        )
        for (bucket, event), counts in sorted(buckets.items())
    ]


# --- settings ------------------------------------------------------------------------------


def settings_for(brand: Brand | int) -> QualitySettings:
    """The brand's thresholds (``brand``: the brand or its id): its saved row, or an
    unsaved default (``version`` 1, the model's defaults) when an ops lead never saved any
    — the one place the defaults are read from (pulls, reconciliation, alerts, pages;
    launch checks too). One query."""
    brand_id = brand if isinstance(brand, int) else brand.pk
    found = QualitySettings.objects.filter(brand_id=brand_id).first()
    return found if found is not None else QualitySettings(brand_id=brand_id)


def connections_by_pixel(pixel_ids: Sequence[int]) -> Mapping[int, PixelConnection]:
    """The connections of these pixels, by pixel id (one query)."""
    return {
        connection.pixel_id: connection
        for connection in PixelConnection.objects.filter(pixel_id__in=list(pixel_ids))
    }


# --- needs attention -----------------------------------------------------------------------


def problem_counts_by_brand(
    *, user: Any, brand_ids: Sequence[int], roles: Mapping[int, Role]
) -> dict[int, dict[str, int]]:
    """For each brand of ``brand_ids``, how many active pixels the user may see have a
    problem or a broken connection (the table's ``?show=problems``), and how many of those
    a broken connection (``?show=broken``): ``{brand id: {"problems": n, "broken": m}}``
    (brands with none left out). ONE grouped query for any number of
    brands; only a media buyer's brands pay the narrowing subqueries."""
    if not brand_ids:
        return {}
    if policies.is_admin(user):
        visible = Q(brand_id__in=list(brand_ids))
    elif not policies.is_active_user(user):
        return {}
    else:
        buyer = [pk for pk in brand_ids if roles.get(pk) == Role.MEDIA_BUYER or pk not in roles]
        others = [pk for pk in brand_ids if pk not in buyer]
        visible = Q(brand_id__in=others)
        if buyer:
            visible |= Q(brand_id__in=buyer) & policies.pixel_visible_q(user)
    rows = (
        Pixel.objects.filter(visible, _SHOW_Q["problems"], status=CatalogStatus.ACTIVE)
        .order_by()
        .values("brand_id")
        .annotate(problems=Count("pk"), broken=Count("pk", filter=_BROKEN))
        .values_list("brand_id", "problems", "broken")
    )
    return {
        brand_id: {"problems": int(problems), "broken": int(broken)}
        for brand_id, problems, broken in rows
    }
