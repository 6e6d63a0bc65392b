"""Streaming exports of the activity log (CSV and JSON), and the CSV cell neutraliser every
CSV export of koastops uses.

A spreadsheet opening a CSV runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a
formula (and tab or carriage return can smuggle one past a naive check), so any user text
could call out to the network or run a command on the reader's machine ("CSV injection").
``neutralise_cell`` prefixes such cells with a single quote, which spreadsheets show as
text; the exported file stays plain CSV.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from typing import Any

from koastops.activity.models import ActivityEntry
from koastops.activity.verbs import VERBS

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

CSV_COLUMNS = [
    "created_at",
    "actor",
    "verb",
    "description",
    "target_type",
    "target_id",
    "target",
    "before",
    "after",
    "ip",
    "request_id",
    "prev_hash",
    "hash",
    "key_id",
]


def neutralise_cell(value: str) -> str:
    """``value`` made safe to open in a spreadsheet: a leading formula character gets a
    single quote in front of it. Everything else is returned unchanged."""
    if value and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def entry_as_dict(entry: ActivityEntry) -> dict[str, Any]:
    """One entry as JSON-ready data, hash chain included (so an export can be verified)."""
    return {
        "id": entry.pk,
        "created_at": entry.created_at.isoformat(),
        "actor": entry.actor_label,
        "actor_id": entry.actor_id,
        "verb": entry.verb,
        "description": VERBS.get(entry.verb, entry.verb),
        "brand_id": entry.brand_id,
        "target_type": entry.target_type,
        "target_id": entry.target_id,
        "target": entry.target_label,
        "before": entry.before,
        "after": entry.after,
        "ip": entry.ip,
        "request_id": entry.request_id,
        "prev_hash": entry.prev_hash,
        "hash": entry.hash,
        "key_id": entry.key_id,
    }


def _json_text(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _csv_row(entry: ActivityEntry) -> list[str]:
    data = entry_as_dict(entry)
    cells = [
        data["created_at"],
        data["actor"],
        data["verb"],
        data["description"],
        data["target_type"],
        data["target_id"],
        data["target"],
        _json_text(data["before"]),
        _json_text(data["after"]),
        data["ip"] or "",
        data["request_id"],
        data["prev_hash"],
        data["hash"],
        data["key_id"],
    ]
    return [neutralise_cell(str(cell)) for cell in cells]


class _Echo:
    """A file-like object whose ``write`` hands the line back (csv writes one row at a time)."""

    def write(self, value: str) -> str:
        return value


def csv_lines(entries: Iterable[ActivityEntry]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    for entry in entries:
        yield writer.writerow(_csv_row(entry))


def json_chunks(entries: Iterable[ActivityEntry]) -> Iterator[str]:
    """A JSON array, one object per chunk, without holding the whole log in memory."""
    yield "["
    for index, entry in enumerate(entries):
        yield ("," if index else "") + "\n" + json.dumps(entry_as_dict(entry), ensure_ascii=False)
    yield "\n]\n"
