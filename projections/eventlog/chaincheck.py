"""Recomputes every leaf and chain hash of the log from the stored events."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, Row, func, select

from domain.application import PolicyRecord
from projections.eventlog.ledger import GENESIS, chain_hash, envelope_for, leaf_hash, log
from projections.eventlog.recorder import events_table


@dataclass(frozen=True)
class Integrity:
    """The answer of a chain check."""

    ok: bool
    head_position: int
    head_hash: str | None
    checked_up_to: int
    first_bad_position: int | None
    detail: str | None = None


def check_chain(app: PolicyRecord, engine: Engine, batch: int = 5000) -> Integrity:
    """Walk the log in position order; stop at the first position whose hashes disagree."""
    events = events_table(app)
    previous, expected_position, head_hash = GENESIS, 1, None
    earlier = GENESIS  # the chain hash before `previous`: to recognise an inserted row
    with engine.connect() as conn:
        while True:
            rows = conn.execute(
                select(
                    log,
                    events.c.originator_id,
                    events.c.originator_version,
                    events.c.topic,
                    events.c.state,
                )
                .join(events, events.c.id == log.c.notification_id, isouter=True)
                .where(log.c.position >= expected_position)
                .order_by(log.c.position)
                .limit(batch)
            ).all()
            for row in rows:
                problem = _check_row(row, expected_position, previous)
                if problem is not None and _inserted_before(row, expected_position, earlier):
                    bad = expected_position - 1
                    return Integrity(
                        False,
                        _head(conn),
                        _head_hash(conn),
                        bad - 1,
                        bad,
                        f"a row was inserted at position {bad}: the event now at position "
                        f"{bad + 1} was chained at position {bad}, right after position {bad - 1}",
                    )
                if problem is not None:
                    return Integrity(
                        False,
                        _head(conn),
                        _head_hash(conn),
                        expected_position - 1,
                        expected_position,  # for a missing row, where it should have been
                        problem,
                    )
                earlier, previous = previous, row.chain_hash
                head_hash = previous
                expected_position += 1
            if len(rows) < batch:
                break
    return Integrity(True, expected_position - 1, head_hash, expected_position - 1, None)


def _inserted_before(row: Row[Any], position: int, earlier: str) -> bool:
    """Whether this row's hashes are those it had one position earlier, after `earlier`."""
    r = row._mapping
    if position < 2 or r["position"] != position or r["state"] is None:
        return False
    try:
        envelope = envelope_for(position - 1, row, r["recorded_at"], r["schema_version"])
    except ValueError:
        return False
    leaf = leaf_hash(envelope)
    return bool(leaf == r["leaf_hash"] and chain_hash(earlier, leaf) == r["chain_hash"])


def _check_row(row: Row[Any], expected_position: int, previous: str) -> str | None:
    r = row._mapping
    if r["position"] != expected_position:
        return f"expected position {expected_position}, found {r['position']}"
    if r["state"] is None:
        return "the event row is missing"
    try:
        envelope = envelope_for(r["position"], row, r["recorded_at"], r["schema_version"])
    except ValueError as exc:  # a flipped byte can break the JSON (or its UTF-8)
        return f"the stored event is not valid JSON ({exc})"
    if (r["stream_id"], r["version"], r["event_id"], r["event_type"]) != (
        envelope.stream_id,
        envelope.version,
        envelope.event_id,
        envelope.event_type,
    ):
        return "the chain row does not describe its event"
    leaf = leaf_hash(envelope)
    if leaf != r["leaf_hash"]:
        return f"leaf hash: expected {leaf}, stored {r['leaf_hash']}"
    chained = chain_hash(previous, leaf)
    if chained != r["chain_hash"]:
        return f"chain hash: expected {chained}, stored {r['chain_hash']}"
    return None


def _head(conn: Connection) -> int:
    return int(conn.execute(select(func.coalesce(func.max(log.c.position), 0))).scalar_one())


def _head_hash(conn: Connection) -> str | None:
    row = conn.execute(select(log.c.chain_hash).order_by(log.c.position.desc()).limit(1)).first()
    return None if row is None else str(row[0])
