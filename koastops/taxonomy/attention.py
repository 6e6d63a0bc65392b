"""The tracking plan's "needs attention" item (see ``koastops.dashboard.attention``):
mapping clashes — two or more live events of a brand sent as the same platform event.

One grouped query for any number of brands: the mapping rows of draft and active events,
grouped by brand, platform and target (ignoring case), keeping the groups with more than
one event. The other drift kinds need each event's content and the naming engine; they
are left to the drift page (``koastops.taxonomy.drift``), which the item links to. Every
role of a brand reads its tracking plan (``taxonomy.view``), so ``brands`` needs no
narrowing.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from django.db import connections
from django.db.models import Count, QuerySet
from django.db.models.functions import Lower

from koastops.core.lookups import any_of
from koastops.dashboard import attention
from koastops.taxonomy.models import EventMapping, EventStatus

if TYPE_CHECKING:
    from koastops.accounts.models import Role
    from koastops.catalog.models import Brand


def _clash_groups(brand_ids: Sequence[int]) -> QuerySet[EventMapping, int]:
    """One row (the brand id) per platform event that receives several live events."""
    return (
        EventMapping.objects.filter(any_of("brand_id", brand_ids))
        .exclude(event__status=EventStatus.DEPRECATED)
        .values("brand_id", "platform", folded=Lower("target"))
        .annotate(events=Count("event_id"))
        .filter(events__gt=1)
        .values_list("brand_id", flat=True)
    )


# On PostgreSQL the statement is the same for any ids (they go in as one array parameter):
# it is compiled once per process and database, as koastops.core.sqlcache does for the
# policy's lookups (building and compiling this queryset costs more than running it).
_MARKER = -7_000_000_101
_COMPILED: dict[str, tuple[str, list[Any], int]] = {}


def _group_rows(brand_ids: list[int]) -> list[int]:
    db = EventMapping.objects.db
    connection = connections[db]
    if connection.vendor != "postgresql":
        return list(_clash_groups(brand_ids))
    compiled = _COMPILED.get(db)
    if compiled is None:
        built_sql, built_params = _clash_groups([_MARKER]).query.sql_with_params()
        found = [i for i, param in enumerate(built_params) if param == [_MARKER]]
        if len(found) != 1:  # pragma: no cover - the ORM placed the ids elsewhere
            return list(_clash_groups(brand_ids))
        compiled = _COMPILED[db] = (built_sql, list(built_params), found[0])
    sql, template, index = compiled
    params = [*template[:index], brand_ids, *template[index + 1 :]]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def clash_counts(brand_ids: Sequence[int]) -> dict[int, int]:
    """The number of clashing platform events per brand id (brands without any left out)."""
    ids = [int(pk) for pk in brand_ids]
    if not ids:
        return {}
    counts: dict[int, int] = {}
    for brand_id in _group_rows(ids):
        counts[brand_id] = counts.get(brand_id, 0) + 1
    return counts


@attention.register("taxonomy.drift")
def drift_items(
    *, user: Any, brands: Sequence[Brand], roles: Mapping[int, Role]
) -> Iterator[attention.AttentionItem]:
    counts = clash_counts([brand.pk for brand in brands])
    if not counts:
        return
    drift = attention.slug_url("taxonomy:drift")
    for brand in brands:
        if n := counts.get(brand.pk):
            yield attention.AttentionItem(
                brand=brand,
                key="taxonomy.drift_clashes",
                tone="failing",
                title=(
                    "1 platform event receives two tracking-plan events"
                    if n == 1
                    else f"{n} platform events each receive several tracking-plan events"
                ),
                detail="The platform counts them as one, so neither number means what the plan says.",
                who="Ops leads fix the mappings in the tracking plan; the drift page says how.",
                href=drift(brand.slug) + "#clash",
                count=n,
            )
