"""The one pagination helper every API list uses: ``?page=&page_size=`` in,
``{"items", "count", "page", "page_size"}`` out, in two queries (count and page). Without
``page_size`` a page has as many items as the web pages (``KOASTOPS_PAGE_SIZE``, 25 unless
the server sets it; at most ``MAX_PAGE_SIZE``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import QuerySet
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


def paginate(queryset: QuerySet, params: PageParams) -> dict[str, Any]:
    """A page past the last one has no items (and costs no query for them)."""
    size = params.page_size or default_page_size()
    count = queryset.count()
    start = (params.page - 1) * size
    items = list(queryset[start : start + size]) if start < count else []
    return {"items": items, "count": count, "page": params.page, "page_size": size}
