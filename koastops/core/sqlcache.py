"""Queries that every page runs, compiled to SQL once per process.

Building and compiling a queryset costs the ORM 0.3-1 ms of Python, many times what the
database needs to answer the small lookups every page makes (the brand in the URL with the
user's role, the brand switcher, "is this user narrowed anywhere"). ``rows(key, build,
*values)`` builds the queryset once, with marker arguments, keeps its SQL and where each
marker went among the parameters, and from then on runs that SQL with the real values:
the same statement the ORM would send, without rebuilding it.

``build(*markers)`` must return a ``values_list()`` queryset whose shape does not depend
on the values (a marker goes where the value goes: ``filter(user_id=marker)``), and every
value must be an ``int``, a ``str``, a ``list`` of ints (bound as ONE parameter, as
``core.lookups.any_of`` does on PostgreSQL) or an aware ``datetime``, that the query uses
as a plain parameter. A query where a value does not come out as one parameter (SQLite
expands ``any_of`` lists; it binds datetimes as text) is simply not cached. Results are
tuples, converted as the ORM converts them (the compiled query's field and backend
converters: datetimes come back aware, booleans as ``bool``). Cached per process.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connections
from django.db.models import QuerySet

# Markers: values no real argument has (ids are positive; slugs have no spaces).
_INT_MARKERS = tuple(-7_000_000_001 - i for i in range(8))
_STR_MARKERS = tuple(f"<sql-cache marker {i}>" for i in range(8))
_LIST_MARKERS = tuple([marker] for marker in _INT_MARKERS)
_DATETIME_MARKERS = tuple(
    datetime(1901, 2, 3, tzinfo=UTC) + timedelta(seconds=i, microseconds=7) for i in range(8)
)
_KINDS: dict[type, tuple[str, tuple[Any, ...]]] = {
    int: ("i", _INT_MARKERS),
    str: ("s", _STR_MARKERS),
    list: ("l", _LIST_MARKERS),
    datetime: ("d", _DATETIME_MARKERS),
}

_COMPILED: dict[tuple[str, str], tuple[Any, ...] | None] = {}


def _compile(build: Callable[..., QuerySet], values: tuple[Any, ...]) -> tuple[Any, ...] | None:
    markers = tuple(_KINDS[type(value)][1][i] for i, value in enumerate(values))
    queryset = build(*markers)
    query = queryset.query
    compiler = query.get_compiler(using=queryset.db)
    sql, params = compiler.as_sql()
    selected = [column[0] for column in compiler.select[: compiler.col_count]]
    converters = list(compiler.get_converters(selected).items())
    names = [*query.extra_select, *query.values_select, *query.annotation_select]
    # Where each value goes: (index, False) as the parameter itself, (index, True) inside a
    # ``contains`` pattern (``%value%``, LIKE-escaped as the ORM escapes it).
    positions: list[tuple[int, bool] | None] = []
    for param in params:
        if param in markers:
            positions.append((markers.index(param), False))
        elif isinstance(param, str) and param[:1] == "%" == param[-1:] and param[1:-1] in markers:
            positions.append((markers.index(param[1:-1]), True))
        else:
            positions.append(None)
    if sorted({pos[0] for pos in positions if pos}) != list(range(len(values))):
        return None  # a value does not appear as a plain parameter: no cache for this query
    return queryset.db, sql, list(params), positions, converters, names


def _run(
    key: str, build: Callable[..., QuerySet], values: tuple[Any, ...]
) -> tuple[list[tuple[Any, ...]], list[str]] | None:
    if any(type(value) not in _KINDS for value in values):
        return None
    if any(type(value) is datetime and value.tzinfo is None for value in values):
        return None
    cache_key = (key, "".join(_KINDS[type(value)][0] for value in values))
    try:
        compiled = _COMPILED[cache_key]
    except KeyError:
        compiled = _COMPILED[cache_key] = _compile(build, values)
    if compiled is None:
        return None
    alias, sql, params, positions, converters, names = compiled
    connection = connections[alias]
    args = []
    for param, pos in zip(params, positions, strict=True):
        if pos is None:
            args.append(param)
        elif pos[1]:
            args.append(f"%{connection.ops.prep_for_like_query(values[pos[0]])}%")
        else:
            args.append(values[pos[0]])
    with connection.cursor() as cursor:
        cursor.execute(sql, args)
        found = cursor.fetchall()
    if not converters:
        return [tuple(row) for row in found], names
    result = []
    for raw in found:
        row = list(raw)
        for index, (functions, expression) in converters:
            value = row[index]
            for function in functions:
                value = function(value, expression, connection)
            row[index] = value
        result.append(tuple(row))
    return result, names


Value = int | str | list[int] | datetime


def rows(key: str, build: Callable[..., QuerySet], *values: Value) -> list[tuple[Any, ...]]:
    """The rows of ``build(*values)`` (a ``values_list()`` queryset), from cached SQL."""
    found = _run(key, build, values)
    if found is None:
        return list(build(*values))
    return found[0]


def dict_rows(key: str, build: Callable[..., QuerySet], *values: Value) -> list[dict[str, Any]]:
    """The rows of ``build(*values)`` (a ``values()`` queryset), from cached SQL. A ``str``
    value may also be used in a ``contains``/``icontains`` lookup."""
    found = _run(key, build, values)
    if found is None:
        return list(build(*values))
    result, names = found
    return [dict(zip(names, row, strict=True)) for row in result]
