"""An event definition's content as plain data (no Django): what an ops lead edits, what a
revision stores, what the export writes and the import reads, and what two versions are
compared on.

``parse_event`` is the one gate: every way in (form, API, import, starter template) turns
its input into a dict and calls it; it answers an ``EventContent`` or raises
``ContentError`` with every problem located by path (``parameters[2].type``), so no input
is half-accepted. ``to_dict`` is canonical: the same content always gives the same dict
with the same key order, so export → import → export is byte-identical.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from koastops.taxonomy.catalogue import (
    MAPPING_PLATFORMS,
    MAPPING_TARGET_LABELS,
    META_STANDARD_EVENTS,
    PARAM_TYPES,
    SOURCES,
    STATUSES,
)

EVENT_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,49}$")
PARAM_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
MAX_TEXT = 2000
MAX_SHORT = 120
MAX_PARAMS = 50
MAX_ALLOWED_VALUES = 200
MAX_PATTERN = 200

EVENT_KEYS = (
    "name",
    "display_name",
    "description",
    "trigger",
    "owner",
    "status",
    "sources",
    "event_id_required",
    "parameters",
    "mappings",
)
PARAM_KEYS = ("name", "type", "required", "allowed_values", "pattern", "description")
MAPPING_KEYS = ("platform", "target", "custom", "parameters")


class ContentError(Exception):
    """The content is not acceptable; ``errors`` is a list of (path, message)."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{path}: {message}" for path, message in errors))

    def by_path(self) -> dict[str, list[str]]:
        grouped: dict[str, list[str]] = {}
        for path, message in self.errors:
            grouped.setdefault(path, []).append(message)
        return grouped


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str
    required: bool = False
    allowed_values: tuple[str, ...] = ()
    pattern: str = ""
    description: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "required": self.required,
            "allowed_values": list(self.allowed_values),
            "pattern": self.pattern,
            "description": self.description,
        }


@dataclass(frozen=True)
class Mapping_:
    """Where the event goes on one platform: the platform's event (Meta standard or custom
    event, Google conversion action, LinkedIn conversion rule) and the parameters sent."""

    platform: str
    target: str
    custom: bool = False  # Meta only: a custom event rather than a standard one
    parameters: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "platform": self.platform,
            "target": self.target,
            "custom": self.custom,
            "parameters": list(self.parameters),
        }


@dataclass(frozen=True)
class EventContent:
    name: str
    display_name: str = ""
    description: str = ""
    trigger: str = ""
    owner: str = ""
    status: str = "draft"
    sources: str = "browser"
    event_id_required: bool = False
    parameters: tuple[Parameter, ...] = ()
    mappings: tuple[Mapping_, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "display_name": self.display_name,
            "description": self.description,
            "trigger": self.trigger,
            "owner": self.owner,
            "status": self.status,
            "sources": self.sources,
            "event_id_required": self.event_id_required,
            "parameters": [p.to_dict() for p in self.parameters],
            "mappings": [m.to_dict() for m in self.mappings],
        }

    def mapping(self, platform: str) -> Mapping_ | None:
        return next((m for m in self.mappings if m.platform == platform), None)


class _Reader:
    """Collects located errors while reading one untrusted dict."""

    def __init__(self) -> None:
        self.errors: list[tuple[str, str]] = []

    def error(self, path: str, message: str) -> None:
        self.errors.append((path, message))

    def keys(self, data: Any, allowed: tuple[str, ...], path: str) -> Mapping[str, Any]:
        if not isinstance(data, Mapping):
            self.error(path or "(event)", "Expected an object.")
            return {}
        for key in data:
            if key not in allowed:
                where = f"{path}.{key}" if path else str(key)
                self.error(where, f"Unknown key {str(key)[:40]!r}.")
        return data

    def text(
        self, data: Mapping[str, Any], key: str, path: str, *, limit: int, default: str = ""
    ) -> str:
        value = data.get(key, default)
        where = f"{path}.{key}" if path else key
        if not isinstance(value, str):
            self.error(where, "Expected text.")
            return default
        if "\x00" in value:
            self.error(where, "Text may not contain NUL characters.")
            return default
        value = value.strip()
        if len(value) > limit:
            self.error(where, f"At most {limit} characters (this has {len(value)}).")
        return value

    def flag(self, data: Mapping[str, Any], key: str, path: str) -> bool:
        value = data.get(key, False)
        if not isinstance(value, bool):
            self.error(f"{path}.{key}" if path else key, "Expected true or false.")
            return False
        return value

    def choice(
        self, data: Mapping[str, Any], key: str, path: str, choices: Mapping[str, str], default: str
    ) -> str:
        value = data.get(key, default)
        if not isinstance(value, str) or value not in choices:
            self.error(
                f"{path}.{key}" if path else key,
                f"Expected one of {', '.join(choices)}.",
            )
            return default
        return value

    def items(self, data: Mapping[str, Any], key: str, path: str, limit: int) -> list[Any]:
        value = data.get(key, [])
        where = f"{path}.{key}" if path else key
        if not isinstance(value, list):
            self.error(where, "Expected a list.")
            return []
        if len(value) > limit:
            self.error(where, f"At most {limit} entries (this has {len(value)}).")
            return []
        return value


