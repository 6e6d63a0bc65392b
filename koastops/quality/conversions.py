"""CRM conversions from a CSV file or an API batch: parsing and validation, no writes.

The file is read as a stream (line by line from the storage's file object, which reads
in chunks), never whole into memory. Every problem is an error ``{row, column, message}``
where ``row`` is the record's number in the file as a spreadsheet numbers it (the header
is row 1, the first conversion row 2) and ``column`` the header name ("" for the row).

Columns (header names are matched case-insensitively, surrounding spaces ignored):

- ``event`` (required): an event of the brand's tracking plan, active or deprecated
  (deprecated events still have conversions to reconcile); a draft or unknown event is
  an error. Matched case-insensitively; stored with the plan's spelling.
- ``occurred_at`` (required): ISO 8601 with an offset or ``Z``; a naive time is an error
  (we would have to guess its time zone, and a guess moves conversions across days).
- ``external_id`` (required): the CRM's id, at most 200 characters; the same id twice in
  one file is an error on the later row naming the earlier one. A formula-looking id
  (starting ``= + - @``, tab or CR) is refused: ids never need it.
- ``value`` (optional): a decimal ≥ 0 with at most 2 decimals; ``currency`` (ISO 4217,
  3 letters) is then required.
- ``ad_account`` (optional): the external id of one of the brand's ad accounts.
- ``campaign`` (optional): free text up to 200 characters, stored as given; exports
  neutralise formula-looking cells (``koastops.core.csvexport``).

Unknown columns are ignored (and named in the import's message); duplicate or missing
required headers reject the file.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import IO, Any

from koastops.core.csvexport import FORMULA_PREFIXES

REQUIRED_COLUMNS = ("event", "occurred_at", "external_id")
OPTIONAL_COLUMNS = ("value", "currency", "ad_account", "campaign")
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS

# What the upload page shows and the template download holds.
COLUMN_HELP = {
    "event": "An event of the tracking plan (active or deprecated), e.g. Purchase.",
    "occurred_at": "ISO 8601 with a time zone: 2026-11-30T14:05:00+01:00 or …Z.",
    "external_id": "The CRM's id of the conversion; the same id again updates it.",
    "value": "Optional: a decimal ≥ 0, with a dot (49.90).",
    "currency": "ISO 4217 (EUR, USD); required when value is given.",
    "ad_account": "Optional: the ad account's external id (act_…).",
    "campaign": "Optional: the campaign name, as text.",
}
EXAMPLE_ROWS = [
    ["Purchase", "2026-11-30T14:05:00+01:00", "order-100231", "49.90", "EUR", "", ""],
    ["Lead", "2026-11-30T09:12:44Z", "lead-88812", "", "", "", "nl_leadgen_2611"],
]

MAX_ERRORS_KEPT = 1000  # per import: the rest are counted, not listed
_MAX_TEXT = 200
_CURRENCY = re.compile(r"[A-Z]{3}")
_CENT = Decimal("0.01")
_MAX_VALUE = Decimal("999999999999.99")  # max_digits=14, decimal_places=2


@dataclass(frozen=True, slots=True)
class RowError:
    row: int
    column: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass(frozen=True, slots=True)
class ConversionRow:
    """One valid conversion, ready to write."""

    row: int
    event: str
    occurred_at: datetime
    external_id: str
    value: Decimal | None
    currency: str
    ad_account_id: int | None
    campaign: str


@dataclass
class Vocabulary:
    """What a row's names resolve against: the brand's usable events (lower-cased name →
    plan spelling) and ad accounts (external id → pk)."""

    events: Mapping[str, str]
    ad_accounts: Mapping[str, int]


@dataclass
class HeaderResult:
    columns: dict[str, int] = field(default_factory=dict)  # column name -> cell index
    ignored: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def read_header(cells: list[str]) -> HeaderResult:
    result = HeaderResult()
    seen: dict[str, int] = {}
    for index, raw in enumerate(cells):
        name = raw.strip().lower()
        if name in seen:
            result.errors.append(
                RowError(
                    1,
                    name,
                    f"The column “{name}” appears twice (columns {seen[name] + 1} and "
                    f"{index + 1}); keep one.",
                )
            )
            continue
        seen[name] = index
        if name in COLUMNS:
            result.columns[name] = index
        elif name:
            result.ignored.append(raw.strip())
    for name in REQUIRED_COLUMNS:
        if name not in seen:
            result.errors.append(
                RowError(1, name, f"The required column “{name}” is missing from the header.")
            )
    return result


def parse_occurred_at(text: str) -> tuple[datetime | None, str]:
    if not text:
        return None, "Required: when the conversion happened (ISO 8601 with a time zone)."
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None, (
            f"“{_short(text)}” is not an ISO 8601 time; write e.g. 2026-11-30T14:05:00+01:00."
        )
    if moment.tzinfo is None or moment.utcoffset() is None:
        return None, (f"“{_short(text)}” has no time zone; add its offset (+01:00) or Z for UTC.")
    return moment, ""


def parse_value(text: str) -> tuple[Decimal | None, str]:
    if not text:
        return None, ""
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None, f"“{_short(text)}” is not a number; write it with a dot, e.g. 49.90."
    if not value.is_finite():
        return None, f"“{_short(text)}” is not a number; write it with a dot, e.g. 49.90."
    if value < 0:
        return None, "The value cannot be negative."
    if value > _MAX_VALUE:
        return None, "The value is too large."
    if value != value.quantize(_CENT):
        return None, "At most 2 decimals."
    return value.quantize(_CENT), ""


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def validate(
    values: Mapping[str, Any], row: int, vocabulary: Vocabulary
) -> tuple[ConversionRow | None, list[RowError]]:
    """One row's cells by column name (missing optional columns absent, None or "")."""

    def text(name: str) -> str:
        raw = values.get(name)
        return "" if raw is None else str(raw).strip()

    return validate_cells([text(name) for name in COLUMNS], row, vocabulary)


