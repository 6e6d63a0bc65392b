"""CSV for spreadsheets: cells that cannot run as formulas, streamed row by row.

A spreadsheet opening a CSV runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a
formula (and tab or carriage return can smuggle one past a naive check), so any user text
could call out to the network or run a command on the reader's machine ("CSV injection").
``neutralise_cell`` prefixes such cells with a single quote, which spreadsheets show as
text; the exported file stays plain CSV. Every CSV export of koastops uses it."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Sequence

# A cell starting with one of these is a formula to a spreadsheet (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value: str) -> str:
    """``value`` made safe to open in a spreadsheet: a leading formula character gets a
    single quote in front of it. Everything else is returned unchanged."""
    if value and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


class _Echo:
    """A file-like object whose ``write`` hands the line back (csv writes one row at a time)."""

    def write(self, value: str) -> str:
        return value


def csv_lines(
    header: Sequence[str], rows: Iterable[Sequence[str]], *, neutralise: bool = True
) -> Iterator[str]:
    """The header, then each row, one CSV line at a time (for a ``StreamingHttpResponse``);
    every cell of the rows neutralised — unless ``neutralise=False``: the caller then
    neutralises its text cells itself and keeps numbers (a negative one too) as numbers."""
    writer = csv.writer(_Echo())
    yield writer.writerow(header)
    for row in rows:
        yield writer.writerow([neutralise_cell(cell) for cell in row] if neutralise else row)
