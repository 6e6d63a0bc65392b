"""CRM conversions: the upload (UI), the import run (worker) and the API batch.

Idempotent by (brand, source, external id): a bulk upsert in batches (on PostgreSQL one
``INSERT … SELECT FROM unnest(…) ON CONFLICT DO UPDATE … WHERE IS DISTINCT FROM`` per
batch, so an unchanged row is neither rewritten nor counted as updated; elsewhere a
select, ``bulk_create`` and ``bulk_update``), counting created / updated / unchanged.

All-or-nothing by default: the import runs in one transaction, and any error rolls it
back (status rejected, nothing written). "Import the valid rows" writes those and reports
the rest. The rows, the import's final counts and its one ``conversion_import.finished``
activity row commit together. Progress (``processed_rows`` / ``total_rows``) is written
every batch on a second database connection in autocommit, so the page's progress bar
sees it while the import's own transaction is still open.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, connections, transaction
from django.db.models import Q
from django.utils import timezone

from koastops.accounts import policies
from koastops.activity.services import activity_record
from koastops.catalog.models import Brand
from koastops.quality import conversions as parsing
from koastops.quality.models import Conversion, ConversionImport, ImportMode, ImportStatus

logger = logging.getLogger(__name__)

BATCH_SIZE = 5000
API_MAX_ITEMS = 10_000
_SOURCE = re.compile(r"[a-z0-9][a-z0-9_.-]{0,39}")
# A running import whose worker died is taken over by the redelivered task after this.
STALE_RUNNING = timedelta(minutes=15)


def validate_source(source: str) -> str:
    source = (source or "").strip().lower()
    if not _SOURCE.fullmatch(source):
        raise ValidationError(
            {"source": "Letters, digits, dots, dashes or underscores (1 to 40), e.g. crm."}
        )
    return source


def max_size_label() -> str:
    limit = settings.CONVERSIONS_UPLOAD_MAX_BYTES
    return f"{limit / 2**20:.0f} MB" if limit >= 2**20 else f"{limit} bytes"


# --- upload (web) ------------------------------------------------------------------------------


def conversion_upload(
    *, actor: Any, brand: Brand, file: UploadedFile, mode: str, source: str
) -> ConversionImport:
    """Store the file, create its import record (queued) and enqueue the import after
    commit. The size is checked before a byte is read."""
    policies.require(
        policies.can(actor, "conversions.upload", brand), "You may not upload conversions."
    )
    limit = settings.CONVERSIONS_UPLOAD_MAX_BYTES
    if file.size is not None and file.size > limit:
        raise ValidationError(
            {
                "file": f"The file is {file.size / 2**20:.1f} MB; the limit is "
                f"{max_size_label()}. Split it into smaller files."
            }
        )
    if not file.size:
        raise ValidationError({"file": "The file is empty."})
    if mode not in ImportMode.values:
        raise ValidationError({"mode": "Choose all or nothing, or import the valid rows."})
    source = validate_source(source)
    from koastops.quality.tasks_conversions import conversion_import

    filename = (file.name or "conversions.csv")[-255:]
    with transaction.atomic():
        record = ConversionImport.objects.create(
            brand=brand,
            source=source,
            channel="upload",
            uploaded_by=actor,
            filename=filename,
            size_bytes=file.size,
            mode=mode,
        )
        record.file.save(f"{brand.pk}-{record.pk}.csv", file, save=False)
        ConversionImport.objects.filter(pk=record.pk).update(file=record.file.name)
        conversion_import.delay_on_commit(record.pk)
    return record


# --- the writes ----------------------------------------------------------------------------------


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def add(self, other: Counts) -> None:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged


# PostgreSQL: each batch is COPYed (text format, built from the parsed rows) into a
# session-local staging table, then upserted from it in one statement that counts what it
# created and updated (rows it neither inserted nor changed are the unchanged ones). COPY
# costs far less per row than binding parameters or arrays.
_STAGE = """
CREATE TEMP TABLE IF NOT EXISTS quality_conversion_stage (
    external_id text, event text, occurred_at timestamptz, value numeric, currency text,
    ad_account_id bigint, campaign text)
