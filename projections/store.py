"""The event store: eventsourcing-sqlalchemy plus the hash chain in the same transaction."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing_sqlalchemy.datastore import SQLAlchemyDatastore
from eventsourcing_sqlalchemy.factory import SQLAlchemyFactory
from eventsourcing_sqlalchemy.recorders import SQLAlchemyApplicationRecorder
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from projections.ledger import (
    GENESIS,
    SCHEMA_VERSION,
    Envelope,
    chain_hash,
    event_id,
    event_type,
    leaf_hash,
    log,
    payload_of,
    rfc3339,
)


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

    def create_table(self) -> None:
        super().create_table()
        assert self.datastore.engine is not None
        log.create(self.datastore.engine, checkfirst=True)

    def _insert_stored_events(
        self, session: Session, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int]:
        # super() first: it takes PostgreSQL's table lock, so writers are serialised
        # here and the chain cannot fork.
        notification_ids = super()._insert_stored_events(session, stored_events, **kwargs)
        head = session.execute(
            select(log.c.position, log.c.chain_hash).order_by(log.c.position.desc()).limit(1)
        ).first()
        position, previous = (int(head[0]), str(head[1])) if head else (0, GENESIS)
        recorded_at = rfc3339(dt.datetime.now(dt.UTC))
        rows, positions = [], []
        for notification_id, stored in zip(notification_ids, stored_events, strict=False):
            position += 1
            envelope = Envelope(
                position=position,
                stream_id=str(stored.originator_id),
                version=stored.originator_version,
                event_id=event_id(stored.originator_id, stored.originator_version),
                event_type=event_type(stored.topic),
                schema_version=SCHEMA_VERSION,
                recorded_at=recorded_at,
                payload=payload_of(stored.state),
            )
            leaf = leaf_hash(envelope)
            previous = chain_hash(previous, leaf)
            rows.append(
                {
                    "position": position,
                    "notification_id": notification_id,
                    "event_id": envelope.event_id,
                    "stream_id": envelope.stream_id,
                    "version": envelope.version,
                    "event_type": envelope.event_type,
                    "schema_version": SCHEMA_VERSION,
                    "recorded_at": recorded_at,
                    "leaf_hash": leaf,
                    "chain_hash": previous,
                }
            )
            positions.append(position)
        session.execute(log.insert(), rows)
        return positions

    def append_chained(self, entries: Sequence[Chained]) -> None:
        """Append exported events with their own recordedAt, checking every hash on the way."""
        if not entries:
            return
        with self.transaction(commit=True) as session:
            # Skip our own override: these rows keep their exported time, not now().
            ids = SQLAlchemyApplicationRecorder._insert_stored_events(
                self, session, [e.stored for e in entries]
            )
            head = session.execute(
                select(log.c.position, log.c.chain_hash).order_by(log.c.position.desc()).limit(1)
            ).first()
            position, previous = (int(head[0]), str(head[1])) if head else (0, GENESIS)
            rows = []
            for notification_id, entry in zip(ids, entries, strict=True):
                position += 1
                stored = entry.stored
                envelope = Envelope(
                    position=position,
                    stream_id=str(stored.originator_id),
                    version=stored.originator_version,
                    event_id=event_id(stored.originator_id, stored.originator_version),
                    event_type=event_type(stored.topic),
                    schema_version=entry.schema_version,
                    recorded_at=entry.recorded_at,
                    payload=payload_of(stored.state),
                )
                leaf = leaf_hash(envelope)
                previous = chain_hash(previous, leaf)
                if (position, leaf, previous) != (entry.position, entry.leaf, entry.chain):
                    raise ChainMismatch(entry.position, position, entry.chain, previous)
                rows.append(
                    {
                        "position": position,
                        "notification_id": notification_id,
                        "event_id": envelope.event_id,
                        "stream_id": envelope.stream_id,
                        "version": envelope.version,
                        "event_type": envelope.event_type,
                        "schema_version": entry.schema_version,
                        "recorded_at": entry.recorded_at,
                        "leaf_hash": leaf,
                        "chain_hash": previous,
                    }
                )
            session.execute(log.insert(), rows)

    def head_position(self) -> int:
        """The position of the last event in the log (0 when empty)."""
        with self.transaction(commit=False) as session:
            return int(
                session.execute(select(func.coalesce(func.max(log.c.position), 0))).scalar_one()
            )


POOL_SIZE_ENV = "POLICY_TIMELINE_POOL_SIZE"
MAX_OVERFLOW_ENV = "POLICY_TIMELINE_MAX_OVERFLOW"


def pool_options(url: str | None) -> dict[str, Any]:
    """Connection-pool settings for server databases, from the environment."""
    if not url or url.startswith("sqlite"):
        return {}
    return {
        "pool_size": int(os.environ.get(POOL_SIZE_ENV, "10")),
        "max_overflow": int(os.environ.get(MAX_OVERFLOW_ENV, "10")),
        # Check connections before use, so the service recovers by itself after an outage.
        "pool_pre_ping": True,
    }


class PooledDatastore(SQLAlchemyDatastore):
    """The library's datastore with configurable pool sizes and pre-ping."""

    def __init__(self, *, url: str | None = None, **kwargs: Any) -> None:
        super().__init__(url=url, **{**pool_options(url), **kwargs})


class Factory(SQLAlchemyFactory):
    """Infrastructure factory that plugs the chained recorder into eventsourcing."""

    datastore_class = PooledDatastore
    application_recorder_class = ChainedRecorder
