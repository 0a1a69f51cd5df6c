"""Read statements run on the event loop, on a few connections of their own (PostgreSQL).

A compiled `decision(id:)` whose plan is kept is one statement and a few dozen microseconds
of building its answer: handing it to a worker thread and back cost the server more than
the work itself (the hand-over, waking the thread, and the threads taking turns on the
interpreter). `LoopConnections` runs such a statement with psycopg's asynchronous
connection on the running event loop instead: at most `size` connections, opened when
first needed, in autocommit (each read is one statement, which read committed gives a
snapshot of its own, as `ReadModel.pinned` reads), so there is no check-out, no liveness
ping and no transaction per request. A connection whose statement fails or is cancelled is
closed, never reused; the caller then reads the ordinary way (a worker thread, the pool).
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg.rows import namedtuple_row
from sqlalchemy import Engine

CONNECTIONS = 4
"""Connections a process keeps for reads on the event loop (its statements wait for one)."""


class LoopConnections:
    """Up to `size` autocommit connections to the database of `engine`, for the running
    event loop (those of an earlier loop are closed when another one asks)."""

    def __init__(self, engine: Engine, size: int = CONNECTIONS) -> None:
        _args, params = engine.dialect.create_connect_args(engine.url)
        self.params = {**params, "autocommit": True}
        self.size = size
        self.loop: asyncio.AbstractEventLoop | None = None
        self.tokens = asyncio.Semaphore(size)
        self.idle: list[psycopg.AsyncConnection[Any]] = []
        # Closed with this object too (the connections' sockets, without an event loop).
        self._finalizer = weakref.finalize(self, _finish, self.idle)

    async def rows(self, text: str, values: dict[str, Any]) -> Sequence[Any]:
        """The rows (named tuples) of one statement, `text` with its `values` bound."""
        loop = asyncio.get_running_loop()
        if loop is not self.loop:
            _finish(self.idle)  # an earlier loop's connections serve no other loop
            self.loop, self.tokens = loop, asyncio.Semaphore(self.size)
        async with self.tokens:
            conn = self.idle.pop() if self.idle else await self._connect()
            try:
                async with conn.cursor(row_factory=namedtuple_row) as cursor:
                    await cursor.execute(text, values)
                    rows = await cursor.fetchall()
            except BaseException:
                conn.pgconn.finish()  # mid-statement or broken: never reused
                raise
            if loop is self.loop:
                self.idle.append(conn)
            else:  # pragma: no cover - the loop changed while this statement ran
                conn.pgconn.finish()
            return rows

    async def _connect(self) -> psycopg.AsyncConnection[Any]:
        return await psycopg.AsyncConnection.connect(**self.params)

    def close(self) -> None:
        """Close the idle connections (those in use are closed as their statements end)."""
        _finish(self.idle)


def _finish(connections: list[psycopg.AsyncConnection[Any]]) -> None:
    while connections:
        conn = connections.pop()  # held until closed: not collected before (a warning)
        with contextlib.suppress(Exception):
            conn.pgconn.finish()
