"""Bulk inserts of projection rows through the driver's executemany.

SQLAlchemy Core processes every parameter of every row in Python (about 4 µs a row here);
projection rows are already plain values, so they go to the driver as tuples instead.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Date, Table

_Plan = tuple[str, Callable[[dict[str, Any]], tuple[Any, ...]]]
_PLANS: dict[tuple[str, str], _Plan] = {}


def _iso(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


def placeholder(conn: Connection) -> str:
    """The driver's parameter marker: `?` for sqlite3, `%s` for psycopg."""
    return "?" if conn.dialect.paramstyle == "qmark" else "%s"


def columns(conn: Connection, table: Table) -> str:
    """Every column of `table`, quoted for this dialect, in table order."""
    quote = conn.dialect.identifier_preparer.quote
    return ", ".join(quote(c.name) for c in table.columns)


def insert_sql(conn: Connection, table: Table) -> str:
    """An INSERT of every column of `table` with the driver's parameter markers."""
    markers = ", ".join(placeholder(conn) for _ in table.columns)
    quote = conn.dialect.identifier_preparer.quote
    return f"INSERT INTO {quote(table.name)} ({columns(conn, table)}) VALUES ({markers})"


def _plan(conn: Connection, table: Table) -> _Plan:
    """The INSERT text and the dict-to-tuple function of `table` on this dialect."""
    key = (conn.dialect.name, table.name)
    plan = _PLANS.get(key)
    if plan is not None:
        return plan
    sql = insert_sql(conn, table)
    getter = itemgetter(*[c.name for c in table.columns])
    dates = [i for i, c in enumerate(table.columns) if isinstance(c.type, Date)]
    if dates and conn.dialect.name == "sqlite":
        # SQLAlchemy stores SQLite dates as ISO text; the driver is given the same text.
        def row(values: dict[str, Any]) -> tuple[Any, ...]:
            out = list(getter(values))
            for i in dates:
                out[i] = _iso(out[i])
            return tuple(out)

        plan = (sql, row)
    else:
        plan = (sql, getter)
    _PLANS[key] = plan
    return plan


def insert_rows(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert `rows` (every column of `table` given) in one executemany."""
    if not rows:
        return
    sql, row = _plan(conn, table)
    conn.exec_driver_sql(sql, [row(r) for r in rows])
