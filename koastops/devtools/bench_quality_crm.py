"""The CRM import's part of ``manage.py bench``: how fast a CSV of conversions is
imported through ``conversion_import_run`` (parse, validate, bulk upsert, one activity
row) in rows per second, and as a ratio to psycopg ``COPY`` of the same rows into the
same table in the same run (the floor: no parsing, no validation, no conflict checks).
Targets: ≥ ``RATE_TARGET`` rows/s and ≤ ``RATIO_TARGET`` times the time of COPY.

Both write new rows (the import under source ``bench-import``, COPY under ``bench-copy``),
and both sets are deleted afterwards, so a re-run measures the same work.
"""

from __future__ import annotations

import datetime as dt
import io
import time
from dataclasses import dataclass
from decimal import Decimal

from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.utils import timezone

RATE_TARGET = 20_000  # rows/s
RATIO_TARGET = 3.0
BENCH_CRM_ROWS = 100_000
_EVENT = "BenchCrmPurchase"
_HEADER = "event,occurred_at,external_id,value,currency,ad_account,campaign\n"


@dataclass
class CrmBenchResult:
    rows: int
    import_seconds: float
    copy_seconds: float
    status: str

    @property
    def rate(self) -> float:
        return self.rows / self.import_seconds if self.import_seconds else 0.0

    @property
    def copy_rate(self) -> float:
        return self.rows / self.copy_seconds if self.copy_seconds else 0.0

    @property
    def ratio(self) -> float:
        return self.import_seconds / self.copy_seconds if self.copy_seconds else 0.0


def crm_rows_for(brands: int, pixels: int) -> int:
    """The bench's size scaled with its dataset: 100,000 rows at the default 200 brands
    of 10 pixels, a few hundred in the tests' tiny runs."""
    return max(100, min(BENCH_CRM_ROWS, brands * pixels * 50))


def _moments(rows: int) -> list[dt.datetime]:
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    return [start + dt.timedelta(seconds=37 * i) for i in range(rows)]


def _csv(rows: int) -> bytes:
    out = io.StringIO()
    out.write(_HEADER)
    for i, moment in enumerate(_moments(rows)):
        out.write(
            f"{_EVENT},{moment.isoformat()},bench-{i:08d},{(i % 500) + 0.99:.2f},EUR,,"
            f"bench_campaign_{i % 40}\n"
        )
    return out.getvalue().encode()


def measure_crm_import(
    *, brand_slug: str | None = None, rows: int = BENCH_CRM_ROWS
) -> CrmBenchResult:
    from koastops.catalog.models import Brand
    from koastops.quality.conversion_services import conversion_import_run
    from koastops.quality.models import Conversion, ConversionImport
    from koastops.taxonomy.models import EventDefinition

    brand = (
        Brand.objects.get(slug=brand_slug) if brand_slug else Brand.objects.order_by("pk").first()
    )
    if brand is None:
        raise RuntimeError("the CRM bench needs a brand")
    EventDefinition.objects.get_or_create(
        brand=brand, name=_EVENT, defaults={"status": "active", "sources": "server"}
    )
    Conversion.objects.filter(brand=brand, source__in=["bench-import", "bench-copy"]).delete()
    data = _csv(rows)
    record = ConversionImport.objects.create(
        brand=brand, source="bench-import", filename="bench.csv", size_bytes=len(data)
    )
    record.file.save(f"bench-{record.pk}.csv", ContentFile(data), save=True)

    started = time.perf_counter()
    record = conversion_import_run(record.pk)
    import_seconds = time.perf_counter() - started

    now = timezone.now()
    moments = _moments(rows)
    if connection.vendor != "postgresql":  # no COPY: the import rate only
        Conversion.objects.filter(brand=brand, source="bench-import").delete()
        record.file.delete(save=False)
        return CrmBenchResult(rows, import_seconds, 0.0, record.status)
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg's own cursor: COPY
        with raw.copy(
            "COPY quality_conversion (brand_id, source, external_id, event, occurred_at, value,"
            " currency, ad_account_id, campaign, conversion_import_id, created_at, updated_at)"
            " FROM STDIN"
        ) as copy:
            for i, moment in enumerate(moments):
                copy.write_row(
                    (
                        brand.pk,
                        "bench-copy",
                        f"bench-{i:08d}",
                        _EVENT,
                        moment,
                        Decimal(f"{(i % 500) + 0.99:.2f}"),
                        "EUR",
                        None,
                        f"bench_campaign_{i % 40}",
                        None,
                        now,
                        now,
                    )
                )
    copy_seconds = time.perf_counter() - started
    Conversion.objects.filter(brand=brand, source__in=["bench-import", "bench-copy"]).delete()
    record.file.delete(save=False)
    return CrmBenchResult(rows, import_seconds, copy_seconds, record.status)


def crm_markdown(result: CrmBenchResult) -> list[str]:
    rate_ok = "meets" if result.rate >= RATE_TARGET else "**misses**"
    ratio_ok = "meets" if result.ratio <= RATIO_TARGET else "**misses**"
    return [
        "## CRM conversion import",
        "",
        f"A CSV of {result.rows:,} conversions imported through `conversion_import_run`"
        " (streamed parse, validation, bulk upsert in batches, one activity row), against"
        " psycopg `COPY` of the same rows into the same table in the same run.",
        "",
        "| measure | value | target |",
        "|---|---:|---|",
        f"| import rate | {result.rate:,.0f} rows/s | ≥ {RATE_TARGET:,} rows/s ({rate_ok}) |",
        f"| COPY rate | {result.copy_rate:,.0f} rows/s | (the floor) |",
        f"| import / COPY time | {result.ratio:.2f}x | ≤ {RATIO_TARGET:.0f}x ({ratio_ok}) |"
        if result.copy_seconds
        else "| import / COPY time | n/a (not PostgreSQL) | |",
        f"| import status | {result.status} | succeeded |",
    ]