"""
_COPY = (
    "COPY quality_conversion_stage (external_id, event, occurred_at, value, currency,"
    " ad_account_id, campaign) FROM STDIN"
)
_UPSERT = """
WITH written AS (
INSERT INTO quality_conversion (brand_id, source, external_id, event, occurred_at, value,
    currency, ad_account_id, campaign, conversion_import_id, created_at, updated_at)
SELECT %s, %s, u.external_id, u.event, u.occurred_at, u.value, u.currency, u.ad_account_id,
    u.campaign, %s, now(), now()
FROM quality_conversion_stage AS u
ON CONFLICT (brand_id, source, external_id) DO UPDATE SET
    event = EXCLUDED.event, occurred_at = EXCLUDED.occurred_at, value = EXCLUDED.value,
    currency = EXCLUDED.currency, ad_account_id = EXCLUDED.ad_account_id,
    campaign = EXCLUDED.campaign, conversion_import_id = EXCLUDED.conversion_import_id,
    updated_at = EXCLUDED.updated_at
WHERE (quality_conversion.event, quality_conversion.occurred_at, quality_conversion.value,
       quality_conversion.currency, quality_conversion.ad_account_id,
       quality_conversion.campaign)
    IS DISTINCT FROM (EXCLUDED.event, EXCLUDED.occurred_at, EXCLUDED.value,
       EXCLUDED.currency, EXCLUDED.ad_account_id, EXCLUDED.campaign)
RETURNING (xmax = 0) AS created
)
SELECT count(*) FILTER (WHERE created), count(*) FROM written
"""
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value: str) -> str:
    return value.translate(_COPY_ESCAPES)


def _copy_lines(rows: Sequence[parsing.ConversionRow]) -> str:
    esc = _copy_text
    return "".join(
        f"{esc(r.external_id)}\t{esc(r.event)}\t{r.occurred_at.isoformat()}\t"
        f"{'\\N' if r.value is None else r.value}\t{esc(r.currency)}\t"
        f"{'\\N' if r.ad_account_id is None else r.ad_account_id}\t{esc(r.campaign)}\n"
        for r in rows
    )


def upsert(
    *, brand_id: int, source: str, import_id: int | None, rows: Sequence[parsing.ConversionRow]
) -> Counts:
    """Write one batch (ids unique within it); the caller holds the transaction."""
    if not rows:
        return Counts()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_STAGE)
            cursor.execute("TRUNCATE quality_conversion_stage")
            with cursor.cursor.copy(_COPY) as copy:
                copy.write(_copy_lines(rows))
            cursor.execute(_UPSERT, [brand_id, source, import_id])
            created, written = cursor.fetchone()
        return Counts(created, written - created, len(rows) - written)
    return _upsert_portable(brand_id=brand_id, source=source, import_id=import_id, rows=rows)


_COMPARED = ("event", "occurred_at", "value", "currency", "ad_account_id", "campaign")


def _upsert_portable(
    *, brand_id: int, source: str, import_id: int | None, rows: Sequence[parsing.ConversionRow]
) -> Counts:
    existing = {
        c.external_id: c
        for c in Conversion.objects.filter(
            brand_id=brand_id, source=source, external_id__in=[r.external_id for r in rows]
        )
    }
    new, changed, counts = [], [], Counts()
    now = timezone.now()
    for r in rows:
        current = existing.get(r.external_id)
        fields = {name: getattr(r, name) for name in _COMPARED}
        if current is None:
            new.append(
                Conversion(
                    brand_id=brand_id,
                    source=source,
                    external_id=r.external_id,
                    conversion_import_id=import_id,
                    **fields,
                )
            )
        elif any(getattr(current, name) != value for name, value in fields.items()):
            for name, value in fields.items():
                setattr(current, name, value)
            current.conversion_import_id = import_id
            current.updated_at = now
            changed.append(current)
        else:
            counts.unchanged += 1
    Conversion.objects.bulk_create(new)
    Conversion.objects.bulk_update(changed, [*_COMPARED, "conversion_import_id", "updated_at"])
    counts.created, counts.updated = len(new), len(changed)
    return counts


# --- the import run (worker) -----------------------------------------------------------------


class _Rejected(Exception):
    """Raised inside the import's transaction to roll it back (all or nothing)."""

    def __init__(self, record: ConversionImport) -> None:
        self.record = record
        super().__init__(record.pk)


