"""One way to paginate every list: a page number from ``?page=``, a fixed page size and
the other query parameters kept so search and filters survive paging."""

from __future__ import annotations

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest


def paginate(request: HttpRequest, queryset: QuerySet, *, per_page: int | None = None) -> Page:
    paginator = Paginator(queryset, per_page or settings.KOASTOPS_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    page.querystring = params.urlencode()  # type: ignore[attr-defined]
    return page
