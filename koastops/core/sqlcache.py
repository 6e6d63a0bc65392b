"""Queries that every page runs, compiled to SQL once per process.

Building and compiling a queryset costs the ORM 0.3-1 ms of Python, many times what the
database needs to answer the small lookups every page makes (the brand in the URL with the
user's role, the brand switcher, "is this user narrowed anywhere"). ``rows(key, build,
*values)`` builds the queryset once, with marker arguments, keeps its SQL and where each
marker went among the parameters, and from then on runs that SQL with the real values:
the same statement the ORM would send, without rebuilding it.

``build(*markers)`` must return a ``values_list()`` queryset whose shape does not depend
on the values (a marker goes where the value goes: ``filter(user_id=marker)``), and every
value must be an ``int`` or a ``str`` that the query uses as a plain parameter. Results are
tuples, converted as the ORM converts them (the compiled query's field and backend
converters: datetimes come back aware, booleans as ``bool``). Cached per process.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import connections
from django.db.models import QuerySet

# Markers: values no real argument has (ids are positive; slugs have no spaces).
_INT_MARKERS = tuple(-7_000_000_001 - i for i in range(8))
_STR_MARKERS = tuple(f"<sql-cache marker {i}>" for i in range(8))

_COMPILED: dict[tuple[str, str], tuple[Any, ...] | None] = {}


def _compile(build: Callable[..., QuerySet], values: tuple[Any, ...]) -> tuple[Any, ...] | None:
    markers = tuple(
        _INT_MARKERS[i] if isinstance(value, int) else _STR_MARKERS[i]
        for i, value in enumerate(values)
    )
    queryset = build(*markers)
    compiler = queryset.query.get_compiler(using=queryset.db)
    sql, params = compiler.as_sql()
    selected = [column[0] for column in compiler.select[: compiler.col_count]]
    converters = list(compiler.get_converters(selected).items())
    positions = [markers.index(param) if param in markers else None for param in params]
    if sorted({pos for pos in positions if pos is not None}) != list(range(len(values))):
        return None  # a value does not appear as a plain parameter: no cache for this query
    return queryset.db, sql, list(params), positions, converters


def rows(key: str, build: Callable[..., QuerySet], *values: int | str) -> list[tuple[Any, ...]]:
    """The rows of ``build(*values)`` (a ``values_list()`` queryset), from cached SQL."""
    if any(type(value) not in (int, str) for value in values):
        return list(build(*values))
    cache_key = (key, "".join("i" if type(value) is int else "s" for value in values))
    try:
        compiled = _COMPILED[cache_key]
    except KeyError:
        compiled = _COMPILED[cache_key] = _compile(build, values)
    if compiled is None:
        return list(build(*values))
    alias, sql, params, positions, converters = compiled
    connection = connections[alias]
    args = [
        param if pos is None else values[pos] for param, pos in zip(params, positions, strict=True)
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, args)
        found = cursor.fetchall()
    if not converters:
        return [tuple(row) for row in found]
    result = []
    for row in found:
        row = list(row)
        for index, (functions, expression) in converters:
            value = row[index]
            for function in functions:
                value = function(value, expression, connection)
            row[index] = value
        result.append(tuple(row))
    return result
