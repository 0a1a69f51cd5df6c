"""What changed in the log between two positions, read from the events themselves."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, Table, and_, func, select

from domain.errors import FieldError, InvalidInput
from projections.eventlog.ledger import log
from projections.readmodels.documents import SourceDoc

MAX_CHANGES = 1000


@dataclass(frozen=True)
class Change:
    """One event between two positions: what it did to which record."""

    position: int
    recorded_at: str
    event_type: str
    kind: str
    record_id: str
    fields: list[str] | None
    reason: str | None
    key_id: str | None
    sources: list[SourceDoc]


def _refuse(field: str, message: str) -> InvalidInput:
    return InvalidInput([FieldError((field,), message)])


def check_range(from_: int, to: int, head: int, first: int) -> None:
    """Refuse a range outside 0..head, backwards, or a page size outside 0..MAX_CHANGES."""
    if from_ < 0:
        raise _refuse("from", f"must be 0 or more, got {from_}")
    if to < from_:
        raise _refuse("to", f"must not be before from ({from_}), got {to}")
    if to > head:
        raise _refuse("to", f"is past the log head ({head}), got {to}")
    if not 0 <= first <= MAX_CHANGES:
        raise _refuse("first", f"must be between 0 and {MAX_CHANGES}, got {first}")


def diff(
    events: Table, engine: Engine, from_: int, to: int, first: int = MAX_CHANGES
) -> list[Change]:
    """Events after `from_` up to `to` (inclusive), oldest first, at most `first` of them."""
    with engine.connect() as conn:
        head = int(conn.execute(select(func.coalesce(func.max(log.c.position), 0))).scalar_one())
        check_range(from_, to, head, first)
        rows = conn.execute(
            select(
                log.c.position, log.c.recorded_at, log.c.stream_id, events.c.topic, events.c.state
            )
            .join(events, events.c.id == log.c.notification_id)
            .where(log.c.position > from_, log.c.position <= to)
            .order_by(log.c.position)
            .limit(first)
        ).all()
        states = [json.loads(bytes(r.state)) for r in rows]
        # Corrections and retractions carry no slug: it is in the stream's first event.
        unnamed = {r.stream_id for r, s in zip(rows, states, strict=True) if "slug" not in s}
        slugs = _slugs(conn, events, unnamed) if unnamed else {}
    return [
        _change(r.position, r.recorded_at, r.topic, state, slugs.get(r.stream_id))
        for r, state in zip(rows, states, strict=True)
    ]


def _slugs(conn: Any, events: Table, streams: set[str]) -> dict[str, str]:
    """The slug of each stream, from the state of its first event."""
    rows = conn.execute(
        select(log.c.stream_id, events.c.state)
        .join(events, events.c.id == log.c.notification_id)
        .where(and_(log.c.stream_id.in_(sorted(streams)), log.c.version == 1))
    ).all()
    return {r.stream_id: str(json.loads(bytes(r.state))["slug"]) for r in rows}


def _change(
    position: int, recorded_at: str, topic: str, state: dict[str, Any], slug: str | None
) -> Change:
    # A topic is `module:Aggregate.Event`: the aggregate names the kind of record.
    aggregate, _, event = topic.rsplit(":", 1)[-1].partition(".")
    changes = state.get("changes")
    return Change(
        position=int(position),
        recorded_at=recorded_at,
        event_type=event,
        kind=aggregate.lower(),
        record_id=str(state.get("slug") or slug),
        fields=sorted(changes) if isinstance(changes, dict) else None,
        reason=state.get("reason"),
        key_id=state.get("key_id"),
        sources=_sources(state),
    )


def _sources(state: dict[str, Any]) -> list[SourceDoc]:
    """The sources an event carries: a correction's or retraction's own, or a record's."""
    for holder in (state, state.get("details"), state.get("content")):
        if isinstance(holder, dict) and isinstance(holder.get("sources"), list):
            return list(holder["sources"])
    return []
