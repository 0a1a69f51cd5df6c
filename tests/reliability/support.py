"""Shared helpers for the reliability suite: servers, keys, the CLI in a subprocess, a TCP proxy."""

from __future__ import annotations

import contextlib
import os
import selectors
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import select

from api.http.keys import KeyRing
from bench.http import free_port
from projections.eventlog.ledger import log
from projections.service import Store

ROOT = Path(__file__).resolve().parents[2]


def editor_key(store: Store, role: str = "editor") -> str:
    """A fresh API key token for `store`'s database."""
    _key, token = KeyRing(store.engine).create(role, label="reliability")
    return token


def cli(*args: str, db: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run `policy-timeline ARGS --db DB` in a child process."""
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args, "--db", db],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )


def cli_process(*args: str, db: str) -> subprocess.Popen[str]:
    """Start `policy-timeline ARGS --db DB` without waiting for it."""
    return subprocess.Popen(
        [sys.executable, "-m", "api.cli", *args, "--db", db],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def log_rows(store: Store) -> list[tuple[int, str, int]]:
    """(position, stream id, version) of every event in the hash-chained log, in order."""
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(log.c.position, log.c.stream_id, log.c.version).order_by(log.c.position)
        ).all()
    return [(int(p), str(s), int(v)) for p, s, v in rows]


def assert_log_has_no_gaps(store: Store) -> None:
    """Positions run 1..head and every stream's versions run 1..n, each exactly once."""
    rows = log_rows(store)
    assert [p for p, _, _ in rows] == list(range(1, len(rows) + 1))
    versions: dict[str, list[int]] = {}
    for _, stream, version in rows:
        versions.setdefault(stream, []).append(version)
    for stream, seen in versions.items():
        assert seen == list(range(1, len(seen) + 1)), f"stream {stream}: versions {seen}"


class Proxy:
    """A TCP forwarder 127.0.0.1:port → target that a test can cut and restore (an outage)."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self._up = threading.Event()
        self._up.set()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._listener.settimeout(0.1)
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def url_for(self, url: str) -> str:
        """`url` (a SQLAlchemy URL) with its host and port replaced by the proxy's."""
        from sqlalchemy.engine import make_url

        parsed = make_url(url).set(host="127.0.0.1", port=self.port)
        return parsed.render_as_string(hide_password=False)

    def cut(self) -> None:
        """Drop every open connection and refuse new ones until `restore`."""
        self._up.clear()
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for a, b in pairs:
            for s in (a, b):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()

    def restore(self) -> None:
        self._up.set()

    def close(self) -> None:
        self._stop.set()
        self.cut()
        self._thread.join(5)
        self._listener.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if not self._up.is_set():
                client.close()  # the database is "down": connection refused mid-handshake
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._pairs.append((client, upstream))
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, a: socket.socket, b: socket.socket) -> None:
        sel = selectors.DefaultSelector()
        try:
            sel.register(a, selectors.EVENT_READ, b)
            sel.register(b, selectors.EVENT_READ, a)
            while not self._stop.is_set():
                for key, _ in sel.select(timeout=0.2):
                    data = key.fileobj.recv(65536)  # type: ignore[union-attr]
                    if not data:
                        return
                    key.data.sendall(data)
        except (OSError, ValueError):
            return
        finally:
            sel.close()
            for s in (a, b):
                with contextlib.suppress(OSError):
                    s.close()


def body_of(response: Any) -> dict[str, Any]:
    """The decoded JSON body of an HTTP response."""
    data: dict[str, Any] = response.json()
    return data


def reset_postgres(url: str) -> None:
    """Empty the test database (a fresh public schema)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
