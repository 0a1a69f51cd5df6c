"""Which records exist: one indexed query for many ids, instead of loading each one."""

from __future__ import annotations

from collections.abc import Callable, Collection
from uuid import UUID

from sqlalchemy import Engine, bindparam, select

from domain.application import PolicyRecord
from projections.eventlog.recorder import events_table

CHUNK = 500
"""Ids per query, well under every backend's limit of bound parameters."""


def existing_checker(app: PolicyRecord, engine: Engine) -> Callable[[Collection[UUID]], set[UUID]]:
    """A function returning which of the given aggregate ids have a first event stored."""
    events = events_table(app)
    # The unique (originator_id, originator_version) index answers this without a scan.
    query = select(events.c.originator_id).where(
        events.c.originator_id.in_(bindparam("ids", expanding=True))
    )

    def existing(ids: Collection[UUID]) -> set[UUID]:
        wanted = list(ids)
        found: set[UUID] = set()
        with engine.connect() as conn:
            for start in range(0, len(wanted), CHUNK):
                rows = conn.execute(query, {"ids": wanted[start : start + CHUNK]})
                found.update(UUID(str(r[0])) for r in rows)
        return found

    return existing


class StoreApplication(PolicyRecord):
    """The application on this package's recorder: existence is one indexed query for many
    ids (see `existing_checker`), not a load of each record."""

    # The application's name names its stored tables (policyrecord_events): it stays.
    name = PolicyRecord.name

    def __init__(self, env: dict[str, str]) -> None:
        super().__init__(env=env)
        engine = self.recorder.datastore.engine  # type: ignore[attr-defined]
        self.existing = existing_checker(self, engine)
