"""A projection worker for PostgreSQL: one active per database, others on hot standby."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import Connection, text

if TYPE_CHECKING:
    # The facade composes what this module serves; it is only named here, never imported.
    from projections.service import Store


log = logging.getLogger("policy_timeline.worker")

# One advisory lock id for the projector of this product (an arbitrary fixed 63-bit number).
LOCK_ID = 0x7074_6C69_6E65  # "ptline"


@dataclass
class WorkerState:
    """What a worker is doing, for /healthz and tests."""

    active: bool = False
    applied: int = 0
    last_error: str | None = None
    since: float = field(default_factory=time.monotonic)


class ProjectionWorker:
    """Keeps the projections caught up: LISTEN/NOTIFY wake-ups plus a periodic re-poll.

    Only the holder of a PostgreSQL advisory lock projects; a second worker waits on
    the lock and takes over within `standby_seconds` when the first one dies.
    """

    def __init__(
        self, store: Store, *, poll_seconds: float = 1.0, standby_seconds: float = 1.0
    ) -> None:
        if store.dialect != "postgresql":
            raise ValueError("the projection worker needs PostgreSQL; SQLite projects inline")
        self.store = store
        self.poll_seconds = poll_seconds
        self.standby_seconds = standby_seconds
        self.state = WorkerState()
        self._wake = threading.Event()

    def run(self, stop: threading.Event) -> None:
        """Work until `stop` is set, surviving database outages."""
        while not stop.is_set():
            try:
                with self.store.engine.connect() as lock_conn:
                    if self._try_lock(lock_conn):
                        self._work(lock_conn, stop)
                        continue
            except Exception as exc:  # an outage: say so, wait, try again
                self.state.last_error = str(exc).splitlines()[0]
                log.warning("projection worker: %s", self.state.last_error)
            self.state.active = False
            stop.wait(self.standby_seconds)

    @staticmethod
    def _try_lock(conn: Connection) -> bool:
        got = conn.execute(text("SELECT pg_try_advisory_lock(:id)"), {"id": LOCK_ID}).scalar()
        conn.commit()
        return bool(got)

    def _work(self, lock_conn: Connection, stop: threading.Event) -> None:
        self.state.active, self.state.last_error = True, None
        log.info("projection worker is active")
        subscription = self.store.recorder.subscribe(gt=self.store.recorder.max_notification_id())
        listener = threading.Thread(target=self._listen, args=(subscription,), daemon=True)
        listener.start()
        try:
            while not stop.is_set():
                self.state.applied += self.store.projector.catch_up()
                # Re-poll even without a NOTIFY: a notification can be lost, and one sent
                # while the subscription starts can be missed (known library gaps).
                self._wake.wait(self.poll_seconds)
                self._wake.clear()
                lock_conn.execute(text("SELECT 1"))  # the lock lives as long as this session
                lock_conn.commit()
        finally:
            subscription.stop()
            listener.join(timeout=5)
            self.state.active = False

    def _listen(self, subscription: Iterable[object]) -> None:
        try:
            for _ in subscription:
                self._wake.set()
        except Exception as exc:  # the re-poll keeps projecting; note why wake-ups stopped
            self.state.last_error = f"subscription ended: {exc}"


def start_in_thread(store: Store, **kwargs: float) -> tuple[ProjectionWorker, threading.Event]:
    """Run a worker in a daemon thread; set the returned event to stop it."""
    worker = ProjectionWorker(store, **kwargs)
    stop = threading.Event()
    threading.Thread(target=worker.run, args=(stop,), daemon=True, name="projection-worker").start()
    return worker, stop
