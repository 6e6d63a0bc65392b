"""The one pagination helper every API list uses: ``?page=&page_size=`` in,
``{"items", "count", "page", "page_size"}`` out, in two queries (count and page)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from ninja import Schema
from pydantic import Field

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 25


class PageParams(Schema):
    page: int = Field(1, ge=1, description="1-based page number.")
    page_size: int = Field(
        DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE, description="Items per page (at most 100)."
    )


def paginate(queryset: QuerySet, params: PageParams) -> dict[str, Any]:
    """A page past the last one has no items (and costs no query for them)."""
    count = queryset.count()
    start = (params.page - 1) * params.page_size
    items = list(queryset[start : start + params.page_size]) if start < count else []
    return {"items": items, "count": count, "page": params.page, "page_size": params.page_size}
