"""Tracking-plan and naming-rule reads shared by the pages, the API and the checks of
later issues. Each answers in a fixed number of queries."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import CharField, Exists, OuterRef, Q, QuerySet, StringAgg, Subquery, Value
from django.db.models.functions import Concat
from django.http import Http404

from koastops.catalog.models import Brand
from koastops.taxonomy.catalogue import MAPPING_PLATFORMS, NAMING_LEVELS, STATUSES
from koastops.taxonomy.models import (
    EventDefinition,
    EventMapping,
    EventRevision,
    NamingRule,
    TrackingPlan,
)


def event_by_name(brand: Brand, name: str) -> EventDefinition:
    """The brand's event called ``name`` (ignoring case), or 404."""
    event = EventDefinition.objects.filter(brand=brand, name__iexact=name[:50]).first()
    if event is None:
        raise Http404("No such event in this tracking plan.")
    event.brand = brand
    return event


def plan_version(brand: Brand) -> int:
    """The plan's current version (1 for a plan nobody has written to)."""
    version = TrackingPlan.objects.filter(brand=brand).values_list("version", flat=True).first()
    return version or 1


@dataclass(frozen=True)
class EffectiveRule:
    """The rule that applies to one level of a brand: its own, else the install default,
    else none. ``own`` is the brand's own rule row (None when it inherits)."""

    level: str
    label: str
    rule: NamingRule | None
    own: NamingRule | None
    default: NamingRule | None

    @property
    def inherited(self) -> bool:
        return self.own is None and self.default is not None


def effective_rules(brand: Brand) -> list[EffectiveRule]:
    """Every level's effective rule for the brand, in level order (one query)."""
    rows = NamingRule.objects.filter(Q(brand=brand) | Q(brand__isnull=True))
    own: dict[str, NamingRule] = {}
    default: dict[str, NamingRule] = {}
    for rule in rows:
        (own if rule.brand_id else default)[rule.level] = rule
    return [
        EffectiveRule(
            level,
            label,
            own.get(level) or default.get(level),
            own.get(level),
            default.get(level),
        )
        for level, label in NAMING_LEVELS.items()
    ]


def effective_rule(brand: Brand, level: str) -> NamingRule | None:
    """The rule that applies to ``level`` for the brand (one query), or None."""
    rows = list(NamingRule.objects.filter(Q(brand=brand) | Q(brand__isnull=True), level=level))
    return next((r for r in rows if r.brand_id), None) or next(iter(rows), None)


def default_rules() -> dict[str, NamingRule]:
    """The install-wide default rules by level (one query)."""
    return {rule.level: rule for rule in NamingRule.objects.filter(brand__isnull=True)}


# --- the plan pages (tracking-plan list, event detail and history) ------------------------

_ITEM = "\x1f"  # between two joined mappings
_PART = "\x1e"  # between a mapping's platform and its target

# The plan list's facets: value -> the words of its removable chip. ``source``: the events a
# source sends ("server" includes the events sent from both sides).
PLAN_FACETS: dict[str, dict[str, str]] = {
    "status": dict(STATUSES),
    "source": {
        "browser": "Sent from the browser",
        "server": "Sent from the server",
        "both": "Sent from browser and server",
    },
    "platform": {
        **{key: f"Mapped to {label}" for key, label in MAPPING_PLATFORMS.items()},
        "none": "Not mapped to any platform",
    },
}
_SOURCE_Q = {
    "browser": Q(sources__in=["browser", "both"]),
    "server": Q(sources__in=["server", "both"]),
    "both": Q(sources="both"),
}


def _mapped_to(platform: str) -> Exists:
    return Exists(EventMapping.objects.filter(event=OuterRef("pk"), platform=platform))


def _plan_filtered(
    brand: Brand, search: str, facets: Mapping[str, str]
) -> QuerySet[EventDefinition]:
    """The brand's events narrowed as the plan page and the API narrow them: ``search`` in
    the name or display name, ``facets`` status / source / platform (``PLAN_FACETS``;
    unknown values are ignored — the page drops them, the API refuses them first)."""
    queryset = EventDefinition.objects.filter(brand=brand)
    if search:
        queryset = queryset.filter(Q(name__icontains=search) | Q(display_name__icontains=search))
    status = facets.get("status")
    if status in STATUSES:
        queryset = queryset.filter(status=status)
    source = facets.get("source")
    if source in _SOURCE_Q:
        queryset = queryset.filter(_SOURCE_Q[source])
    platform = facets.get("platform")
    if platform in MAPPING_PLATFORMS:
        queryset = queryset.filter(_mapped_to(platform))
    elif platform == "none":
        queryset = queryset.filter(~Exists(EventMapping.objects.filter(event=OuterRef("pk"))))
    return queryset


