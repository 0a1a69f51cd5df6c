"""Floors: the rows an import or a rebuild must write, written by the driver and nothing else.

A rebuild reads and decodes the log (its baseline) and writes the projection rows; an import
saves the events (its baseline), writes one hash-chain row per event and the same projection
rows. Writing those rows from prepared tuples, with no Python work at all between them, costs
the floor measured here; so `baseline / (baseline + floor)` bounds the ratio any
implementation of the same read models can reach on one core.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, Table, func, select

from projections.eventlog.bulk import columns, insert_sql
from projections.eventlog.ledger import log
from projections.readmodels import tables
from projections.readmodels.projector import REBUILD_BATCH
from projections.service import Store

CHUNK = 20_000
"""Rows read from the source store at a time (memory flat in N)."""
_POSITION = {t.name: "position" for t in (tables.history, tables.records, log)}


def write_floor(store: Store, scratch_url: str) -> dict[str, Any]:
    """Seconds to write every projection row and every log row of `store` into the empty
    tables of `scratch_url`, the fastest way known here to end with the same tables: a
    projection table's secondary indexes are dropped, its rows loaded (driver executemany on
    SQLite, COPY on PostgreSQL; in position order and as many transactions as a rebuild
    commits), then its indexes built. The log's keys are its own constraints, kept."""
    events = store.head()
    commits = max(1, -(-events // REBUILD_BATCH))
    scratch = Store(scratch_url)  # the same tables, indexes and durability settings
    scratch.migrate()
    seconds: dict[str, float] = {}
    rows: dict[str, int] = {}
    try:
        with scratch.engine.connect() as target:
            _empty(target)
            for table in [*tables.READ_MODELS, log]:
                with store.engine.connect() as source:
                    rows[table.name] = int(
                        source.execute(select(func.count()).select_from(table)).scalar_one()
                    )
                    per_commit = max(1, -(-rows[table.name] // commits))
                    for index in table.indexes:
                        index.drop(target)
                    target.commit()
                    seconds[table.name] = _copy(source, target, table, per_commit)
                    start = time.perf_counter()
                    for index in table.indexes:
                        index.create(target)
                    target.commit()
                    seconds[table.name] += time.perf_counter() - start
    finally:
        scratch.close()
    projection = sum(s for name, s in seconds.items() if name != log.name)
    return {
        "events": events,
        "rows": rows,
        "rows_per_event": round(sum(n for k, n in rows.items() if k != log.name) / events, 2),
        "projection_seconds": round(projection, 3),
        "log_seconds": round(seconds[log.name], 3),
        "projection_us_per_event": round(projection / events * 1e6, 1),
        "log_us_per_event": round(seconds[log.name] / events * 1e6, 1),
    }


def _empty(target: Connection) -> None:
    """A new store has no rows, but say so: the floor writes into empty tables."""
    for table in [*tables.READ_MODELS, log]:
        if target.execute(select(func.count()).select_from(table)).scalar_one():
            raise RuntimeError(f"the floor's scratch store is not empty ({table.name})")
    target.commit()


def _rows(source: Connection, table: Table) -> Iterator[list[tuple[Any, ...]]]:
    """The rows of `table` as the driver returns them, in log position order."""
    column = _POSITION.get(table.name, "valid_from")
    sql = f"SELECT {columns(source, table)} FROM {table.name} ORDER BY {column}"
    raw = source.connection.driver_connection
    assert raw is not None
    # A named cursor streams on PostgreSQL; SQLite's cursor streams anyway.
    cursor = raw.cursor("floor") if source.dialect.name == "postgresql" else raw.cursor()
    try:
        cursor.execute(sql)
        while chunk := cursor.fetchmany(CHUNK):
            yield [tuple(r) for r in chunk]
    finally:
        cursor.close()


def _copy(source: Connection, target: Connection, table: Table, per_commit: int) -> float:
    """Write `table`'s rows into `target`, timing only the writes and commits."""
    raw = target.connection.driver_connection
    assert raw is not None
    postgres = target.dialect.name == "postgresql"
    sql = (
        f"COPY {table.name} ({columns(target, table)}) FROM STDIN"
        if postgres
        else insert_sql(target, table)
    )
    spent = 0.0
    pending: list[tuple[Any, ...]] = []

    def write(batch: list[tuple[Any, ...]]) -> float:
        start = time.perf_counter()
        cursor = raw.cursor()
        if postgres:
            with cursor.copy(sql) as copy:
                for row in batch:
                    copy.write_row(row)
        else:
            cursor.executemany(sql, batch)
        raw.commit()
        return time.perf_counter() - start

    for chunk in _rows(source, table):
        pending += chunk
        while len(pending) >= per_commit:
            spent += write(pending[:per_commit])
            del pending[:per_commit]
    if pending:
        spent += write(pending)
    return spent
