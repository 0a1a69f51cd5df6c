"""`serve` writes one line per request (uvicorn's access log, on stdout) unless told not to
(`--no-access-log`)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from bench.http import free_port

STARTUP_TIMEOUT = 60  # generous: the machine is shared; only arrival is asserted


def served_output(tmp_path: Path, *options: str) -> str:
    """What `serve` (with `options`) that answered one request for /healthz?probe=1 wrote, stdout
    and stderr."""
    port = free_port()
    command = [
        *(sys.executable, "-m", "api.cli", "serve", "--port", str(port)),
        *("--db", f"sqlite:///{tmp_path / 'store.sqlite3'}", *options),
    ]
    clean = {k: v for k, v in os.environ.items() if not k.startswith("POLICY_TIMELINE_")}
    with subprocess.Popen(
        command,
        env=clean,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as server:
        try:
            deadline = time.monotonic() + STARTUP_TIMEOUT
            while True:
                assert server.poll() is None, server.communicate()
                try:
                    answer = httpx.get(f"http://127.0.0.1:{port}/healthz?probe=1", timeout=5)
                    break
                except httpx.TransportError:
                    assert time.monotonic() < deadline, "serve did not start"
                    time.sleep(0.05)
            assert answer.status_code == 200
        finally:
            server.terminate()
        out, _ = server.communicate(timeout=30)
    assert "Application startup complete" in out  # uvicorn's own log stays on either way
    return out


def test_serve_logs_each_request_by_default(tmp_path: Path) -> None:
    assert '"GET /healthz?probe=1 HTTP/1.1" 200' in served_output(tmp_path)


def test_no_access_log_leaves_requests_unlogged(tmp_path: Path) -> None:
    assert "/healthz" not in served_output(tmp_path, "--no-access-log")