def validate_cells(
    cells: list[str], row: int, vocabulary: Vocabulary
) -> tuple[ConversionRow | None, list[RowError]]:
    """One row's stripped cells in ``COLUMNS`` order (the CSV's fast path)."""
    errors: list[RowError] = []
    for name, cell in zip(COLUMNS, cells, strict=True):
        if "\x00" in cell:  # PostgreSQL text cannot hold it
            errors.append(RowError(row, name, "Contains a NUL character; remove it."))
    if errors:
        return None, errors
    event_text, occurred_text, external_id, value_text, currency, account_text, campaign = cells
    event = vocabulary.events.get(event_text.lower()) if event_text else None
    if not event_text:
        errors.append(RowError(row, "event", "Required: a tracking-plan event name."))
    elif event is None:
        errors.append(
            RowError(
                row,
                "event",
                f"“{_short(event_text)}” is not an active or deprecated event of the "
                "tracking plan.",
            )
        )
    occurred_at, message = parse_occurred_at(occurred_text)
    if message:
        errors.append(RowError(row, "occurred_at", message))
    if not external_id:
        errors.append(RowError(row, "external_id", "Required: the CRM's id of the conversion."))
    elif len(external_id) > _MAX_TEXT:
        errors.append(RowError(row, "external_id", f"At most {_MAX_TEXT} characters."))
    elif external_id.startswith(FORMULA_PREFIXES):
        errors.append(
            RowError(
                row,
                "external_id",
                "An id cannot start with = + - @ (a spreadsheet would run it as a formula).",
            )
        )
    value, message = parse_value(value_text)
    if message:
        errors.append(RowError(row, "value", message))
    currency = currency.upper()
    if currency and not _CURRENCY.fullmatch(currency):
        errors.append(RowError(row, "currency", f"“{_short(currency)}” is not an ISO 4217 code."))
    elif value is not None and not currency:
        errors.append(RowError(row, "currency", "Required when a value is given (e.g. EUR)."))
    ad_account_id = vocabulary.ad_accounts.get(account_text) if account_text else None
    if account_text and ad_account_id is None:
        errors.append(
            RowError(
                row, "ad_account", f"“{_short(account_text)}” is not an ad account of the brand."
            )
        )
    if len(campaign) > _MAX_TEXT:
        errors.append(RowError(row, "campaign", f"At most {_MAX_TEXT} characters."))
    if errors or event is None or occurred_at is None:
        return None, errors
    return (
        ConversionRow(
            row=row,
            event=event,
            occurred_at=occurred_at,
            external_id=external_id,
            value=value,
            currency=currency,
            ad_account_id=ad_account_id,
            campaign=campaign,
        ),
        [],
    )


