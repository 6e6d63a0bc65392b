"""The one pagination helper every API list uses: ``?page=&page_size=`` in,
``{"items", "count", "page", "page_size"}`` out, in one query: the total is read with the page's
rows as a window ``COUNT(*) OVER ()`` (a page past the last one asks a ``COUNT`` of its own). Without
``page_size`` a page has as many items as the web pages (``KOASTOPS_PAGE_SIZE``, 25 unless
the server sets it; at most ``MAX_PAGE_SIZE``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import Count, QuerySet, Window
from ninja import Schema
from pydantic import Field

MAX_PAGE_SIZE = 100


class PageParams(Schema):
    page: int = Field(1, ge=1, description="1-based page number.")
    page_size: int | None = Field(
        None,
        ge=1,
        le=MAX_PAGE_SIZE,
        description=(
            "Items per page (at most 100; by default the server's page size, 25 unless set)."
        ),
    )


def default_page_size() -> int:
    return max(1, min(int(settings.KOASTOPS_PAGE_SIZE), MAX_PAGE_SIZE))


_TOTAL = "_pagination_total"
_MAX_OFFSET = 2**31  # beyond any real list; a larger OFFSET may overflow the database's integer


def paginate(queryset: QuerySet, params: PageParams) -> dict[str, Any]:
    """A page past the last one has no items."""
    size = params.page_size or default_page_size()
    start = (params.page - 1) * size
    items: list[Any] = []
    if start + size <= _MAX_OFFSET:
        items = list(queryset.annotate(**{_TOTAL: Window(Count("pk"))})[start : start + size])
    if items:
        first = items[0]
        count = first[_TOTAL] if isinstance(first, dict) else getattr(first, _TOTAL)
    else:
        count = 0 if params.page == 1 else queryset.count()
    return {"items": items, "count": count, "page": params.page, "page_size": size}
