"""Rebuild every projection from the log into fresh tables, then swap them in at once."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, Table, exc, insert, select, text

from projections.eventlog.entries import BATCH, chained_of, stored_log
from projections.eventlog.recorder import Chained
from projections.readmodels import tables
from projections.readmodels.parallel import replay
from projections.readmodels.projector import PROJECTED_CHANNEL, analyze
from projections.readmodels.scratch import scratch_directory, sweep

if TYPE_CHECKING:
    # The facade composes what this module serves; it is only named here, never imported.
    from projections.service import Store

CHUNK = 2000
"""Rows per bulk insert while swapping."""


@dataclass(frozen=True)
class Rebuilt:
    """What a rebuild applied and the digest of each projection table it swapped in."""

    events: int
    position: int
    digests: dict[str, str]


def rebuild(store: Store, until: int | None = None, jobs: int = 1) -> Rebuilt:
    """Replay the log (up to `until`) into a scratch store, then swap its rows into `store`.

    The live tables keep serving during the replay; the swap is one transaction, so a reader
    sees either every old projection row or every new one. `jobs` processes replay (1 or 2,
    see `projections.readmodels.parallel.replay`)."""
    with scratch_directory() as tmp:
        scratch = type(store)(
            f"sqlite:///{tmp / 'rebuild.sqlite3'}",
            projections=store.projector.projections,
        )
        scratch.migrate()
        try:
            events = _copy_log(store, scratch, until)
            replay(scratch.projector, until, jobs)
            position = scratch.projector.position()
            digests = scratch.projector.digests()
            _swap(scratch.engine, store.engine, _code_versions(store))
            store.projector.generation += 1  # new rows under maybe the same positions
        finally:
            scratch.close()
    analyze(store.engine)
    return Rebuilt(events, position, digests)


def rebuild_if_versions_changed(store: Store) -> Rebuilt | None:
    """Rebuild when a projection's code version differs from the one its rows were built by.

    The first open of a store only records the versions. Either way, scratch directories
    left by replays whose process was killed outright are removed first."""
    sweep()
    code = _code_versions(store)
    with store.engine.connect() as conn:
        stored = _stored_versions(conn)
    if any(name in stored and stored[name] != version for name, version in code.items()):
        return rebuild(store)
    missing = {name: v for name, v in code.items() if name not in stored}
    if missing:
        try:
            with store.engine.begin() as conn:
                conn.execute(
                    insert(tables.projection_versions),
                    [{"projection": n, "version": v} for n, v in missing.items()],
                )
        except exc.IntegrityError:
            pass  # another process opening the same store recorded them first
    return None


def _code_versions(store: Store) -> dict[str, int]:
    return {p.name: int(p.version) for p in store.projector.projections}


def _stored_versions(conn: Connection) -> dict[str, int]:
    v = tables.projection_versions
    return {str(n): int(x) for n, x in conn.execute(select(v.c.projection, v.c.version))}


def _copy_log(store: Store, scratch: Store, until: int | None) -> int:
    """Append the live log's entries, hashes and times unchanged, to the scratch store."""
    batch: list[Chained] = []
    count = 0
    for entry in stored_log(store.app, store.engine):
        if until is not None and entry["position"] > until:
            break
        batch.append(chained_of(entry))
        count += 1
        if len(batch) == BATCH:
            scratch.recorder.append_chained(batch)
            batch = []
    scratch.recorder.append_chained(batch)
    return count


def _swap(source: Engine, target: Engine, versions: dict[str, int]) -> None:
    """Replace every projection row and tracking row of `target` in one transaction."""
    with target.begin() as conn:
        if conn.dialect.name == "postgresql":
            # Projectors claim tracking rows FOR UPDATE: wait for the running ones, hold off
            # new ones until the swap commits. Plain reads go on (they see the old rows).
            conn.execute(text(f"LOCK TABLE {tables.tracking.name} IN EXCLUSIVE MODE"))
        else:
            # Take SQLite's write lock first; WAL readers keep their snapshot meanwhile.
            conn.execute(tables.tracking.update().values(position=tables.tracking.c.position))
        for table in reversed(tables.metadata.sorted_tables):
            conn.execute(table.delete())
        with source.connect() as scratch:
            for table in tables.metadata.sorted_tables:
                for chunk in _chunks(scratch, table):
                    conn.execute(insert(table), chunk)
        conn.execute(tables.projection_versions.delete())
        conn.execute(
            insert(tables.projection_versions),
            [{"projection": n, "version": v} for n, v in versions.items()],
        )
        if conn.dialect.name == "postgresql":
            # Delivered at commit: servers holding the read models' state read it again.
            conn.execute(
                text("SELECT pg_notify(:channel, :position)"),
                {"channel": PROJECTED_CHANNEL, "position": "0"},
            )


def _chunks(conn: Connection, table: Table) -> Iterator[list[dict[str, Any]]]:
    """The table's rows as dictionaries, a bulk insert's worth at a time."""
    result = conn.execute(select(table)).mappings()
    while rows := result.fetchmany(CHUNK):
        yield [dict(r) for r in rows]