def event_rows(*, brand: Brand, search: str = "", facets: Mapping[str, str] | None = None) -> Any:
    """The plan list's rows, by name: ``values()`` dicts with the printed fields, the
    parameters (``content__parameters``, for their count) and ``mappings_joined`` (every
    mapping as platform and target, see ``mapping_pairs``), in one query. ``facets``:
    ``{"status": …, "source": …, "platform": …}`` (``PLAN_FACETS``; unknown values are
    ignored)."""
    queryset = _plan_filtered(brand, search, facets or {})
    pairs = Concat("platform", Value(_PART), "target", output_field=CharField())
    mappings = (
        EventMapping.objects.filter(event=OuterRef("pk"))
        .order_by()
        .values("event")
        .annotate(joined=StringAgg(pairs, Value(_ITEM)))
        .values("joined")
    )
    return (
        queryset.annotate(mappings_joined=Subquery(mappings, output_field=CharField()))
        .order_by("name", "pk")
        .values(
            "pk",
            "name",
            "display_name",
            "status",
            "sources",
            "owner",
            "updated_at",
            "content__parameters",
            "mappings_joined",
        )
    )


def mapping_pairs(value: str | None) -> list[tuple[str, str]]:
    """``(platform, target)`` of a row's ``mappings_joined``, in platform order."""
    if not value:
        return []
    order = list(MAPPING_PLATFORMS)
    pairs: list[tuple[str, str]] = []
    for item in value.split(_ITEM):
        platform, _, target = item.partition(_PART)
        pairs.append((platform, target))
    return sorted(pairs, key=lambda pair: order.index(pair[0]) if pair[0] in order else len(order))


def event_for_view(*, brand: Brand, pk: int) -> EventDefinition:
    """The brand's event ``pk`` (404 for another brand's or a missing one)."""
    event = EventDefinition.objects.filter(brand=brand, pk=pk).first()
    if event is None:
        raise Http404("No such event in this tracking plan.")
    event.brand = brand
    return event


def event_history(event: EventDefinition) -> list[dict[str, Any]]:
    """The event's revisions, newest first, without their content (one query)."""
    rows: Any = (
        EventRevision.objects.filter(event=event)
        .order_by("-version")
        .values("version", "actor_label", "note", "created_at")
    )
    return [dict(row) for row in rows]


def event_revisions(event: EventDefinition, versions: list[int]) -> dict[int, dict[str, Any]]:
    """The content of the given versions of the event, by version (one query)."""
    rows = EventRevision.objects.filter(event=event, version__in=versions).values_list(
        "version", "content"
    )
    return dict(rows)


def event_last_revision(event: EventDefinition) -> EventRevision | None:
    """Who changed the event last, and when (for the "changed meanwhile" notice)."""
    return EventRevision.objects.filter(event=event).order_by("-version").first()


# --- export, import and the events API ------------------------------------------------------


def plan_contents(brand: Brand) -> list[tuple[str, dict[str, Any]]]:
    """Every event of the brand as ``(name, content)``, by name (one query)."""
    return list(EventDefinition.objects.filter(brand=brand).values_list("name", "content"))


def event_list(
    *, brand: Brand, status: str = "", source: str = "", platform: str = "", search: str = ""
) -> QuerySet[EventDefinition]:
    """The brand's events narrowed by the plan page's filters, with the page's meaning
    (``_plan_filtered``: source "server" includes the events sent from both sides), by
    name."""
    facets = {"status": status, "source": source, "platform": platform}
    return _plan_filtered(brand, search, facets).order_by("name")


def plan_document(brand: Brand) -> bytes:
    """The plan's export document, as the file is written (two queries at most)."""
    from koastops.taxonomy.content import parse_event
    from koastops.taxonomy.transfer import dump_document, export_document

    # Stored content is canonical (every write goes through parse_event); parsing it again
    # only puts it in the dataclasses the document is written from.
    contents = [parse_event(content) for _, content in plan_contents(brand)]
    return dump_document(export_document(contents))
