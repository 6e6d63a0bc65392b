"""The tracking plan as a JSON document, and back (no Django).

Export: ``export_document(contents)`` is ``{"format": FORMAT, "events": [...]}`` — the
events sorted by name, each its canonical ``EventContent.to_dict()`` plus ``json_schema``
(a JSON Schema, draft 2020-12, of the payload its parameters describe). It holds nothing
brand-specific or volatile (no ids, versions, timestamps), and ``dump_document`` writes it
in one fixed way, so export → import → export gives the same bytes.

Import: ``read_document(raw)`` reads an untrusted upload into a list of ``EventContent``
or raises ``DocumentError`` with every problem located (``events[3].parameters[0].type``):
too big, not UTF-8, not JSON, nested too deeply, wrong types, unknown keys, too many
events, two events whose names differ only in case. ``json_schema`` is accepted and
ignored (it is derived from the parameters). ``plan_diff`` compares the result with the
current plan: what an import would add, change and leave alone.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from koastops.taxonomy.content import Change, ContentError, EventContent, diff_events, parse_event

FORMAT = "koastops-tracking-plan/1"
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
# The export of the largest plan allowed (500 events of ten parameters) is about 3 MB; a
# file of 8 MB still fits one, and a 10 MB one is refused before it is read.
MAX_BYTES = 8 * 1024 * 1024
MAX_EVENTS = 500
# The deepest a valid document nests is 5 (document, events, event, parameters, parameter,
# allowed values); json_schema is ignored but may nest more. Deeper is refused before any
# of it is looked at.
MAX_DEPTH = 32
MAX_ERRORS = 200
DOCUMENT_KEYS = ("format", "events")
CURRENCY_PATTERN = "^[A-Z]{3}$"
_SURROGATE = re.compile("[\ud800-\udfff]")


class DocumentError(Exception):
    """The document is refused; ``errors`` is a list of (path, message), at most
    ``MAX_ERRORS`` of them (``truncated`` says whether there were more)."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        self.truncated = len(errors) > MAX_ERRORS
        self.errors = errors[:MAX_ERRORS]
        super().__init__("; ".join(f"{path}: {message}" for path, message in self.errors[:5]))


# --- export ---------------------------------------------------------------------------------


def _number(value: str, *, integer: bool) -> int | float | None:
    """An allowed value of a number parameter as a JSON number (None if it is none)."""
    try:
        parsed = json.loads(value)
    except ValueError:
        return None
    if isinstance(parsed, bool) or not isinstance(parsed, int | float):
        return None
    if integer and not (isinstance(parsed, int) or parsed.is_integer()):
        return None
    if isinstance(parsed, float) and parsed in (float("inf"), float("-inf")):
        return None
    return int(parsed) if integer else parsed


def _property_schema(parameter: Mapping[str, Any]) -> dict[str, Any]:
    type_ = parameter["type"]
    allowed = list(parameter.get("allowed_values") or [])
    pattern = parameter.get("pattern") or ""
    schema: dict[str, Any]
    if type_ in ("number", "integer"):
        schema = {"type": type_}
        numbers = [_number(value, integer=type_ == "integer") for value in allowed]
        # Allowed values that are no number of this type cannot be met: left out.
        if [n for n in numbers if n is not None]:
            schema["enum"] = [n for n in numbers if n is not None]
    elif type_ == "boolean":
        schema = {"type": "boolean"}
    elif type_ == "currency":
        schema = {"type": "string", "pattern": CURRENCY_PATTERN}
        if allowed:
            schema["enum"] = allowed
    elif type_ == "timestamp":
        schema = {"type": "string", "format": "date-time"}
    elif type_ == "list":
        schema = {"type": "array"}
        items: dict[str, Any] = {}
        if allowed:
            items["enum"] = allowed
        if pattern:
            items |= {"type": "string", "pattern": pattern}
        if items:
            schema["items"] = items
    else:  # string
        schema = {"type": "string"}
        if allowed:
            schema["enum"] = allowed
        if pattern:
            schema["pattern"] = pattern
    if parameter.get("description"):
        schema["description"] = parameter["description"]
    return schema


