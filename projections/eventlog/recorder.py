"""The event store: eventsourcing-sqlalchemy plus the hash chain in the same transaction."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from eventsourcing.persistence import StoredEvent
from eventsourcing_sqlalchemy.datastore import SQLAlchemyDatastore
from eventsourcing_sqlalchemy.factory import SQLAlchemyFactory
from eventsourcing_sqlalchemy.recorders import SQLAlchemyApplicationRecorder
from sqlalchemy import Engine, Table, event, func, select
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session

from projections import settings
from projections.eventlog import nodes
from projections.eventlog.bulk import insert_rows
from projections.eventlog.ledger import GENESIS, envelope_for, log, log_row, rfc3339

if TYPE_CHECKING:
    from domain.application import PolicyRecord


def events_table(app: PolicyRecord) -> Table:
    """The library's table of stored events, which the log's rows point into."""
    recorder = app.recorder
    assert isinstance(recorder, SQLAlchemyApplicationRecorder)
    table: Table = recorder.events_record_cls.__table__
    return table


@dataclass(frozen=True)
class Chained:
    """An exported event: its stored form, where it sat, when, and the hashes it had."""

    position: int
    stored: StoredEvent
    recorded_at: str
    schema_version: int
    leaf: str
    chain: str


class ChainMismatch(ValueError):
    """An appended event does not reproduce the hashes it was exported with."""

    def __init__(self, position: int, actual_position: int, expected: str, actual: str) -> None:
        super().__init__(
            f"position {position}: lands at position {actual_position} with chain hash "
            f"{actual}, expected {expected}"
        )
        self.position = position


class ChainedRecorder(SQLAlchemyApplicationRecorder):
    """Appends events and their hash-chain rows in one transaction; returns log positions."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.last_recorded_at = threading.local()
        """The recordedAt of this thread's last append."""

    def create_table(self) -> None:
        super().create_table()
        engine = self.datastore.engine
        assert isinstance(engine, Engine)
        log.create(engine, checkfirst=True)
        nodes.create(engine)

    def _insert_stored_events(
        self, session: Session, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int]:
        # super() first: it takes PostgreSQL's table lock, so writers are serialised
        # here and the chain cannot fork.
        notification_ids = super()._insert_stored_events(session, stored_events, **kwargs)
        position, previous, last_leaf = _head(session)
        size = position
        recorded_at = rfc3339(dt.datetime.now(dt.UTC))
        self.last_recorded_at.value = recorded_at
        rows = []
        for notification_id, stored in zip(notification_ids, stored_events, strict=True):
            position += 1
            envelope = envelope_for(position, stored, recorded_at)
            rows.append(log_row(notification_id, envelope, previous))
            previous = rows[-1]["chain_hash"]
        insert_rows(session.connection(), log, rows)
        _grow_tree(session, size, last_leaf, rows)
        return [row["position"] for row in rows]

    def append_chained(self, entries: Sequence[Chained]) -> None:
        """Append exported events with their own recordedAt, checking every hash on the way."""
        if not entries:
            return
        with self.transaction(commit=True) as session:
            # Skip our own override: these rows keep their exported time, not now().
            ids = SQLAlchemyApplicationRecorder._insert_stored_events(
                self, session, [e.stored for e in entries]
            )
            position, previous, last_leaf = _head(session)
            size = position
            rows = []
            for notification_id, entry in zip(ids, entries, strict=True):
                position += 1
                envelope = envelope_for(
                    position, entry.stored, entry.recorded_at, entry.schema_version
                )
                row = log_row(notification_id, envelope, previous)
                if (position, row["leaf_hash"], row["chain_hash"]) != (
                    entry.position,
                    entry.leaf,
                    entry.chain,
                ):
                    raise ChainMismatch(entry.position, position, entry.chain, row["chain_hash"])
                rows.append(row)
                previous = row["chain_hash"]
            insert_rows(session.connection(), log, rows)
            _grow_tree(session, size, last_leaf, rows)

    def head_position(self) -> int:
        """The position of the last event in the log (0 when empty)."""
        with self.transaction(commit=False) as session:
            return int(
                session.execute(select(func.coalesce(func.max(log.c.position), 0))).scalar_one()
            )


def pool_options(url: str | None) -> dict[str, Any]:
    """Connection-pool settings for server databases, from the environment."""
    if not url or url.startswith("sqlite"):
        return {}
    chosen = settings.current()
    return {
        "pool_size": chosen.pool_size,
        "max_overflow": chosen.max_overflow,
        # Liveness is checked at check-out by `ping_when_rested`, not before every use.
        "pool_pre_ping": False,
    }


PING_AFTER_REST = 1.0
"""Seconds a pooled connection may rest before its next check-out pings the server first."""

_RESTED = "policy_timeline.rested_since"


def ping_when_rested(engine: Engine) -> None:
    """Check a server connection's liveness when it is checked out after resting more than
    PING_AFTER_REST seconds, so the service recovers by itself after an outage, while a busy
    connection (checked in a moment ago) goes straight to its statement: a ping before every
    use was a round trip as costly as a page's own statement.

    A dead connection found by the ping is replaced at once (the pool connects anew). One that
    died within the last second fails its statement instead: SQLAlchemy sees a disconnect and
    invalidates every connection of the pool, so the next check-outs connect anew; that
    request is answered as any request during an outage is (503), and a compiled answer
    falls back to ordinary execution."""
    if engine.dialect.name == "sqlite":
        return
    dialect = engine.dialect

    @event.listens_for(engine, "checkin")
    def _rested(_dbapi_connection: Any, record: Any) -> None:
        record.info[_RESTED] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get(_RESTED)
        if since is not None and time.monotonic() - since < PING_AFTER_REST:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as exc:  # the pool discards it and checks out another (three tries)
            raise DisconnectionError(f"a pooled connection failed its ping: {exc}") from exc


class PooledDatastore(SQLAlchemyDatastore):
    """The library's datastore with configurable pool sizes and pre-ping."""

    def __init__(self, *, url: str | None = None, **kwargs: Any) -> None:
        super().__init__(url=url, **{**pool_options(url), **kwargs})
        if isinstance(self.engine, Engine):
            ping_when_rested(self.engine)


class Factory(SQLAlchemyFactory):
    """Infrastructure factory that plugs the chained recorder into eventsourcing."""

    datastore_class = PooledDatastore
    application_recorder_class = ChainedRecorder


def _head(session: Session) -> tuple[int, str, bytes | None]:
    """The last position, chain hash and leaf hash of the log, read under the writer's lock."""
    head = session.execute(
        select(log.c.position, log.c.chain_hash, log.c.leaf_hash)
        .order_by(log.c.position.desc())
        .limit(1)
    ).first()
    return (int(head[0]), str(head[1]), bytes.fromhex(head[2])) if head else (0, GENESIS, None)


def _grow_tree(session: Session, size: int, last_leaf: bytes | None, rows: list[Any]) -> None:
    """The Merkle subtrees these rows complete, in the same transaction as the rows."""
    leaves = [bytes.fromhex(row["leaf_hash"]) for row in rows]
    nodes.append(session.connection(), size, last_leaf, leaves)