# --- the CSV stream -----------------------------------------------------------------------------


@dataclass
class ParseState:
    """What the stream found besides the rows: header problems, ignored columns, how many
    data rows and bytes were read."""

    header: HeaderResult | None = None
    rows_seen: int = 0
    bytes_read: int = 0
    empty: bool = False


def _decoded_lines(raw: IO[bytes], state: ParseState, bad_lines: set[int]) -> Iterator[str]:
    """The file's physical lines as text. A line that is not UTF-8 is decoded with
    replacement characters and its number noted, so the row that holds it is reported."""
    for number, line in enumerate(raw, start=1):
        state.bytes_read += len(line)
        if number == 1 and line.startswith(codecs.BOM_UTF8):
            line = line[len(codecs.BOM_UTF8) :]
        try:
            yield line.decode("utf-8")
        except UnicodeDecodeError:
            bad_lines.add(number)
            yield line.decode("utf-8", errors="replace")


def parse_csv(
    raw: IO[bytes], vocabulary: Vocabulary, state: ParseState
) -> Iterator[ConversionRow | RowError]:
    """The file's valid rows and its errors, in file order. Header errors end the stream
    (no row can be read against a bad header); so does a broken CSV structure."""
    bad_lines: set[int] = set()
    reader = csv.reader(_decoded_lines(raw, state, bad_lines), strict=True)
    seen_ids: dict[str, int] = {}
    last_line = 0
    record = 0
    header: HeaderResult | None = None
    positions: list[int] = []
    try:
        for cells in reader:
            first_line, last_line = last_line + 1, reader.line_num
            record += 1
            broken = bool(bad_lines) and any(
                n in bad_lines for n in range(first_line, last_line + 1)
            )
            if header is None:
                if broken:
                    state.header = HeaderResult(
                        errors=[RowError(1, "", "The header is not valid UTF-8 text.")]
                    )
                    yield from state.header.errors
                    return
                header = read_header(cells)
                state.header = header
                if header.errors:
                    yield from header.errors
                    return
                positions = [header.columns.get(name, -1) for name in COLUMNS]
                continue
            if not cells or all(not cell.strip() for cell in cells):
                continue  # blank line
            state.rows_seen += 1
            if broken:
                yield RowError(
                    record,
                    "",
                    "This row is not valid UTF-8 text; save the file as UTF-8 (CSV UTF-8).",
                )
                continue
            width = len(cells)
            row, errors = validate_cells(
                [cells[i].strip() if 0 <= i < width else "" for i in positions],
                record,
                vocabulary,
            )
            if row is None:
                yield from errors
                continue
            earlier = seen_ids.get(row.external_id)
            if earlier is not None:
                yield RowError(
                    record,
                    "external_id",
                    f"“{_short(row.external_id)}” is also on row {earlier}; an id may appear "
                    "once per file.",
                )
                continue
            seen_ids[row.external_id] = record
            yield row
    except csv.Error as exc:
        yield RowError(
            record + 1, "", f"The CSV is malformed here ({exc}); nothing after it was read."
        )
        return
    if header is None:
        state.empty = True
        yield RowError(1, "", "The file is empty: it needs a header row and conversion rows.")


def vocabulary_for(brand: Any, ad_accounts: Iterable[Any] | None = None) -> Vocabulary:
    """The brand's active and deprecated events and its ad accounts (two queries)."""
    from koastops.catalog.models import AdAccount
    from koastops.taxonomy.models import EventDefinition, EventStatus

    names = EventDefinition.objects.filter(
        brand=brand, status__in=[EventStatus.ACTIVE, EventStatus.DEPRECATED]
    ).values_list("name", flat=True)
    accounts = ad_accounts if ad_accounts is not None else AdAccount.objects.filter(brand=brand)
    return Vocabulary(
        events={name.lower(): name for name in names},
        ad_accounts={account.external_id: account.pk for account in accounts},
    )


def template_lines() -> Iterator[str]:
    """The template CSV: the header and the example rows."""
    from koastops.core.csvexport import csv_lines

    return csv_lines(list(COLUMNS), EXAMPLE_ROWS)