def _parameter(reader: _Reader, data: Any, path: str) -> Parameter | None:
    before = len(reader.errors)
    item = reader.keys(data, PARAM_KEYS, path)
    if not item:
        return None
    name = reader.text(item, "name", path, limit=40)
    if name and not PARAM_NAME.match(name):
        reader.error(
            f"{path}.name",
            "Use lower-case letters, digits and _, starting with a letter (at most 40).",
        )
    elif not name:
        reader.error(f"{path}.name", "A parameter needs a name.")
    type_ = reader.choice(item, "type", path, PARAM_TYPES, "string")
    required = reader.flag(item, "required", path)
    allowed: list[str] = []
    for index, value in enumerate(reader.items(item, "allowed_values", path, MAX_ALLOWED_VALUES)):
        if not isinstance(value, str) or not value.strip() or len(value) > MAX_SHORT:
            reader.error(f"{path}.allowed_values[{index}]", "Expected non-empty text.")
        elif "\x00" in value:
            reader.error(f"{path}.allowed_values[{index}]", "Text may not contain NUL.")
        elif value.strip() in allowed:
            reader.error(f"{path}.allowed_values[{index}]", f"{value.strip()!r} is listed twice.")
        else:
            allowed.append(value.strip())
    pattern = reader.text(item, "pattern", path, limit=MAX_PATTERN)
    if pattern:
        try:
            re.compile(pattern)
        except re.error as exc:
            reader.error(f"{path}.pattern", f"Not a valid regular expression: {exc}.")
        if type_ not in ("string", "list"):
            reader.error(f"{path}.pattern", "Only text and list parameters take a pattern.")
    if allowed and type_ in ("boolean", "timestamp"):
        reader.error(f"{path}.allowed_values", "This type takes no list of allowed values.")
    description = reader.text(item, "description", path, limit=MAX_SHORT * 2)
    if len(reader.errors) > before:
        return None
    return Parameter(name, type_, required, tuple(allowed), pattern, description)


def _mapping(reader: _Reader, data: Any, path: str, param_names: set[str]) -> Mapping_ | None:
    before = len(reader.errors)
    item = reader.keys(data, MAPPING_KEYS, path)
    if not item:
        return None
    platform = reader.choice(item, "platform", path, MAPPING_PLATFORMS, "meta")
    label = MAPPING_TARGET_LABELS.get(platform, "target")
    target = reader.text(item, "target", path, limit=100)
    custom = reader.flag(item, "custom", path)
    if not target:
        reader.error(f"{path}.target", f"Name the {label}.")
    elif platform == "meta":
        if custom:
            if target in META_STANDARD_EVENTS:
                reader.error(
                    f"{path}.target", f"{target} is a Meta standard event; untick “custom”."
                )
            elif not EVENT_NAME.match(target):
                reader.error(
                    f"{path}.target",
                    "A Meta custom event name uses letters, digits and _ (at most 50).",
                )
        elif target not in META_STANDARD_EVENTS:
            reader.error(
                f"{path}.target",
                f"{target[:50]} is not a Meta standard event; tick “custom” for a custom event.",
            )
    elif custom:
        reader.error(f"{path}.custom", "Only Meta distinguishes custom events.")
    params: list[str] = []
    for index, value in enumerate(reader.items(item, "parameters", path, MAX_PARAMS)):
        where = f"{path}.parameters[{index}]"
        if not isinstance(value, str):
            reader.error(where, "Expected a parameter name.")
        elif value not in param_names:
            reader.error(where, f"{value[:40]!r} is not one of this event's parameters.")
        elif value in params:
            reader.error(where, f"{value!r} is listed twice.")
        else:
            params.append(value)
    if len(reader.errors) > before:
        return None
    return Mapping_(platform, target, custom, tuple(params))


