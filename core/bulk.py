"""Many values in one short statement: a column's values travel as one array parameter.

A multi-row `VALUES` list, or an `IN (…)` list, is as long as its values, so SQLAlchemy compiles it and the driver
parses it anew for every count; an `executemany` costs the database one statement per row. An array parameter keeps
the statement the same short text for any number of values, compiled once: `insert_rows` unnests one array per
column, `among` compares with `= ANY(array)`. JSON columns travel as JSON text (SQL NULL for None, never JSON null).
"""

import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from functools import cache
from typing import Any, TypeVar, cast

from sqlalchemy import ColumnElement, DateTime, Table, TextClause, any_, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, QueryableAttribute
from sqlalchemy.sql.type_api import TypeEngine

T = TypeVar("T")

_ARRAY_TYPES: dict[type, str] = {str: "text", bool: "boolean", int: "bigint", uuid.UUID: "uuid", date: "date"}
"""The SQL array each kind of column is sent as; the statement casts to the column's own type on assignment."""


def array_parameter(name: str, kind: TypeEngine[Any]) -> str:
    """SQL for the array parameter `:name` holding values of a column of type `kind`."""
    if isinstance(kind, JSONB):
        return f"CAST(CAST(:{name} AS text[]) AS jsonb[])"
    if isinstance(kind, DateTime):
        return f"CAST(:{name} AS {'timestamptz' if kind.timezone else 'timestamp'}[])"
    return f"CAST(:{name} AS {_ARRAY_TYPES[kind.python_type]}[])"


def array_values(kind: TypeEngine[Any], values: Sequence[Any]) -> list[Any]:
    """The values of one column as its array parameter wants them."""
    if isinstance(kind, JSONB):
        return [None if value is None else json.dumps(value) for value in values]
    return list(values)


@cache
def _insert_statement(table: Table, columns: tuple[str, ...]) -> TextClause:
    arrays = ", ".join(array_parameter(name, table.c[name].type) for name in columns)
    names = ", ".join(columns)
    return text(
        f"INSERT INTO {table.name} ({names}) SELECT {names} FROM unnest({arrays}) AS given ({names})"  # noqa: S608
    )  # (the names are a model's table and columns: `table.c[name]` refused any other)


def insert_statement(
    table: Table | type[DeclarativeBase], rows: Sequence[Mapping[str, Any]]
) -> tuple[TextClause, dict[str, Any]]:
    """The one statement (and its parameters) that INSERTs `rows` (dicts with the same keys, columns of `table`: a
    model or its Table); for a synchronous session, where `insert_rows` cannot be awaited."""
    resolved = table if isinstance(table, Table) else cast(Table, table.__table__)
    columns = tuple(rows[0])
    return _insert_statement(resolved, columns), {
        name: array_values(resolved.c[name].type, [row[name] for row in rows]) for name in columns
    }


async def insert_rows(
    session: AsyncSession, table: Table | type[DeclarativeBase], rows: Sequence[Mapping[str, Any]]
) -> None:
    """INSERT `rows` (dicts with the same keys, columns of `table`: a model or its Table) in one statement."""
    if not rows:
        return
    await session.execute(*insert_statement(table, rows))


def among(column: ColumnElement[T] | QueryableAttribute[T], values: Iterable[T]) -> ColumnElement[bool]:
    """`column = ANY(:values)`: SQL's `column IN (values)` as one array parameter, however many values."""
    return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
