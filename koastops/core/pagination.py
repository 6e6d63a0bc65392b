"""One way to paginate every list: a page number from ``?page=``, a fixed page size and
the other query parameters kept so search and filters survive paging."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import Count, QuerySet, Window
from django.http import HttpRequest

from koastops.core import sqlcache


class Rows(Protocol):
    """What ``Paginator`` pages besides a queryset: a length and slices (a list, or a lazy
    row source that reads one page per slice)."""

    def __len__(self) -> int: ...

    def __getitem__(self, index: slice, /) -> Any: ...


_TOTAL = "_pagination_total"
_MAX_OFFSET = 2**31  # beyond any real list; a larger OFFSET may overflow the database's integer


def paginate(
    request: HttpRequest,
    queryset: QuerySet | Sequence[Any] | Rows,
    *,
    per_page: int | None = None,
    one_query: bool = False,
    total: int | None = None,
) -> Page:
    """The requested page (``Paginator.get_page``: a bad number gives the first page, one
    past the end the last) of a queryset or of anything sliceable with a length (a list,
    a lazy row source). ``one_query``: read the total with the rows, as a window
    ``COUNT(*) OVER ()`` on the page's query, instead of a ``COUNT`` query of its own (one
    query fewer; only a page number past the end asks again). The rows are then a list,
    and a row of a ``values()`` queryset has one more key (``_pagination_total``).
    ``total``: the number of rows when the caller counted them already (no ``COUNT``)."""
    paginator = Paginator(queryset, per_page or settings.KOASTOPS_PAGE_SIZE)  # type: ignore[arg-type]
    if total is not None:
        paginator.__dict__["count"] = total  # Paginator.count is a cached_property
    raw = request.GET.get("page")
    page = (
        _page_with_total(paginator, queryset, raw)
        if one_query and isinstance(queryset, QuerySet)
        else None
    )
    if page is None:
        page = paginator.get_page(raw)
    params = request.GET.copy()
    params.pop("page", None)
    page.querystring = params.urlencode()  # type: ignore[attr-defined]
    return page


# Pages read through sqlcache (one compiled statement per page number): the first few.
_CACHED_PAGES = 20


def paginate_cached(
    request: HttpRequest,
    key: str,
    build: Callable[..., QuerySet],
    *values: int | str,
    per_page: int | None = None,
) -> Page:
    """``paginate(request, build(*values), one_query=True)``, with the page's statement
    compiled once per process and page number (``koastops.core.sqlcache``: ``build`` makes
    a ``values()`` queryset whose shape ``key`` names, from its arguments). Rows are dicts."""
    size = per_page or settings.KOASTOPS_PAGE_SIZE
    raw = request.GET.get("page")
    try:
        number = int(raw) if raw not in (None, "") else 1
    except (TypeError, ValueError):
        number = 1
    if not 1 <= number <= _CACHED_PAGES:
        return paginate(request, build(*values), per_page=size, one_query=True)
    start = (number - 1) * size

    def windowed(*arguments: Any) -> QuerySet:
        counted = build(*arguments).annotate(**{_TOTAL: Window(Count("pk"))})
        return counted[start : start + size]

    rows = sqlcache.dict_rows(f"{key}:{start}:{size}", windowed, *values)
    if not rows and number > 1:
        return paginate(request, build(*values), per_page=size)  # past the end: the last page
    paginator = Paginator(rows, size)
    paginator.__dict__["count"] = rows[0][_TOTAL] if rows else 0
    page = Page(rows, number, paginator)
    params = request.GET.copy()
    params.pop("page", None)
    page.querystring = params.urlencode()  # type: ignore[attr-defined]
    return page


def _page_with_total(paginator: Paginator, queryset: QuerySet, raw: Any) -> Page | None:
    try:
        number = int(raw) if raw not in (None, "") else 1
    except (TypeError, ValueError):
        number = 1  # as get_page: not a number -> the first page
    size = paginator.per_page
    start = (number - 1) * size
    if number < 1 or start + size > _MAX_OFFSET:
        return None  # get_page() shows the last page (and never sends such an OFFSET)
    rows = list(queryset.annotate(**{_TOTAL: Window(Count("pk"))})[start : start + size])
    if rows:
        first = rows[0]
        total = first[_TOTAL] if isinstance(first, dict) else getattr(first, _TOTAL)
    elif number == 1:
        total = 0
    else:
        return None  # past the end: get_page() counts and shows the last page
    paginator.__dict__["count"] = total  # Paginator.count is a cached_property
    return Page(rows, number, paginator)