def parse_event(data: Any) -> EventContent:
    """The event content in ``data`` (a JSON-like dict), or ``ContentError`` locating
    every problem. Never raises anything else, whatever ``data`` is."""
    reader = _Reader()
    item = reader.keys(data, EVENT_KEYS, "")
    if not item:
        raise ContentError(reader.errors or [("(event)", "Expected an object.")])
    name = reader.text(item, "name", "", limit=50)
    if not name:
        reader.error("name", "An event needs a name.")
    elif not EVENT_NAME.match(name):
        reader.error("name", "Use letters, digits and _, starting with a letter (at most 50).")
    display_name = reader.text(item, "display_name", "", limit=MAX_SHORT)
    description = reader.text(item, "description", "", limit=MAX_TEXT)
    trigger = reader.text(item, "trigger", "", limit=MAX_TEXT)
    owner = reader.text(item, "owner", "", limit=MAX_SHORT)
    status = reader.choice(item, "status", "", STATUSES, "draft")
    sources = reader.choice(item, "sources", "", SOURCES, "browser")
    event_id_required = reader.flag(item, "event_id_required", "")
    parameters: list[Parameter] = []
    seen: set[str] = set()
    for index, raw in enumerate(reader.items(item, "parameters", "", MAX_PARAMS)):
        parameter = _parameter(reader, raw, f"parameters[{index}]")
        if parameter is None:
            continue
        if parameter.name in seen:
            reader.error(f"parameters[{index}].name", f"{parameter.name!r} is defined twice.")
            continue
        seen.add(parameter.name)
        parameters.append(parameter)
    mappings: list[Mapping_] = []
    platforms: set[str] = set()
    for index, raw in enumerate(reader.items(item, "mappings", "", len(MAPPING_PLATFORMS))):
        mapping = _mapping(reader, raw, f"mappings[{index}]", seen)
        if mapping is None:
            continue
        if mapping.platform in platforms:
            reader.error(
                f"mappings[{index}].platform",
                f"{MAPPING_PLATFORMS[mapping.platform]} is mapped twice; keep one.",
            )
            continue
        platforms.add(mapping.platform)
        mappings.append(mapping)
    if event_id_required and sources == "browser":
        reader.error(
            "event_id_required",
            "Deduplication by event_id only applies when the server sends the event too.",
        )
    if reader.errors:
        raise ContentError(reader.errors)
    order = list(MAPPING_PLATFORMS)
    return EventContent(
        name=name,
        display_name=display_name,
        description=description,
        trigger=trigger,
        owner=owner,
        status=status,
        sources=sources,
        event_id_required=event_id_required,
        parameters=tuple(parameters),
        mappings=tuple(sorted(mappings, key=lambda m: order.index(m.platform))),
    )


# --- readable differences -------------------------------------------------------------------

FIELD_LABELS = {
    "name": "Name",
    "display_name": "Display name",
    "description": "Business meaning",
    "trigger": "Trigger",
    "owner": "Owner",
    "status": "Status",
    "sources": "Sources",
    "event_id_required": "event_id required",
}


@dataclass(frozen=True)
class Change:
    """One line of a readable diff: what (``where``), how (added / removed / changed) and
    the values before and after as display text."""

    where: str
    kind: str  # "added" | "removed" | "changed"
    before: str = ""
    after: str = ""


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) or "—"
    return str(value) if value not in ("", None) else "—"


def diff_events(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> list[Change]:
    """What changed between two ``to_dict`` forms of an event, field by field, parameter by
    parameter and platform by platform (either side may be None: created / removed)."""
    if before is None and after is None:
        return []
    if before is None:
        return [Change("Event", "added", after=str(after["name"]))]  # type: ignore[index]
    if after is None:
        return [Change("Event", "removed", before=str(before["name"]))]
    changes: list[Change] = []
    for key, label in FIELD_LABELS.items():
        if before.get(key) != after.get(key):
            changes.append(Change(label, "changed", _show(before.get(key)), _show(after.get(key))))

    def keyed(items: Any, key: str) -> dict[str, dict[str, Any]]:
        return {item[key]: item for item in items or []}

    for kind, key, noun in (("parameters", "name", "Parameter"), ("mappings", "platform", "")):
        old, new = keyed(before.get(kind), key), keyed(after.get(kind), key)
        for name in [*old, *(n for n in new if n not in old)]:
            title = f"{noun} {name}" if noun else f"{MAPPING_PLATFORMS.get(name, name)} mapping"
            if name not in new:
                changes.append(Change(title, "removed", before=_summary(kind, old[name])))
            elif name not in old:
                changes.append(Change(title, "added", after=_summary(kind, new[name])))
            elif old[name] != new[name]:
                changes.extend(
                    Change(
                        f"{title}: {field_name.replace('_', ' ')}",
                        "changed",
                        _show(old[name][field_name]),
                        _show(new[name].get(field_name)),
                    )
                    for field_name in old[name]
                    if old[name][field_name] != new[name].get(field_name)
                )
    return changes


def _summary(kind: str, item: Mapping[str, Any]) -> str:
    if kind == "parameters":
        required = "required" if item.get("required") else "optional"
        return f"{item.get('type')}, {required}"
    custom = " (custom)" if item.get("custom") else ""
    return f"{item.get('target')}{custom}"
