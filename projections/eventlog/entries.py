"""The log read in order as entries (position, event, time, hashes), and an entry appended back.

The same objects are an export's lines (`projections.audit.export`): a rebuild, a replay check
and an import of an export all copy a log through them, hashes unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from sqlalchemy import Engine, select

from domain.application import PolicyRecord
from projections.eventlog.ledger import log, payload_of
from projections.eventlog.recorder import Chained, events_table

BATCH = 1000


def stored_log(
    app: PolicyRecord, engine: Engine, batch: int = BATCH, upto: int | None = None
) -> Iterator[dict[str, Any]]:
    """Every log entry (up to position `upto`) with its event, as an export line object."""
    events = events_table(app)
    after = 0
    with engine.connect() as conn:
        while True:
            query = (
                select(log, events.c.originator_id, events.c.topic, events.c.state)
                .join(events, events.c.id == log.c.notification_id)
                .where(log.c.position > after)
                .order_by(log.c.position)
                .limit(batch)
            )
            if upto is not None:
                query = query.where(log.c.position <= upto)
            rows = conn.execute(query).all()
            for r in rows:
                state = bytes(r.state).decode("utf-8")
                yield {
                    "position": int(r.position),
                    "streamId": str(r.originator_id),
                    "version": int(r.version),
                    "eventId": r.event_id,
                    "eventType": r.event_type,
                    "schemaVersion": int(r.schema_version),
                    "recordedAt": r.recorded_at,
                    "payload": payload_of(bytes(r.state)),
                    "topic": r.topic,
                    "state": state,
                    "leafHash": r.leaf_hash,
                    "chainHash": r.chain_hash,
                }
                after = int(r.position)
            if len(rows) < batch:
                return


def chained_of(entry: dict[str, Any]) -> Chained:
    """An export line object as an event to append."""
    stored = StoredEvent(
        UUID(entry["streamId"]), entry["version"], entry["topic"], entry["state"].encode()
    )
    return Chained(
        entry["position"],
        stored,
        entry["recordedAt"],
        entry["schemaVersion"],
        entry["leafHash"],
        entry["chainHash"],
    )
