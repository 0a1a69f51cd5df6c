"""Live timeline updates: one poller per process fans new entries out to subscribers."""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import AsyncIterator
from typing import Any

import psycopg
from graphql import GraphQLError

from projections.projector import PROJECTED_CHANNEL
from projections.service import Store

POLL_SECONDS = 0.2
REPOLL_SECONDS = 1.0  # with LISTEN/NOTIFY, a re-poll only guards against a lost notification
QUEUE_SIZE = 1000  # per subscriber: a client that stops reading loses entries, not memory
MAX_SUBSCRIPTIONS_ENV = "POLICY_TIMELINE_MAX_SUBSCRIPTIONS"
DEFAULT_MAX_SUBSCRIPTIONS = 2000
TOO_MANY = "TOO_MANY_SUBSCRIPTIONS"


def max_subscriptions_from_env() -> int:
    """The cap on concurrent subscriptions per process (POLICY_TIMELINE_MAX_SUBSCRIPTIONS)."""
    text = os.environ.get(MAX_SUBSCRIPTIONS_ENV, "").strip() or str(DEFAULT_MAX_SUBSCRIPTIONS)
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"{MAX_SUBSCRIPTIONS_ENV}: must be a whole number ≥ 1, not {text!r}")
    return int(text)


class Live:
    """Watches the timeline projection and pushes each new or changed entry to subscribers."""

    def __init__(self, store: Store, max_subscriptions: int | None = None) -> None:
        self.store = store
        self.max_subscriptions = max_subscriptions or max_subscriptions_from_env()
        self.subscribers: set[asyncio.Queue[dict[str, Any]]] = set()
        self._task: asyncio.Task[None] | None = None

    async def entries(
        self, *, country: str | None = None, system: str | None = None, category: str | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        """Entries matching the filters (all entries when none is given), as they appear."""
        wanted = {("country", country), ("system", system), ("category", category)}
        wanted = {w for w in wanted if w[1] is not None}
        if len(self.subscribers) >= self.max_subscriptions:
            raise GraphQLError(
                f"this server already holds its limit of {self.max_subscriptions} live"
                f" subscriptions ({MAX_SUBSCRIPTIONS_ENV}); retry later or poll",
                extensions={"code": TOO_MANY},
            )
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=QUEUE_SIZE)
        self.subscribers.add(queue)
        self._ensure_polling()
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