def event_json_schema(content: Mapping[str, Any]) -> dict[str, Any]:
    """A JSON Schema (draft 2020-12) of the payload of one event: its parameters as
    properties, the required ones in ``required``; other properties are allowed."""
    schema: dict[str, Any] = {"$schema": JSON_SCHEMA_DIALECT, "title": content["name"]}
    if content.get("description"):
        schema["description"] = content["description"]
    parameters = content.get("parameters") or []
    schema |= {
        "type": "object",
        "properties": {p["name"]: _property_schema(p) for p in parameters},
        "required": [p["name"] for p in parameters if p.get("required")],
        "additionalProperties": True,
    }
    return schema


def export_document(contents: Iterable[EventContent]) -> dict[str, Any]:
    """The plan document of ``contents``, sorted by name (names are unique ignoring case)."""
    events = []
    for content in sorted(contents, key=lambda c: (c.name.lower(), c.name)):
        data = content.to_dict()
        events.append({**data, "json_schema": event_json_schema(data)})
    return {"format": FORMAT, "events": events}


def dump_document(document: Mapping[str, Any]) -> bytes:
    """The one way a plan document is written: UTF-8, two-space indent, the canonical key
    order, a final newline."""
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode()


# --- import ---------------------------------------------------------------------------------


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


def _scan(data: Any) -> list[tuple[str, str]]:
    """Problems no later check could locate well: nesting deeper than ``MAX_DEPTH`` and
    text that cannot be stored or shown (lone surrogates, which ``\\ud800`` can spell).
    Iterative, so any document JSON accepted is scanned without recursion."""
    errors: list[tuple[str, str]] = []
    stack: list[tuple[Any, str, int]] = [(data, "", 0)]
    while stack and len(errors) < MAX_ERRORS:
        value, path, depth = stack.pop()
        if isinstance(value, str):
            if _SURROGATE.search(value):
                errors.append(
                    (path or "(document)", "Text with an invalid character (a lone surrogate).")
                )
            continue
        if not isinstance(value, dict | list):
            continue
        if depth >= MAX_DEPTH:
            errors.append((path or "(document)", "Nested too deeply."))
            continue
        if isinstance(value, dict):
            for key, item in value.items():
                where = f"{path}.{key}" if path else str(key)
                if _SURROGATE.search(key):
                    errors.append((path or "(document)", "A key with an invalid character."))
                    continue
                stack.append((item, where, depth + 1))
        else:
            stack.extend((item, f"{path}[{index}]", depth + 1) for index, item in enumerate(value))
    return errors


def _load(raw: bytes | str) -> Any:
    if isinstance(raw, str):
        text = raw.removeprefix("\ufeff")  # a pasted file may keep its byte-order mark
        if len(text) > MAX_BYTES:  # characters: at least as many bytes
            raise DocumentError([("(file)", _too_big(len(text.encode(errors="replace"))))])
    else:
        if len(raw) > MAX_BYTES:
            raise DocumentError([("(file)", _too_big(len(raw)))])
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise DocumentError(
                [("(file)", f"Not UTF-8 text (a byte that is not UTF-8 at offset {exc.start}).")]
            ) from None
    if len(text.encode(errors="replace")) > MAX_BYTES:
        raise DocumentError([("(file)", _too_big(len(text.encode(errors="replace"))))])
    if not text.strip():
        raise DocumentError([("(file)", "The file is empty.")])
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise DocumentError([("(file)", "The JSON is nested too deeply.")]) from None
    except json.JSONDecodeError as exc:
        raise DocumentError(
            [("(file)", f"Not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno}).")]
        ) from None
    except ValueError as exc:  # NaN / Infinity, a number with thousands of digits
        raise DocumentError([("(file)", f"Not valid JSON: {str(exc)[:120]}.")]) from None


def _too_big(size: int) -> str:
    return (
        f"The file is too big: {size / 1024 / 1024:.1f} MB; a plan file may have at most"
        f" {MAX_BYTES // 1024 // 1024} MB."
    )


