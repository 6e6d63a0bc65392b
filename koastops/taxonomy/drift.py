"""Drift: where a brand's tracking plan disagrees with itself, its naming rule or the ad
platforms — what the drift page lists and the "needs attention" panel counts.

``drift_for(brand)`` reads the brand's event definitions (one query, their content
included) and its effective event-name rule (one query), then works in Python: the
answer costs the same two queries for 1 or 500 events (plus one call per registered
reference source, none today). Kinds, most urgent first:

- ``clash``: two or more events mapped to the same platform event (same platform and
  target, ignoring case), e.g. ``Lead`` and ``FormComplete`` both sent as Meta ``Lead``:
  the platform counts them as one, so neither number means what the plan says;
- ``missing_params``: a Meta standard event mapping without a parameter Meta requires
  (``catalogue.meta_required_params``), either not sent with the mapping or not defined as
  required on the event (Meta refuses a ``Purchase`` without ``value`` and ``currency``);
- ``name_rule``: an event name the brand's effective ``event_name`` naming rule refuses
  (the engine's first error and its suggestion);
- ``deprecated_referenced``: a deprecated event something still uses. Launches (a later
  issue) will say so by adding a source to ``REFERENCE_SOURCES``; while it is empty this
  kind never appears.

Deprecated events take part only in the last kind: they are on their way out, so their
mappings and names no longer count as the plan's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.urls import NoReverseMatch

from koastops.core.links import fast_reverse
from koastops.taxonomy.catalogue import (
    MAPPING_PLATFORMS,
    MAPPING_TARGET_LABELS,
    META_STANDARD_EVENTS,
    PARAM_TYPES,
    meta_required_params,
)
from koastops.taxonomy.models import EventDefinition, EventStatus
from koastops.taxonomy.selectors import effective_rule

if TYPE_CHECKING:
    from koastops.catalog.models import Brand

# Who uses an event by name: ``source(brand) -> {event name: how many uses}``. Launches
# will register one (``REFERENCE_SOURCES.append(launch_event_references)``) so that a
# deprecated event still chosen as a launch's optimisation event shows as drift. A source
# may carry a ``noun`` attribute ("launch") for the text; names match ignoring case. Each
# source must answer in a constant number of queries.
ReferenceSource = Callable[["Brand"], Mapping[str, int]]
REFERENCE_SOURCES: list[ReferenceSource] = []


@dataclass(frozen=True)
class Kind:
    key: str
    label: str  # the group's heading and stat card
    tone: str  # "failing" (numbers are wrong or refused) or "warning"
    badge: str  # the status badge's text on each item
    explains: str  # one line under the heading: why this kind matters


KINDS: dict[str, Kind] = {
    kind.key: kind
    for kind in (
        Kind(
            "clash",
            "Mapping clashes",
            "failing",
            "Clash",
            "Two events sent as the same platform event are counted as one: neither number "
            "means what the plan says.",
        ),
        Kind(
            "missing_params",
            "Missing required parameters",
            "failing",
            "Missing parameter",
            "Meta refuses or cannot value a standard event without the parameters it requires.",
        ),
        Kind(
            "name_rule",
            "Names that break the naming rule",
            "warning",
            "Name rule",
            "Event names outside the brand's event-name rule are hard to find and report on.",
        ),
        Kind(
            "deprecated_referenced",
            "Deprecated events still in use",
            "warning",
            "Deprecated",
            "Something still relies on an event the plan has retired.",
        ),
    )
}


@dataclass(frozen=True)
class DriftEvent:
    """An event an item is about; ``url`` is its detail page (None if it cannot be linked)."""

    pk: int
    name: str
    status: str
    url: str | None


@dataclass(frozen=True)
class DriftItem:
    kind: str  # a key of KINDS
    tone: str
    title: str
    detail: str
    action: str  # what to do next, in one sentence
    events: tuple[DriftEvent, ...]

    @property
    def label(self) -> str:
        return KINDS[self.kind].badge


@dataclass(frozen=True)
class _Event:
    pk: int
    name: str
    status: str
    content: Mapping[str, Any]

    def ref(self, url: Callable[[int], str | None]) -> DriftEvent:
        return DriftEvent(self.pk, self.name, self.status, url(self.pk))


def _event_url(brand: Brand) -> Callable[[int], str | None]:
    """``pk -> detail url`` for the brand's events, or ``-> None`` while the event pages
    are not installed (the page then shows the names without links)."""
    try:
        fast_reverse("taxonomy:event_detail", kwargs={"slug": brand.slug, "pk": 0})
    except NoReverseMatch:
        return lambda pk: None
    return lambda pk: fast_reverse("taxonomy:event_detail", kwargs={"slug": brand.slug, "pk": pk})


def _and(words: Iterable[str]) -> str:
    items = list(words)
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


def _plural(noun: str) -> str:
    return f"{noun}es" if noun.endswith(("s", "x", "ch", "sh")) else f"{noun}s"


def _list(value: Any) -> list[Any]:
    # Stored content is canonical (services only), but a row written around them must
    # not break the page: anything but a list reads as empty.
    return value if isinstance(value, list) else []


def _mappings(event: _Event) -> list[Mapping[str, Any]]:
    return [m for m in _list(event.content.get("mappings")) if isinstance(m, Mapping)]


# --- the kinds --------------------------------------------------------------------------


def _clashes(events: list[_Event], url: Callable[[int], str | None]) -> list[DriftItem]:
    groups: dict[tuple[str, str], list[tuple[_Event, str]]] = {}
    for event in events:
        for mapping in _mappings(event):
            platform, target = str(mapping.get("platform", "")), str(mapping.get("target", ""))
            if platform and target:
                groups.setdefault((platform, target.lower()), []).append((event, target))
    items = []
    for (platform, folded), members in sorted(groups.items()):
        if len(members) < 2:
            continue
        # The event to keep: the one named like the platform event, else the oldest; the
        # target is shown as the kept event spells it.
        keeper = min(members, key=lambda pair: (pair[0].name.lower() != folded, pair[0].pk))
        target = keeper[1]
        members.sort(key=lambda pair: (pair is not keeper, pair[0].name.lower()))
        names = [event.name for event, _ in members]
        platform_label = MAPPING_PLATFORMS.get(platform, platform)
        target_label = MAPPING_TARGET_LABELS.get(platform, "event")
        first, rest = names[0], names[1:]
        action = (
            f"Map {_and(rest)} to "
            + ("a custom event" if platform == "meta" else f"another {target_label}")
            + f" or merge {'it' if len(rest) == 1 else 'them'} into {first}."
        )
        items.append(
            DriftItem(
                kind="clash",
                tone=KINDS["clash"].tone,
                title=(
                    f"{_and(names)} are {'both' if len(names) == 2 else 'all'} sent as "
                    f"{platform_label} {target}"
                ),
                detail=(
                    f"{platform_label} receives {len(names)} events as “{target}” and counts "
                    "them together: its reports cannot tell them apart."
                ),
                action=action,
                events=tuple(event.ref(url) for event, _ in members),
            )
        )
    return items


def _missing_params(events: list[_Event], url: Callable[[int], str | None]) -> list[DriftItem]:
    items = []
    for event in events:
        meta = next((m for m in _mappings(event) if m.get("platform") == "meta"), None)
        if meta is None or meta.get("custom"):
            continue
        target = meta.get("target")
        if not isinstance(target, str) or target not in META_STANDARD_EVENTS:
            continue
        required = meta_required_params(target)
        if not required:
            continue
        sent = {p for p in _list(meta.get("parameters")) if isinstance(p, str)}
        defined = {
            str(p.get("name")): p
            for p in _list(event.content.get("parameters"))
            if isinstance(p, Mapping)
        }
        not_sent = [name for name in required if name not in sent]
        optional = [
            name for name in required if name in defined and not defined[name].get("required")
        ]
        if not not_sent and not optional:
            continue
        problems = []
        if not_sent:
            problems.append(f"{_and(not_sent)} {'is' if len(not_sent) == 1 else 'are'} not sent")
        if optional:
            problems.append(
                f"{_and(optional)} {'is' if len(optional) == 1 else 'are'} defined as optional"
            )
        steps = []
        undefined = [name for name in not_sent if name not in defined]
        if undefined:
            types = {p.name: p.type for p in META_STANDARD_EVENTS[target]}
            steps.append(
                "add "
                + _and(
                    f"{name} ({PARAM_TYPES.get(types.get(name, ''), 'text')})" for name in undefined
                )
                + " to the event"
            )
        if optional:
            steps.append(f"mark {_and(optional)} as required")
        if not_sent:
            steps.append(f"send {_and(not_sent)} with the Meta mapping")
        action = _and(steps)
        items.append(
            DriftItem(
                kind="missing_params",
                tone=KINDS["missing_params"].tone,
                title=f"{event.name} is sent as Meta {target} without what Meta requires",
                detail=(f"Meta requires {_and(required)} with {target}: {'; '.join(problems)}."),
                action=f"On {event.name}: {action[0].lower()}{action[1:]}.",
                events=(event.ref(url),),
            )
        )
    return items


def _compiled_rule(spec: Any) -> Any:
    """The engine's compiled rule for a stored spec, or None if the spec does not compile
    (the services refuse such specs; a row written around them must not break the page)."""
    from koastops.taxonomy.naming import SpecError, compile_rule

    try:
        return compile_rule(spec)
    except (SpecError, TypeError, ValueError):
        return None


def _name_rule(
    events: list[_Event], spec: Any, url: Callable[[int], str | None]
) -> list[DriftItem]:
    rule = _compiled_rule(spec)
    if rule is None:
        return []
    items = []
    for event in events:
        result = rule.validate(event.name)
        if result.valid:
            continue
        error = result.errors[0]
        fix = result.corrected or error.suggestion
        if result.corrected:
            action = f"Rename {event.name} to {result.corrected}."
        elif fix:
            action = f"Rename {event.name}: use {fix} where it has {error.value or 'nothing'}."
        else:
            action = f"Rename {event.name} to a name the rule accepts ({error.expected})."
        items.append(
            DriftItem(
                kind="name_rule",
                tone=KINDS["name_rule"].tone,
                title=f"{event.name} breaks the event-name rule",
                detail=error.message + _more(len(result.errors) - 1),
                action=action,
                events=(event.ref(url),),
            )
        )
    return items


def _more(count: int) -> str:
    if count <= 0:
        return ""
    return f" (and {count} more problem{'' if count == 1 else 's'})"


def _deprecated_referenced(
    brand: Brand, deprecated: list[_Event], url: Callable[[int], str | None]
) -> list[DriftItem]:
    if not deprecated or not REFERENCE_SOURCES:
        return []
    uses: dict[str, list[tuple[int, str]]] = {}
    for source in REFERENCE_SOURCES:
        noun = str(getattr(source, "noun", "reference"))
        for name, count in source(brand).items():
            if count > 0:
                uses.setdefault(name.lower(), []).append((count, noun))
    items = []
    for event in deprecated:
        found = uses.get(event.name.lower())
        if not found:
            continue
        used_by = _and(f"{count} {noun if count == 1 else _plural(noun)}" for count, noun in found)
        items.append(
            DriftItem(
                kind="deprecated_referenced",
                tone=KINDS["deprecated_referenced"].tone,
                title=f"{event.name} is deprecated but still used",
                detail=f"Still referenced by {used_by}.",
                action=(
                    f"Move what uses {event.name} to its replacement, or make {event.name} "
                    "active again."
                ),
                events=(event.ref(url),),
            )
        )
    return items


# --- the answer ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DriftReport:
    items: list[DriftItem]
    has_event_rule: bool  # whether an event-name rule applies (else name_rule cannot occur)
    events: int = 0  # how many events the plan has (deprecated ones included)


def drift_report(brand: Brand) -> DriftReport:
    """Every drift item of the brand's tracking plan, in ``KINDS`` order (two queries,
    whatever the number of events)."""
    rows = EventDefinition.objects.filter(brand=brand).values_list(
        "pk", "name", "status", "content"
    )
    events = [
        _Event(pk, name, status, content if isinstance(content, Mapping) else {})
        for pk, name, status, content in rows
    ]
    live = [event for event in events if event.status != EventStatus.DEPRECATED]
    deprecated = [event for event in events if event.status == EventStatus.DEPRECATED]
    url = _event_url(brand)
    rule = effective_rule(brand, "event_name")
    items = [
        *_clashes(live, url),
        *_missing_params(live, url),
        *(_name_rule(live, rule.spec, url) if rule is not None else []),
        *_deprecated_referenced(brand, deprecated, url),
    ]
    order = list(KINDS)
    items.sort(key=lambda item: order.index(item.kind))
    return DriftReport(items, has_event_rule=rule is not None, events=len(events))


def drift_for(brand: Brand) -> list[DriftItem]:
    """Every drift item of the brand's tracking plan, in ``KINDS`` order."""
    return drift_report(brand).items


@dataclass(frozen=True)
class DriftGroup:
    kind: Kind
    items: list[DriftItem]


def drift_groups(items: Iterable[DriftItem]) -> list[DriftGroup]:
    """``items`` by kind, every kind listed (empty ones too, for the stat cards) but
    ``deprecated_referenced`` while nothing can reference an event."""
    keys = [key for key in KINDS if key != "deprecated_referenced" or REFERENCE_SOURCES]
    grouped: dict[str, list[DriftItem]] = {key: [] for key in keys}
    for item in items:
        grouped.setdefault(item.kind, []).append(item)
    return [DriftGroup(KINDS[key], rows) for key, rows in grouped.items()]
