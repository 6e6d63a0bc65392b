"""Tracking-plan and naming-rule reads shared by the pages, the API and the checks of
later issues. Each answers in a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404

from koastops.catalog.models import Brand
from koastops.taxonomy.catalogue import NAMING_LEVELS
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


# --- export, import and the events API ------------------------------------------------------


def plan_contents(brand: Brand) -> list[tuple[str, dict[str, Any]]]:
    """Every event of the brand as ``(name, content)``, by name (one query)."""
    return list(EventDefinition.objects.filter(brand=brand).values_list("name", "content"))


def event_list(
    *, brand: Brand, status: str = "", source: str = "", platform: str = "", search: str = ""
) -> QuerySet[EventDefinition]:
    """The brand's events narrowed by the plan's filters (exact status, exact sources, a
    mapping to ``platform``, ``search`` in the name or display name), by name."""
    events = EventDefinition.objects.filter(brand=brand)
    if status:
        events = events.filter(status=status)
    if source:
        events = events.filter(sources=source)
    if platform:
        events = events.filter(
            Exists(EventMapping.objects.filter(event=OuterRef("pk"), platform=platform))
        )
    if search:
        events = events.filter(Q(name__icontains=search) | Q(display_name__icontains=search))
    return events.order_by("name")


def last_revision(event: EventDefinition) -> EventRevision | None:
    """Who changed the event last, and when (for a refused stale write)."""
    return EventRevision.objects.filter(event=event).order_by("-version").first()


def plan_document(brand: Brand) -> bytes:
    """The plan's export document, as the file is written (two queries at most)."""
    from koastops.taxonomy.content import parse_event
    from koastops.taxonomy.transfer import dump_document, export_document

    # Stored content is canonical (every write goes through parse_event); parsing it again
    # only puts it in the dataclasses the document is written from.
    contents = [parse_event(content) for _, content in plan_contents(brand)]
    return dump_document(export_document(contents))