class _Progress:
    """``processed_rows`` / ``total_rows`` written on a connection of its own
    (autocommit), visible while the import's transaction is open."""

    def __init__(self, import_id: int) -> None:
        self.import_id = import_id
        self._connection: Any = None

    def _execute(self, sql: str, params: list[Any]) -> None:
        # SQLite has one writer at a time: a second connection would wait for the
        # import's own transaction. There the page sees the status at the end only.
        if connection.vendor != "postgresql":
            return
        try:
            if self._connection is None:
                self._connection = connections.create_connection("default")
            with self._connection.cursor() as cursor:
                cursor.execute(sql, params)
        except Exception:  # progress is a nicety: never fail the import over it
            logger.warning("Could not report the progress of import %s", self.import_id)

    def start(self, started_at: Any) -> None:
        """Running, from now (what the page shows while the transaction is open)."""
        self._execute(
            "UPDATE quality_conversionimport SET status = %s, started_at = %s,"
            " processed_rows = 0 WHERE id = %s AND status IN (%s, %s)",
            [
                ImportStatus.RUNNING,
                started_at,
                self.import_id,
                ImportStatus.QUEUED,
                ImportStatus.RUNNING,
            ],
        )

    def report(self, processed: int, total: int) -> None:
        self._execute(
            "UPDATE quality_conversionimport SET processed_rows = %s, total_rows = %s"
            " WHERE id = %s AND status = %s",
            [processed, max(total, processed), self.import_id, ImportStatus.RUNNING],
        )

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()


@dataclass
class _Outcome:
    counts: Counts = field(default_factory=Counts)
    errors: list[dict[str, Any]] = field(default_factory=list)
    error_rows: int = 0
    valid_rows: int = 0
    total_rows: int = 0
    ignored: list[str] = field(default_factory=list)
    fatal: bool = False  # the header or the file itself is wrong


# pg_try_advisory_xact_lock(class, id): held by the run's transaction, so it is released
# the moment that transaction ends, also when its worker is killed.
_LOCK_CLASS = 0x43524D  # "CRM"


