"""Calls the bench's load process runs in the tests (a module of its own: the load process
imports a call's function by its module's name)."""

from __future__ import annotations

import asyncio
import os

from bench.http import _run


async def _connections(count: int) -> None:
    """`count` TCP connections opened and closed against a server of this loop."""

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    writers = []
    for _ in range(count):
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        writers.append(writer)
    for writer in writers:
        writer.close()
    server.close()
    await server.wait_closed()


def connect_then_answer(count: int, size: int) -> bytes:
    """Runs in the load process: a uvloop run with `count` connections, then `size` bytes."""
    _run(_connections(count))
    return os.urandom(size)
