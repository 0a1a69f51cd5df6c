"""Keeps read models caught up with the log: rows and tracking in one transaction."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import resolve_topic
from sqlalchemy import (
    Connection,
    Engine,
    Table,
    create_engine,
    event,
    exc,
    insert,
    select,
    text,
    update,
)
from tenacity import (
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from domain.application import PolicyRecord
from projections.eventlog import durability
from projections.eventlog.batching import gc_paused
from projections.eventlog.bulk import placeholder
from projections.eventlog.ledger import log
from projections.eventlog.recorder import events_table
from projections.readmodels import tables


@dataclass(frozen=True)
class Applied:
    """One event as a projection sees it: the domain event and where it sits in the log.

    `event` is None for an event of a class no handler of the projector wants: read from
    the log, such an event is not decoded (it only advances tracking)."""

    event: Any
    position: int
    recorded_at: str


Handler = Callable[[Connection, Applied], None]

REBUILD_BATCH = 5000
"""Events per transaction when replaying the whole log: fewer commits, same rows."""

REPLAY_CACHE_KIB = 65536
"""SQLite's page cache, in KiB, of the connection a replay of the whole log writes through
(SQLite's default is 2,000): the indexes it inserts into stay in memory from batch to batch.
Bounded: at most this much memory, on one connection, for the replay's duration."""

PROJECTED_CHANNEL = "policy_timeline_projected"
"""PostgreSQL NOTIFY channel announcing the last position a projection applied."""


class Projection:
    """A named set of handlers, one per event class; unknown events only advance tracking."""

    name = "projection"
    version = 1  # bump when the handlers change what they write: the store rebuilds
    writes: tuple[Table, ...] = ()
    """The read-model tables this projection fills (a rebuild on two cores gives a later
    projection a database file of its own for them on SQLite)."""

    def handlers(self) -> dict[type, Handler]:
        return {}

    def begin(self, conn: Connection, items: list[Applied]) -> None:
        """Called with a whole batch before its handlers run (e.g. to load what they need).

        An item's event is None when no projection of the projector handles its class."""

    def flush(self, conn: Connection) -> None:
        """Write what the handlers deferred in this transaction, before tracking advances."""


def read_log(
    app: PolicyRecord,
    conn: Connection,
    after: int,
    limit: int,
    wanted: Callable[[str], bool] | None = None,
) -> Iterator[Applied]:
    """Decoded events after position `after`, in log order; those whose stored topic
    `wanted` refuses are not decoded (their `event` is None).

    Read through the driver: SQLAlchemy's per-row result processing cost as much as the
    decoding itself."""
    events = events_table(app).name
    sql = _READ_LOG.get((conn.dialect.name, events))
    if sql is None:
        marker = placeholder(conn)
        sql = _READ_LOG[(conn.dialect.name, events)] = (
            "SELECT l.position, l.recorded_at, e.originator_id, e.originator_version, e.topic, "
            f"e.state FROM {log.name} l JOIN {events} e ON e.id = l.notification_id "
            f"WHERE l.position > {marker} ORDER BY l.position LIMIT {marker}"
        )
    to_domain_event = app.mapper.to_domain_event
    for position, recorded_at, originator_id, version, topic, state in conn.exec_driver_sql(
        sql, (after, limit)
    ):
        if wanted is not None and not wanted(topic):
            yield Applied(None, int(position), str(recorded_at))
            continue
        if not isinstance(originator_id, UUID):
            originator_id = UUID(bytes=bytes(originator_id))  # SQLite: BINARY(16)
        stored = StoredEvent(originator_id, version, topic, bytes(state))
        yield Applied(to_domain_event(stored), int(position), str(recorded_at))


_TRACKING = select(tables.tracking.c.projection, tables.tracking.c.position)
"""The tracking rows' read, built once (a statement and its cache key cost more CPU than the
read on SQLite)."""

_READ_LOG: dict[tuple[str, str], str] = {}


class Wanted:
    """Whether a stored topic names an event class one of `classes` (or a subclass).

    Topics resolve as the mapper resolves them when it decodes, so a renamed or moved class
    registered under its old topic is still recognised. The answers are kept per topic: a
    log holds the few topics of the product's event classes (at most `KEEP` are kept)."""

    KEEP = 1024

    def __init__(self, classes: Iterable[type]) -> None:
        self.classes = tuple(classes)
        self._known: dict[str, bool] = {}

    def __call__(self, topic: str) -> bool:
        known = self._known.get(topic)
        if known is None:
            known = issubclass(resolve_topic(topic), self.classes)
            if len(self._known) < self.KEEP:
                self._known[topic] = known
        return known


def analyze(engine: Engine) -> None:
    """Refresh PostgreSQL's planner statistics after bulk writes (an import, a rebuild).

    Without them a freshly loaded table looks empty to the planner, which then picks an index
    that cannot give the timeline order and sorts tens of thousands of rows for one page.
    SQLite plans these queries from the indexes alone."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))


class Projector:
    """Applies the log to projections, exactly once, resumable after any crash."""

    def __init__(self, app: PolicyRecord, projections: list[Projection], engine: Engine) -> None:
        self.app = app
        self.projections = projections
        self.engine = engine
        self._handlers = {p.name: p.handlers() for p in projections}
        self._wanted = Wanted(c for handlers in self._handlers.values() for c in handlers)
        self.generation = 0
        """Moved after every commit that changed read-model rows (what this process projected)."""

    def create_tables(self) -> None:
        """The read models' tables and the projections' code versions, where missing."""
        tables.metadata.create_all(self.engine)
        tables.versions_metadata.create_all(self.engine)

    def position(self, name: str | None = None, engine: Engine | None = None) -> int:
        """The last applied position of a projection (the slowest one when no name).

        `engine` reads the tracking rows from elsewhere, e.g. a read replica."""
        positions = self.positions(engine)
        return min((at for p, at in positions.items() if name in (None, p)), default=0)

    def positions(
        self, engine: Engine | None = None, conn: Connection | None = None
    ) -> dict[str, int]:
        """Every projection's last applied position, in one read of the tracking rows (on
        `conn` when given: a request's own connection, no checkout of another)."""
        if conn is None:
            with (engine or self.engine).connect() as own:
                return self.positions(conn=own)
        rows = {str(name): int(position) for name, position in conn.execute(_TRACKING)}
        return {p.name: int(rows.get(p.name, 0)) for p in self.projections}

    def rebuild(self, until: int | None = None, batch: int = REBUILD_BATCH) -> int:
        """Drop every projection row and apply the log again (up to `until`), `batch` events
        per transaction. `projections.readmodels.parallel.rebuild` does it on two processes."""
        self.clear()
        with self.replaying() as replayer:
            applied = replayer.catch_up(batch, until=until)
        analyze(self.engine)
        return applied

    @contextmanager
    def replaying(self, projections: list[Projection] | None = None) -> Iterator[Projector]:
        """A projector of `projections` (all by default) for replaying the whole log: on a
        SQLite file it writes through a connection of its own with a larger page cache
        (`REPLAY_CACHE_KIB`), closed at the end; elsewhere it shares this one's engine."""
        chosen = self.projections if projections is None else projections
        url = self.engine.url
        if self.engine.dialect.name != "sqlite" or url.database in (None, "", ":memory:"):
            try:
                yield Projector(self.app, chosen, self.engine)
            finally:
                self.generation += 1  # rows written by a projector of its own
            return
        engine = create_engine(url, pool_size=1, max_overflow=1)

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            durability.tune_sqlite_connection(dbapi_connection)
            cursor = dbapi_connection.cursor()
            cursor.execute(f"PRAGMA cache_size = -{int(REPLAY_CACHE_KIB)}")
            cursor.close()

        try:
            yield Projector(self.app, chosen, engine)
        finally:
            engine.dispose()
            self.generation += 1

    def clear(self) -> None:
        """Delete every projection row and tracking row, in one transaction."""
        with self.engine.begin() as conn:
            for table in reversed(tables.metadata.sorted_tables):
                conn.execute(table.delete())

    def digests(self) -> dict[str, str]:
        """A SHA-256 of every projection table's rows, to compare a store with a fresh replay."""
        result = {}
        with self.engine.connect() as conn:
            for table in tables.READ_MODELS:
                # Sorted here, not by the database: collations differ between backends.
                rows = sorted(
                    repr(tuple(_plain(v) for v in row)) for row in conn.execute(select(*table.c))
                )
                digest = hashlib.sha256()
                for row in rows:
                    digest.update(row.encode())
                result[table.name] = digest.hexdigest()
        return result

    def catch_up(
        self,
        batch: int = 1000,
        until: int | None = None,
        recent: list[Applied] | None = None,
        committed: Callable[[int], None] | None = None,
    ) -> int:
        """Apply every new event; returns how many were applied.

        `recent` are events this process just saved, in log order: when they are exactly
        the next positions to apply, they are used instead of reading the log again.
        `committed` is called with the last applied position after every batch commits."""
        total = 0
        while True:
            # The usual case: every projection is at the same position, so each batch is
            # read and decoded once and applied by all of them in one transaction.
            applied = self._apply(self.projections, batch, until, recent, committed)
            recent = None
            if applied is None:
                break
            total += applied
            if applied < batch:
                return total
        ceiling = until
        for projection in self.projections:
            while True:
                applied = self._apply([projection], batch, ceiling, None, committed) or 0
                total += applied
                if applied < batch:
                    break
            # Later projections read earlier ones' rows: never let them run ahead of those,
            # even when other processes append (and project) meanwhile.
            done = self.position(projection.name)
            ceiling = done if ceiling is None else min(ceiling, done)
        return total

    def _apply(
        self,
        projections: list[Projection],
        batch: int,
        until: int | None,
        recent: list[Applied] | None = None,
        committed: Callable[[int], None] | None = None,
    ) -> int | None:
        """One batch through `projections`, in order, in one transaction.

        None (and nothing written) when they do not all stand at the same position."""
        attempts = Retrying(
            stop=stop_after_attempt(20),
            wait=wait_exponential(multiplier=0.01, max=0.5),
            # Another process projected the same positions first (or held the write lock):
            # roll back and read the new tracking positions.
            retry=retry_if_exception_type((exc.OperationalError, _LostRace)),
            retry_error_callback=lambda _: None,
        )
        for attempt in attempts:
            with attempt:
                return self._apply_once(projections, batch, until, recent, committed)
        names = ", ".join(p.name for p in projections)
        raise RuntimeError(f"projections {names} could not make progress")

    def _apply_once(
        self,
        projections: list[Projection],
        batch: int,
        until: int | None,
        recent: list[Applied] | None,
        committed: Callable[[int], None] | None = None,
    ) -> int | None:
        """One attempt at `_apply`; raises when another process got in the way."""
        with gc_paused(), self.engine.begin() as conn:
            starts = {self._claim(conn, p.name) for p in projections}
            if len(starts) != 1:
                return None
            start = starts.pop()
            limit = batch if until is None else max(0, min(batch, until - start))
            if recent and recent[0].position == start + 1 and len(recent) <= limit:
                items = recent
            else:
                items = list(read_log(self.app, conn, start, limit, self._wanted))
            for projection in projections:
                self._run(conn, projection, items)
            if items:
                for projection in projections:
                    self._advance(conn, projection.name, start, items[-1].position)
                self._notify(conn, items[-1].position)
        if items:
            self.generation += 1  # committed: held read-model states are out of date
            if committed is not None:
                committed(items[-1].position)
        return len(items)

    def _run(self, conn: Connection, projection: Projection, items: list[Applied]) -> None:
        """Apply `items` to one projection and write what it deferred."""
        handlers = self._handlers[projection.name]
        projection.begin(conn, items)
        for item in items:
            handler = handlers.get(type(item.event))
            if handler is not None:
                handler(conn, item)
        projection.flush(conn)

    @staticmethod
    def _notify(conn: Connection, position: int) -> None:
        if conn.dialect.name == "postgresql":
            # Delivered at commit: wakes live subscriptions in every process.
            conn.execute(
                text("SELECT pg_notify(:channel, :position)"),
                {"channel": PROJECTED_CHANNEL, "position": str(position)},
            )

    @staticmethod
    def _claim(conn: Connection, name: str) -> int:
        """Lock this projection's tracking row for the transaction and read it."""
        t = tables.tracking
        query = select(t.c.position).where(t.c.projection == name)
        if conn.dialect.name == "postgresql":
            query = query.with_for_update()
        else:
            # Take SQLite's write lock now, so the read below cannot go stale.
            conn.execute(update(t).where(t.c.projection == name).values(position=t.c.position))
        position = conn.execute(query).scalar()
        if position is None:
            try:
                with conn.begin_nested():
                    conn.execute(insert(t).values(projection=name, position=0))
            except exc.IntegrityError:
                raise _LostRace() from None
            return 0
        return int(position)

    @staticmethod
    def _advance(conn: Connection, name: str, start: int, last: int) -> None:
        t = tables.tracking
        result = conn.execute(
            update(t).where(t.c.projection == name, t.c.position == start).values(position=last)
        )
        if result.rowcount != 1:
            raise _LostRace()


def _plain(value: Any) -> Any:
    """Values as both backends return them (dates as ISO text, integers as int)."""
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


class _LostRace(Exception):
    """Another projector advanced the same tracking row first."""