def _claim(import_id: int) -> ConversionImport | None:
    """Inside the import's transaction: the import if this run may work on it (None when
    another run is on it or it has finished). On PostgreSQL an advisory lock says whether
    a run is alive, so a run whose worker died (its transaction rolled back, status still
    running) is taken over at once by the redelivered task; elsewhere, queued → running
    by compare-and-set, and a running import is taken over after ``STALE_RUNNING``."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_try_advisory_xact_lock(%s, %s)", [_LOCK_CLASS, import_id % 2**31]
            )
            (locked,) = cursor.fetchone()
        if not locked:
            return None
        record = ConversionImport.objects.select_related("brand", "uploaded_by").get(pk=import_id)
        return record if record.status in (ImportStatus.QUEUED, ImportStatus.RUNNING) else None
    stale = timezone.now() - STALE_RUNNING
    claimed = (
        ConversionImport.objects.filter(pk=import_id)
        .filter(
            Q(status=ImportStatus.QUEUED)
            | Q(status=ImportStatus.RUNNING, started_at__lt=stale)
            | Q(status=ImportStatus.RUNNING, started_at__isnull=True)
        )
        .update(status=ImportStatus.RUNNING, started_at=timezone.now())
    )
    if not claimed:
        return None
    return ConversionImport.objects.select_related("brand", "uploaded_by").get(pk=import_id)


def conversion_import_run(import_id: int) -> ConversionImport:
    """Validate and write one uploaded file (the task's body). Idempotent: a finished
    import is returned as it is; an import whose run died starts over in a new
    transaction (the dead one's rolled back), and the upsert makes its rows the same."""
    progress = _Progress(import_id)
    outcome = _Outcome()
    try:
        with transaction.atomic():
            record = _claim(import_id)
            if record is None:
                return ConversionImport.objects.get(pk=import_id)
            record.status, record.started_at = ImportStatus.RUNNING, timezone.now()
            progress.start(record.started_at)
            actor = record.uploaded_by
            brand = record.brand
            accounts = (
                policies.ad_accounts_for(actor, brand)
                if actor is not None
                else brand.ad_accounts.all()
            )
            vocabulary = parsing.vocabulary_for(brand, accounts)
            _import_rows(record, vocabulary, progress, outcome)
            rejected = outcome.fatal or (
                outcome.errors and record.mode == ImportMode.ALL_OR_NOTHING
            )
            if rejected:
                raise _Rejected(record)
            _finish(record, outcome, ImportStatus.SUCCEEDED, actor)
    except _Rejected as rejection:
        with transaction.atomic():
            outcome.counts = Counts()
            _finish(rejection.record, outcome, ImportStatus.REJECTED, rejection.record.uploaded_by)
    except Exception as exc:
        logger.exception("Conversion import %s failed", import_id)
        ConversionImport.objects.filter(pk=import_id).update(
            status=ImportStatus.FAILED,
            finished_at=timezone.now(),
            message=f"The import failed ({type(exc).__name__}); nothing was imported. "
            "Upload the file again; if it fails again, tell an admin.",
        )
    finally:
        progress.close()
    return ConversionImport.objects.get(pk=import_id)


def _import_rows(
    record: ConversionImport,
    vocabulary: parsing.Vocabulary,
    progress: _Progress,
    outcome: _Outcome,
) -> None:
    state = parsing.ParseState()
    batch: list[parsing.ConversionRow] = []
    rows_with_errors: set[int] = set()
    size = record.size_bytes or 1
    write = record.mode == ImportMode.VALID_ROWS

    def flush() -> None:
        if write or not outcome.errors:
            outcome.counts.add(
                upsert(
                    brand_id=record.brand_id,
                    source=record.source,
                    import_id=record.pk,
                    rows=batch,
                )
            )
        batch.clear()
        estimate = state.rows_seen * size // max(state.bytes_read, 1)
        progress.report(state.rows_seen, estimate)

    with record.file.open("rb") as raw:
        for item in parsing.parse_csv(raw, vocabulary, state):
            if isinstance(item, parsing.RowError):
                rows_with_errors.add(item.row)
                if len(outcome.errors) < parsing.MAX_ERRORS_KEPT:
                    outcome.errors.append(item.as_dict())
                if item.row == 1 or (item.column == "" and "malformed" in item.message):
                    outcome.fatal = True
                continue
            outcome.valid_rows += 1
            batch.append(item)
            if len(batch) >= BATCH_SIZE:
                flush()
    flush()
    if state.header is not None:
        outcome.ignored = state.header.ignored
    outcome.total_rows = state.rows_seen
    outcome.error_rows = len(rows_with_errors - {1})


def _finish(record: ConversionImport, outcome: _Outcome, status: str, actor: Any) -> None:
    counts = outcome.counts
    record.status = status
    record.finished_at = timezone.now()
    record.total_rows = outcome.total_rows
    record.processed_rows = outcome.total_rows
    record.created_rows = counts.created
    record.updated_rows = counts.updated
    record.unchanged_rows = counts.unchanged
    record.error_rows = outcome.error_rows
    record.errors = outcome.errors
    record.message = _message(record, outcome)
    record.save()
    activity_record(
        verb="conversion_import.finished",
        actor=actor,
        target=record,
        brand=record.brand,
        target_label=record.filename or f"import {record.pk}",
        after={
            "status": status,
            "mode": record.mode,
            "source": record.source,
            "channel": record.channel,
            "rows": record.total_rows,
            "created": counts.created,
            "updated": counts.updated,
            "unchanged": counts.unchanged,
            "errors": record.error_rows,
        },
    )


def _message(record: ConversionImport, outcome: _Outcome) -> str:
    parts = []
    if record.status == ImportStatus.REJECTED:
        if outcome.fatal:
            parts.append("The file could not be read as documented; nothing was imported.")
        else:
            parts.append(
                f"{outcome.error_rows} of {outcome.total_rows} rows have errors; nothing was "
                "imported (all or nothing). Fix the rows below and upload the file again, or "
                "upload it with “Import the valid rows”."
            )
    else:
        c = outcome.counts
        parts.append(f"{c.created} created, {c.updated} updated, {c.unchanged} unchanged.")
        if outcome.error_rows == 1:
            parts.append("1 row with errors was skipped.")
        elif outcome.error_rows:
            parts.append(f"{outcome.error_rows} rows with errors were skipped.")
    if outcome.ignored:
        parts.append("Ignored columns: " + ", ".join(outcome.ignored[:10]) + ".")
    if len(outcome.errors) >= parsing.MAX_ERRORS_KEPT:
        parts.append(f"Only the first {parsing.MAX_ERRORS_KEPT} errors are listed.")
    return " ".join(parts)


# --- the API batch -------------------------------------------------------------------------------


@dataclass
class IngestResult:
    conversion_import: ConversionImport | None
    created: int
    updated: int
    unchanged: int
    errors: list[dict[str, Any]]  # [{"index", "field", "message"}]


class IngestRejected(Exception):
    """Some items are invalid and the batch is all or nothing: nothing was written."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        self.errors = errors
        super().__init__(f"{len(errors)} errors")


def conversions_api_ingest(
    *,
    actor: Any,
    brand: Brand,
    source: str,
    items: Sequence[Mapping[str, Any]],
    partial: bool = False,
) -> IngestResult:
    """Validate and write a batch synchronously (≤ ``API_MAX_ITEMS``). All or nothing
    unless ``partial``: then the valid items are written and the others reported. An
    import record (channel api) and its activity row commit with the rows."""
    policies.require(
        policies.can(actor, "conversions.upload", brand), "You may not upload conversions."
    )
    source = validate_source(source)
    if len(items) > API_MAX_ITEMS:
        raise ValidationError({"conversions": f"At most {API_MAX_ITEMS} conversions per batch."})
    if not items:
        return IngestResult(None, 0, 0, 0, [])  # nothing to record
    vocabulary = parsing.vocabulary_for(brand, policies.ad_accounts_for(actor, brand))
    rows, errors = _validate_items(items, vocabulary)
    if errors and not partial:
        raise IngestRejected(errors)
    with transaction.atomic():
        record = ConversionImport.objects.create(
            brand=brand,
            source=source,
            channel="api",
            uploaded_by=actor,
            filename="API batch",
            mode=ImportMode.VALID_ROWS if partial else ImportMode.ALL_OR_NOTHING,
            status=ImportStatus.RUNNING,
            started_at=timezone.now(),
        )
        counts = Counts()
        for start in range(0, len(rows), BATCH_SIZE):
            counts.add(
                upsert(
                    brand_id=brand.pk,
                    source=source,
                    import_id=record.pk,
                    rows=rows[start : start + BATCH_SIZE],
                )
            )
        outcome = _Outcome(
            counts=counts,
            errors=[
                {"row": e["index"], "column": e["field"], "message": e["message"]}
                for e in errors[: parsing.MAX_ERRORS_KEPT]
            ],
            error_rows=len({e["index"] for e in errors}),
            valid_rows=len(rows),
            total_rows=len(items),
        )
        _finish(record, outcome, ImportStatus.SUCCEEDED, actor)
    return IngestResult(record, counts.created, counts.updated, counts.unchanged, errors)


def _validate_items(
    items: Iterable[Mapping[str, Any]], vocabulary: parsing.Vocabulary
) -> tuple[list[parsing.ConversionRow], list[dict[str, Any]]]:
    rows: list[parsing.ConversionRow] = []
    errors: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        row, row_errors = parsing.validate(item, index, vocabulary)
        errors.extend({"index": index, "field": e.column, "message": e.message} for e in row_errors)
        if row is None:
            continue
        earlier = seen.get(row.external_id)
        if earlier is not None:
            errors.append(
                {
                    "index": index,
                    "field": "external_id",
                    "message": f"The same external_id as conversion {earlier} of this batch.",
                }
            )
            continue
        seen[row.external_id] = index
        rows.append(row)
    return rows, errors
