"""Monthly partitions of ``quality_hourlystat`` on PostgreSQL (no-op elsewhere).

Migration 0001 creates the partitioned parent and a DEFAULT partition, so an insert never
fails for want of a partition. ``ensure_partitions`` (beat, daily; migration 0002; every
pull for its range) creates ``quality_hourlystat_yYYYYmMM`` for the months asked, each in
one transaction: rows of that month already in the DEFAULT partition are moved into a new
standalone table, which is then attached (``ATTACH PARTITION`` refuses while the default
partition still holds rows of the range, so the move comes first; the default partition is
locked meanwhile, so no insert slips in between). Old months are dropped for retention
with ``DROP TABLE`` on their partition (docs/scaling.md).
"""

from __future__ import annotations

import datetime as dt

from django.db import connection, transaction

PARENT = "quality_hourlystat"
DEFAULT = "quality_hourlystat_default"
_LOCK_KEY = 7_310_101  # pg_advisory_xact_lock: one partition maintenance at a time


def _month_start(moment: dt.datetime | dt.date) -> dt.date:
    return dt.date(moment.year, moment.month, 1)


def _add_months(month: dt.date, count: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + count
    return dt.date(index // 12, index % 12 + 1, 1)


def partition_name(month: dt.date) -> str:
    return f"{PARENT}_y{month.year:04d}m{month.month:02d}"


def _bound(month: dt.date) -> str:
    return f"{month.isoformat()} 00:00:00+00"


def existing_partitions() -> set[str]:
    """Names of the partitions attached to the parent (``pg_inherits``)."""
    if connection.vendor != "postgresql":
        return set()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT child.relname FROM pg_inherits"
            " JOIN pg_class parent ON parent.oid = pg_inherits.inhparent"
            " JOIN pg_class child ON child.oid = pg_inherits.inhrelid"
            " WHERE parent.relname = %s",
            [PARENT],
        )
        return {row[0] for row in cursor.fetchall()}


def _create_month(month: dt.date) -> None:
    name = partition_name(month)
    low, high = _bound(month), _bound(_add_months(month, 1))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
        if name in existing_partitions():
            return
        # Names are built from dates only (no user input), so formatting them is safe.
        cursor.execute(f"LOCK TABLE {DEFAULT} IN ACCESS EXCLUSIVE MODE")
        cursor.execute(f"DROP TABLE IF EXISTS {name}")  # a leftover of a failed attempt
        cursor.execute(f"CREATE TABLE {name} (LIKE {PARENT} INCLUDING DEFAULTS)")
        move = (
            f"WITH moved AS (DELETE FROM {DEFAULT} WHERE hour >= %s"  # noqa: S608 -- from dates
            f" AND hour < %s RETURNING *) INSERT INTO {name} SELECT * FROM moved"
        )
        cursor.execute(move, [low, high])
        cursor.execute(
            f"ALTER TABLE {PARENT} ATTACH PARTITION {name} FOR VALUES FROM (%s) TO (%s)",
            [low, high],
        )


def ensure_months(first: dt.date, last: dt.date) -> list[str]:
    """Create the partitions of every month from ``first`` to ``last`` (inclusive) that is
    missing; the names created."""
    if connection.vendor != "postgresql":
        return []
    existing = existing_partitions()
    created: list[str] = []
    month = _month_start(first)
    while month <= _month_start(last):
        if partition_name(month) not in existing:
            _create_month(month)
            created.append(partition_name(month))
        month = _add_months(month, 1)
    return created


def ensure_partitions(*, months_ahead: int = 2, months_back: int = 0) -> list[str]:
    """The current month (UTC), ``months_back`` before and ``months_ahead`` after."""
    this_month = _month_start(dt.datetime.now(dt.UTC))
    return ensure_months(
        _add_months(this_month, -months_back), _add_months(this_month, months_ahead)
    )


def ensure_partitions_for_range(start: dt.datetime, end: dt.datetime) -> list[str]:
    """The months an hourly range ``start <= hour < end`` touches (a backfill, a pull)."""
    last = (end - dt.timedelta(microseconds=1)).astimezone(dt.UTC)
    return ensure_months(_month_start(start.astimezone(dt.UTC)), _month_start(last))