def read_document(raw: bytes | str) -> list[EventContent]:
    """The events of an uploaded plan document, or ``DocumentError`` locating every
    problem. Never raises anything else, whatever ``raw`` is."""
    data = _load(raw)
    scanned = _scan(data)
    if scanned:
        raise DocumentError(scanned)
    errors: list[tuple[str, str]] = []
    if not isinstance(data, dict):
        raise DocumentError(
            [("(document)", 'Expected an object: {"format": "' + FORMAT + '", "events": [...]}.')]
        )
    errors.extend(
        (str(key)[:60], f"Unknown key {str(key)[:40]!r}.")
        for key in data
        if key not in DOCUMENT_KEYS
    )
    if data.get("format") != FORMAT:
        errors.append(("format", f"Expected {FORMAT!r} (the format koastops exports)."))
    events = data.get("events")
    if not isinstance(events, list):
        errors.append(("events", "Expected a list of events."))
        raise DocumentError(errors)
    if len(events) > MAX_EVENTS:
        errors.append(("events", f"At most {MAX_EVENTS} events (this has {len(events)})."))
        raise DocumentError(errors)
    contents, content_errors = parse_events(events)
    errors.extend(content_errors)
    if errors:
        raise DocumentError(errors)
    return contents


def parse_events(events: Sequence[Any]) -> tuple[list[EventContent], list[tuple[str, str]]]:
    """Each item as an ``EventContent`` (its ``json_schema`` ignored), and the located
    errors of those that are not, including names used twice (ignoring case)."""
    contents: list[EventContent] = []
    errors: list[tuple[str, str]] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(events):
        where = f"events[{index}]"
        data = item
        if isinstance(item, Mapping) and "json_schema" in item:
            data = {key: value for key, value in item.items() if key != "json_schema"}
        try:
            content = item if isinstance(item, EventContent) else parse_event(data)
        except ContentError as exc:
            errors.extend(
                (where if path == "(event)" else f"{where}.{path}", message)
                for path, message in exc.errors
            )
            continue
        key = content.name.lower()
        if key in seen:
            errors.append(
                (
                    f"{where}.name",
                    f"{content.name!r} is also the name of events[{seen[key]}]"
                    " (event names ignore case).",
                )
            )
            continue
        seen[key] = index
        contents.append(content)
    return contents, errors


# --- the diff against the current plan -------------------------------------------------------


@dataclass(frozen=True)
class EventDiff:
    name: str
    kind: str  # "added" | "changed" | "unchanged"
    content: dict[str, Any]  # what the import writes (to_dict)
    changes: tuple[Change, ...] = ()


@dataclass(frozen=True)
class PlanDiff:
    events: tuple[EventDiff, ...]
    kept: tuple[str, ...]  # in the plan, not in the file: left as they are

    def of(self, kind: str) -> list[EventDiff]:
        return [event for event in self.events if event.kind == kind]

    @property
    def added(self) -> list[EventDiff]:
        return self.of("added")

    @property
    def changed(self) -> list[EventDiff]:
        return self.of("changed")

    @property
    def unchanged(self) -> list[EventDiff]:
        return self.of("unchanged")

    @property
    def writes(self) -> bool:
        return any(event.kind != "unchanged" for event in self.events)


def plan_diff(
    contents: Sequence[EventContent], current: Iterable[tuple[str, Mapping[str, Any]]]
) -> PlanDiff:
    """What importing ``contents`` would do to a plan whose events are ``current``
    (``(name, content)`` pairs): each event added, changed (with its readable changes) or
    unchanged, and the plan's events the file does not name (import never deletes)."""
    existing = {name.lower(): (name, content) for name, content in current}
    named = set()
    events = []
    for content in contents:
        after = content.to_dict()
        key = content.name.lower()
        named.add(key)
        if key not in existing:
            events.append(EventDiff(content.name, "added", after))
            continue
        before = existing[key][1]
        if before == after:
            events.append(EventDiff(content.name, "unchanged", after))
        else:
            changes = tuple(diff_events(before, after))
            events.append(EventDiff(content.name, "changed", after, changes))
    kept = tuple(
        sorted((name for key, (name, _) in existing.items() if key not in named), key=str.lower)
    )
    return PlanDiff(tuple(events), kept)
