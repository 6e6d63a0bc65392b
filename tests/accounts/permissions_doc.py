"""Reads the capability table of docs/permissions.md, the page users read, so the tests
check the code against what users are told."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from koastops.accounts.models import Role

DOC = Path(__file__).resolve().parents[2] / "docs" / "permissions.md"
COLUMNS = ["admin", "ops lead", "media buyer", "legal reviewer", "analyst"]
ROLE_BY_COLUMN = {
    "ops lead": Role.OPS_LEAD,
    "media buyer": Role.MEDIA_BUYER,
    "legal reviewer": Role.LEGAL_REVIEWER,
    "analyst": Role.ANALYST,
}


@cache
def capability_table() -> dict[str, dict[str, bool]]:
    """{capability: {column: allowed}} from the markdown table."""
    table: dict[str, dict[str, bool]] = {}
    header: list[str] | None = None
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if not line.startswith("|"):
            header = None  # the capability table ended (other tables follow it)
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if cells[0] == "capability":
            header = cells
            continue
        if header is None or set(cells[0]) <= {"-"}:
            continue
        capability = cells[0].strip("`")
        table[capability] = {column: cells[header.index(column)] == "yes" for column in COLUMNS}
    return table


def roles_allowed(capability: str) -> frozenset[Role]:
    row = capability_table()[capability]
    return frozenset(role for column, role in ROLE_BY_COLUMN.items() if row[column])
