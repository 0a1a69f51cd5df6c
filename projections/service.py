"""The store as the API and CLI use it: the application, its log and its read models."""

from __future__ import annotations

import time
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from domain.application import Applied
from projections import settings
from projections.audit import status
from projections.eventlog import durability
from projections.eventlog.chaincheck import Integrity, check_chain
from projections.eventlog.existence import StoreApplication
from projections.eventlog.recorder import ChainedRecorder, ping_when_rested, pool_options
from projections.readmodels import projector as projecting
from projections.readmodels.history import HistoryProjection
from projections.readmodels.membership import MembershipProjection
from projections.readmodels.projector import Projection, Projector
from projections.readmodels.queries import ReadModel
from projections.readmodels.rebuild import Rebuilt, rebuild_if_versions_changed
from projections.readmodels.timelines import TimelineProjection


def database_url(url: str | None = None) -> str:
    """The store URL: the argument, else POLICY_TIMELINE_DB, else the local SQLite file."""
    return url or settings.current().db


class Store:
    """One event store with its projections, opened from a SQLAlchemy URL.

    Opening connects to nothing and creates nothing. The steps that change the database are
    the caller's, in this order: `migrate()` creates the product's tables (and a SQLite
    file's folder) where missing, `rebuild_if_stale()` rebuilds the projections whose code
    version changed since their rows were written. `serve`, `worker`, `import` and the
    other commands call both."""

    def __init__(
        self,
        url: str | None = None,
        *,
        project_inline: bool = True,
        read_url: str | None = None,
        projections: Sequence[Projection] | None = None,
    ) -> None:
        self.url = database_url(url)
        self.project_inline = project_inline
        self.app = StoreApplication(
            env={
                "PERSISTENCE_MODULE": "projections.eventlog.recorder:Factory",
                "SQLALCHEMY_URL": self.url,
                "CREATE_TABLE": "false",  # migrate() does, when the caller says so
            }
        )
        recorder = self.app.recorder
        assert isinstance(recorder, ChainedRecorder)
        self.recorder = recorder
        engine = recorder.datastore.engine
        assert isinstance(engine, Engine)
        self.engine = engine
        if engine.dialect.name == "sqlite":
            _tune_sqlite(engine)
        chosen = projections or [TimelineProjection(), MembershipProjection(), HistoryProjection()]
        self.projector = Projector(self.app, list(chosen), engine)
        self.read_engine = engine
        self.primary = ReadModel(engine)  # what a write answers with: never behind a replica
        if read_url:
            self.read_engine = create_engine(read_url, **pool_options(read_url))
            ping_when_rested(self.read_engine)
        self.read = ReadModel(self.read_engine)

    def migrate(self) -> None:
        """Create what is missing of the product's tables: the event log and its hash chain,
        the Merkle tree, the verifications, the read models and their code versions.

        Tables are only ever added (`CREATE TABLE` where missing), so every process may run
        it at start, concurrently; a change to an existing table's columns comes with a
        projection version bump (the read models are rebuilt from the log, see
        `rebuild_if_stale`), and the log's own tables never change shape."""
        parsed = make_url(self.url)
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        self.recorder.create_table()
        status.create(self.engine)  # the audit's verifications, beside the log
        self.projector.create_tables()

    def rebuild_if_stale(self) -> Rebuilt | None:
        """Rebuild the projections if one's code version differs from its rows' (a first
        migrated open only records the versions)."""
        return rebuild_if_versions_changed(self)

    @cached_property
    def durability(self) -> str:
        """'ok' or 'at risk: …' (logged loudly), judged on first use; shown by /healthz."""
        return durability.check(self.engine)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def read_position(self) -> int:
        """The position the read models answering queries have applied (replica-aware)."""
        return self.projector.position(engine=self.read_engine)

    def head(self) -> int:
        """The last log position."""
        return self.recorder.head_position()

    def execute(self, op: str, data: Any, key_id: str | None = None) -> tuple[Applied, int | None]:
        """Validate, apply and save one operation, then bring the projections up to date."""
        applied, position = self.app.execute(op, data, key_id)
        if position is not None and not (
            not self.project_inline and self.wait_for(position, timeout=2.0)
        ):
            # Inline (SQLite), or no worker applied it in time: project here. The projector
            # is safe to run from several processes at once.
            self.projector.catch_up()
        return applied, position

    def wait_for(self, position: int, timeout: float = 5.0) -> bool:
        """Wait until the projections (kept by a worker) have applied `position`."""
        deadline = time.monotonic() + timeout
        while self.projector.position() < position:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True

    def save(self, events: Sequence[Any]) -> int | None:
        """Save events in one transaction (no projection)."""
        return self.app.save_events(events)

    def save_applied(self, events: Sequence[Any]) -> list[projecting.Applied]:
        """Save events in one transaction; return them as projections see them.

        Passing these to `projector.catch_up(recent=...)` spares reading and decoding
        what was just written (the projector still checks they are the next positions)."""
        recordings = self.app.save(*events)
        recorded_at = self.recorder.last_recorded_at.value
        return [
            projecting.Applied(r.domain_event, int(r.notification.id), recorded_at)
            for r in recordings
        ]

    def unit_of_work(self) -> Any:
        return self.app.unit_of_work()

    def integrity(self) -> Integrity:
        """Recompute the hash chain from the stored events (reads the whole log)."""
        return check_chain(self.app, self.engine)

    def integrity_status(self) -> status.Status:
        """The stored head and the last full verification: two reads, whatever the log's size."""
        return status.status(self.engine)

    def close(self) -> None:
        """Close the application and every pooled connection."""
        self.app.close()
        self.engine.dispose()
        self.read_engine.dispose()


def _tune_sqlite(engine: Engine) -> None:
    """Wait for other writers instead of failing with 'database is locked'; WAL, synchronous."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        durability.tune_sqlite_connection(dbapi_connection)

    if engine.url.database not in (None, "", ":memory:"):
        # Connections pooled before the listener existed lack the settings: open new ones.
        engine.dispose()
