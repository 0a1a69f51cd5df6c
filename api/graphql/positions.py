"""What the read models answer at, held in memory: a response-cache hit reads no database.

The response cache keys an answer on every projection's position and code version (and
today's date). Reading them costs a database round trip, which is most of what a hit would
cost, so a `PositionWatch` holds the last state it read, and throws it away as soon as it
may be out of date:

- when this process's projector commits (a mutation projected inline, an import, the
  embedded worker): its generation counter moves, checked on every use;
- on PostgreSQL, when any process's projector commits or a rebuild swaps rows in: they
  NOTIFY on `PROJECTED_CHANNEL`, and a thread of the watch LISTENs there;
- after `HOLD_SECONDS` in any case (`LISTENING_HOLD_SECONDS` while the LISTEN connection
  is up, a guard against a silently dead connection).

So an answer served from the cache reflects every write this process projected before the
request, every write announced to it before the request, and every write committed more
than the hold before the request. A state is re-read in a thread, never on the event loop,
by one request at a time; the others wait for that read.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
from sqlalchemy import Engine, event, literal_column, select, union_all

from projections.readmodels import tables
from projections.readmodels.projector import PROJECTED_CHANNEL

log = logging.getLogger("policy_timeline")

HOLD_SECONDS = 0.005
"""How long a state read is used without a notification channel (SQLite, a read replica)."""
LISTENING_HOLD_SECONDS = 0.25
"""How long a state read is used while this process LISTENs to the projectors' notifications."""
ROUNDS = 3
"""Re-reads a request waits for while writes keep moving the state; then it runs uncached."""
RECONNECT_SECONDS = 1.0


def read_state(engine: Engine) -> Callable[[], tuple[Any, ...]]:
    """A function returning what the read models answer at: one small query, plus the date.

    Every projection's tracking position (not only the slowest: projections may stand at
    different positions for a moment) and every projection's code version (a rebuild by a
    newer release swaps rows in under the same positions), read where queries read."""
    t, v = tables.tracking, tables.projection_versions
    statement = union_all(
        select(literal_column("'p'"), t.c.projection, t.c.position),
        select(literal_column("'v'"), v.c.projection, v.c.version),
    )

    def state() -> tuple[Any, ...]:
        with engine.connect() as conn:
            rows = conn.execute(statement).all()
        return (*sorted((str(a), str(b), int(c)) for a, b, c in rows), dt.date.today())

    return state


@dataclass(frozen=True)
class _Held:
    state: tuple[Any, ...]
    marks: tuple[int, int]
    """(notifications seen, projector generation) just before the read began."""
    started: float
    until: float


class PositionWatch:
    """The read models' state, read off the event loop and held until it may have moved.

    `generation` returns a number this process's projector moves on every commit.
    `listen_engine` is the PostgreSQL database whose projectors NOTIFY, when it is the one
    queries read (a read replica's position lags its primary's notifications: no LISTEN)."""

    def __init__(
        self,
        read_engine: Engine,
        generation: Callable[[], int] = lambda: 0,
        listen_engine: Engine | None = None,
    ) -> None:
        self._read = read_state(read_engine)
        self._generation = generation
        self._listen_engine = listen_engine
        self.hold, self.listening_hold = HOLD_SECONDS, LISTENING_HOLD_SECONDS
        self.notified = 0  # moved by the LISTEN thread only
        self.listening = False
        self.reads = 0
        self._held: _Held | None = None
        self._refresh: asyncio.Future[tuple[Any, ...]] | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        if listen_engine is not None:
            # Store.close() disposes the engine: the LISTEN connection goes with it.
            event.listen(listen_engine, "engine_disposed", lambda *_: self.close())

    @classmethod
    def for_store(cls, store: Any) -> PositionWatch:
        engine: Engine = store.engine
        listen = (
            engine if store.read_engine is engine and engine.dialect.name == "postgresql" else None
        )
        return cls(store.read_engine, lambda: store.projector.generation, listen)

    def _marks(self) -> tuple[int, int]:
        return (self.notified, self._generation())

    def held(self) -> tuple[Any, ...] | None:
        """The held state while nothing says it moved, else None: no database read."""
        held = self._held
        if held is None or time.monotonic() >= held.until or held.marks != self._marks():
            return None
        if held.state[-1] != dt.date.today():
            return None
        return held.state

    async def current(self) -> tuple[Any, ...] | None:
        """The held state, re-read in a thread when it may have moved; None when writes
        moved it again during each of `ROUNDS` reads (the caller then runs uncached)."""
        self._ensure_listening()
        for _ in range(ROUNDS):
            state = self.held()
            if state is not None:
                return state
            if self._refresh is None or self._refresh.done():
                self._refresh = asyncio.ensure_future(self.fresh())
            await asyncio.shield(self._refresh)
        return None

    async def fresh(self) -> tuple[Any, ...]:
        """Read the state now, in a thread, and hold it."""
        marks, listening, started = self._marks(), self.listening, time.monotonic()
        state = await asyncio.to_thread(self._read)
        self.reads += 1
        held = self._held
        if held is None or started >= held.started:
            hold = self.listening_hold if listening else self.hold
            self._held = _Held(state, marks, started, started + hold)
        return state

    def _ensure_listening(self) -> None:
        if self._listen_engine is None or self._thread is not None or self._stop.is_set():
            return
        url = self._listen_engine.url.set(drivername="postgresql")
        self._thread = threading.Thread(
            target=self._listen,
            args=(url.render_as_string(hide_password=False),),
            name="position-watch",
            daemon=True,
        )
        self._thread.start()

    def _listen(self, conninfo: str) -> None:
        """LISTEN for projection progress and count notifications (runs in its own thread)."""
        while not self._stop.is_set():
            try:
                # A connection of its own, outside the pool: it only ever listens.
                with psycopg.connect(conninfo, autocommit=True) as raw:
                    raw.execute(f"LISTEN {PROJECTED_CHANNEL}")
                    self.listening = True  # only reads that begin from now on rely on it
                    while not self._stop.is_set():
                        for _ in raw.notifies(timeout=0.25, stop_after=1):
                            self.notified += 1
            except Exception:  # an outage: states are held HOLD_SECONDS meanwhile
                log.debug("position watch: LISTEN connection lost", exc_info=True)
            finally:
                self.listening = False
                self.notified += 1  # what was held while listening is not trusted any more
            self._stop.wait(RECONNECT_SECONDS)

    def close(self) -> None:
        """Stop listening (the thread ends within a quarter of a second)."""
        self._stop.set()
        self.listening = False
        self.notified += 1
