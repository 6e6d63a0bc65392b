"""A brand's activity log, newest first, with filters (the same selector and the same
filter names as the brand's activity page and its exports, so all three read the log
alike)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from ninja import Query, Router

from koastops.accounts.http import ApiRequest
from koastops.accounts.models import Role, User
from koastops.activity import selectors
from koastops.activity.models import ActivityEntry
from koastops.api.common import brand_with_capability, responses
from koastops.api.pagination import paginate
from koastops.api.schemas import ActivityFilters, ActivityPage
from koastops.catalog.models import Brand

router = Router(tags=["activity"])


def brand_activity(
    user: User, brand: Brand, role: Role | None, filters: ActivityFilters
) -> QuerySet[ActivityEntry]:
    """The rows the user may see, filtered as on the activity page and in its exports
    (``selectors.activity_list``: the same names, the same meaning)."""
    return selectors.activity_list(
        user=user,
        brand=brand,
        role=role,
        actor=filters.actor or "",  # stripped, and an id in range (the schema checks)
        verb=filters.verb or "",
        target_type=(filters.target_type or "").strip().lower(),
        date_from=filters.date_from or None,
        date_to=filters.date_to or None,
        q=(filters.q or "").strip(),
    )


@router.get("/brands/{slug}/activity", response=responses({200: ActivityPage}))
def activity_list(
    request: ApiRequest, slug: str, filters: Query[ActivityFilters]
) -> dict[str, Any]:
    """Who changed or decided what on the brand (capability ``activity.view``), newest
    first. Days are whole UTC days, both ends included."""
    brand, role = brand_with_capability(request, slug, "activity.view")
    page = paginate(brand_activity(request.auth, brand, role, filters), filters)
    redact = selectors.activity_redactor(user=request.auth, brand=brand)
    page["items"] = [redact(entry) for entry in page["items"]]
    return page
