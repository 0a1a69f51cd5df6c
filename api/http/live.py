"""Live timeline updates: one poller per process fans new entries out to subscribers."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TypeVar

import psycopg
from graphql import GraphQLError

from projections import settings
from projections.readmodels.documents import TimelineChange, TimelineEntry
from projections.readmodels.projector import PROJECTED_CHANNEL
from projections.service import Store

POLL_SECONDS = 0.2
REPOLL_SECONDS = 1.0  # with LISTEN/NOTIFY, a re-poll only guards against a lost notification
QUEUE_SIZE = 1000  # per subscriber: a client that stops reading loses entries, not memory
MAX_SUBSCRIPTIONS_ENV = settings.env_name("max_subscriptions")
DEFAULT_MAX_SUBSCRIPTIONS = settings.DEFAULTS.max_subscriptions
PER_CONNECTION_ENV = settings.env_name("max_subscriptions_per_connection")
DEFAULT_PER_CONNECTION = settings.DEFAULTS.max_subscriptions_per_connection
PER_ADDRESS_ENV = settings.env_name("max_subscriptions_per_address")
DEFAULT_PER_ADDRESS = settings.DEFAULTS.max_subscriptions_per_address
TOO_MANY = "TOO_MANY_SUBSCRIPTIONS"


def max_subscriptions_from_env() -> int:
    """The cap on concurrent subscriptions per process (POLICY_TIMELINE_MAX_SUBSCRIPTIONS)."""
    return settings.current().max_subscriptions


@dataclass(frozen=True)
class Caps:
    """Concurrent subscriptions allowed per process, per WebSocket and per remote address."""

    process: int = DEFAULT_MAX_SUBSCRIPTIONS
    connection: int = DEFAULT_PER_CONNECTION
    address: int = DEFAULT_PER_ADDRESS

    @classmethod
    def from_env(cls, process: int | None = None) -> Caps:
        """The caps POLICY_TIMELINE_MAX_SUBSCRIPTIONS[_PER_CONNECTION|_PER_ADDRESS] set."""
        chosen = settings.current()
        return cls(
            process=process or chosen.max_subscriptions,
            connection=chosen.max_subscriptions_per_connection,
            address=chosen.max_subscriptions_per_address,
        )


def _too_many(message: str) -> GraphQLError:
    return GraphQLError(f"{message}; retry later or poll", extensions={"code": TOO_MANY})


K = TypeVar("K")


def _forget(counter: Counter[K], key: K) -> None:
    """One subscription fewer for `key`; no key outlives its subscriptions."""
    counter[key] -= 1
    if counter[key] <= 0:
        del counter[key]


class Live:
    """Watches the timeline projection and pushes each new or changed entry to subscribers."""

    def __init__(
        self, store: Store, max_subscriptions: int | None = None, caps: Caps | None = None
    ) -> None:
        self.store = store
        self.caps = caps or Caps.from_env(max_subscriptions)
        self.max_subscriptions = self.caps.process
        self.subscribers: set[asyncio.Queue[TimelineChange]] = set()
        self.per_connection: Counter[int] = Counter()
        self.per_address: Counter[str] = Counter()
        self._task: asyncio.Task[None] | None = None

    def _admit(self, connection: int, address: str) -> None:
        """Count one more subscription, or refuse it: the socket's, the address's or the
        process's share is taken (one address cannot take every other reader's place)."""
        caps = self.caps
        if self.per_connection[connection] >= caps.connection:
            raise _too_many(
                f"this connection already holds its limit of {caps.connection} live"
                f" subscriptions ({PER_CONNECTION_ENV})"
            )
        if self.per_address[address] >= caps.address:
            raise _too_many(
                f"your address already holds its limit of {caps.address} live"
                f" subscriptions ({PER_ADDRESS_ENV})"
            )
        if len(self.subscribers) >= caps.process:
            raise _too_many(
                f"this server already holds its limit of {caps.process} live"
                f" subscriptions ({MAX_SUBSCRIPTIONS_ENV})"
            )
        self.per_connection[connection] += 1
        self.per_address[address] += 1

    def _release(self, connection: int, address: str) -> None:
        _forget(self.per_connection, connection)
        _forget(self.per_address, address)

    async def entries(
        self,
        *,
        country: str | None = None,
        system: str | None = None,
        category: str | None = None,
        connection: int = 0,
        address: str = "",
    ) -> AsyncIterator[TimelineEntry]:
        """Entries matching the filters (all entries when none is given), as they appear;
        `connection` and `address` say whose share of the caps the subscription takes."""
        wanted = {("country", country), ("system", system), ("category", category)}
        wanted = {w for w in wanted if w[1] is not None}
        self._admit(connection, address)
        queue: asyncio.Queue[TimelineChange] = asyncio.Queue(maxsize=QUEUE_SIZE)
        self.subscribers.add(queue)
        try:
            self._ensure_polling()
        except BaseException:
            self.subscribers.discard(queue)
            self._release(connection, address)
            raise
        try:
            seen: set[tuple[str, int]] = set()
            while True:
                change = await queue.get()
                if wanted and (change["kind"], change["key"]) not in wanted:
                    continue
                ident = (change["entry"]["decisionId"], change["position"])
                if ident in seen:  # one entry per version even if it matches several filters
                    continue
                seen.add(ident)
                yield change["entry"]
        finally:
            self.subscribers.discard(queue)
            self._release(connection, address)
            if not self.subscribers and self._task is not None:
                self._task.cancel()
                self._task = None

    def _ensure_polling(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._poll())

    async def _poll(self) -> None:
        loop = asyncio.get_running_loop()
        wake = asyncio.Event()
        stop = threading.Event()
        wait = POLL_SECONDS
        listener: threading.Thread | None = None
        if self.store.dialect == "postgresql":
            # Any process's projector NOTIFYs after applying events: wake up at once.
            wait = REPOLL_SECONDS
            listener = threading.Thread(
                target=_listen, args=(self.store, loop, wake, stop), daemon=True
            )
            listener.start()
        try:
            position = await asyncio.to_thread(self.store.read_position)
            while self.subscribers:
                changes = await asyncio.to_thread(self.store.read.changes_after, position)
                for change in changes:
                    position = max(position, change["position"])
                    for queue in list(self.subscribers):
                        with contextlib.suppress(asyncio.QueueFull):
                            queue.put_nowait(change)
                if not changes:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(wake.wait(), wait)
                    wake.clear()
        finally:
            stop.set()
            if listener is not None:
                await asyncio.to_thread(listener.join, 2.0)


def _listen(
    store: Store, loop: asyncio.AbstractEventLoop, wake: asyncio.Event, stop: threading.Event
) -> None:
    """LISTEN for projection progress on PostgreSQL and wake the poller (runs in a thread)."""
    conninfo = store.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    while not stop.is_set():
        try:
            # A connection of its own, outside the pool: it only ever listens.
            with psycopg.connect(conninfo, autocommit=True) as raw:
                raw.execute(f"LISTEN {PROJECTED_CHANNEL}")
                while not stop.is_set():
                    for _ in raw.notifies(timeout=0.25, stop_after=1):
                        loop.call_soon_threadsafe(wake.set)
        except Exception:  # an outage: the re-poll keeps subscriptions alive meanwhile
            stop.wait(REPOLL_SECONDS)
