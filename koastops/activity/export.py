"""Streaming exports of the activity log (CSV and JSON). Every cell of the CSV goes
through ``koastops.core.csvexport`` (formula-looking cells neutralised, as in every CSV
export of koastops)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from koastops.activity.models import ActivityEntry
from koastops.activity.verbs import VERBS
from koastops.core import csvexport

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


def _csv_cells(entry: ActivityEntry) -> list[str]:
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
    return [str(cell) for cell in cells]


def csv_lines(entries: Iterable[ActivityEntry]) -> Iterator[str]:
    return csvexport.csv_lines(CSV_COLUMNS, (_csv_cells(entry) for entry in entries))


def json_chunks(entries: Iterable[ActivityEntry]) -> Iterator[str]:
    """A JSON array, one object per chunk, without holding the whole log in memory."""
    yield "["
    for index, entry in enumerate(entries):
        yield ("," if index else "") + "\n" + json.dumps(entry_as_dict(entry), ensure_ascii=False)
    yield "\n]\n"
