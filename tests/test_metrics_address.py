"""Under --production, /metrics is never on the public port; --metrics-addr serves it apart."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import uvicorn
from starlette.applications import Starlette

from api.http.app import create_app
from bench.http import free_port
from projections.service import Store
from tests.graphql_support import running

STARTUP_TIMEOUT = 60  # generous: the machine is shared; only arrival is asserted


@contextlib.contextmanager
def with_lifespan(app: Starlette) -> Iterator[str]:
    """Serve `app` with its start-up and shutdown (the metrics listener starts there)."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def test_production_does_not_serve_metrics_on_the_public_port(store: Store) -> None:
    with running(create_app(store, production=True)) as base:
        assert httpx.get(f"{base}/metrics").status_code == 404
        assert httpx.get(f"{base}/healthz").status_code == 200


def test_metrics_are_served_on_their_own_address_and_count_the_public_requests(
    store: Store,
) -> None:
    address = ("127.0.0.1", free_port())
    app = create_app(store, production=True, metrics_addr=address)
    with with_lifespan(app) as base:
        public = httpx.get(f"{base}/metrics")
        httpx.get(f"{base}/healthz")
        private = httpx.get(f"http://{address[0]}:{address[1]}/metrics")
    assert public.status_code == 404
    assert private.status_code == 200
    assert 'policy_timeline_http_requests_total{method="GET",route="/healthz",status="200"}' in (
        private.text
    )
    assert "policy_timeline_database_up 1.0" in private.text


def test_serve_takes_the_metrics_address_and_the_public_url_from_the_command_line(
    tmp_path: Path,
) -> None:
    port, metrics_port = free_port(), free_port()
    command = [
        *(sys.executable, "-m", "api.cli", "serve", "--production"),
        *("--db", f"sqlite:///{tmp_path / 'store.sqlite3'}", "--port", str(port)),
        *("--metrics-addr", f"127.0.0.1:{metrics_port}"),
        *("--public-url", "https://timeline.example.org"),
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLICY_TIMELINE_")}
    with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True) as server:
        try:
            health = _when_up(f"http://127.0.0.1:{port}/healthz")
            assert health.status_code == 200
            own = {"Host": "timeline.example.org"}
            assert httpx.get(f"http://127.0.0.1:{port}/metrics", headers=own).status_code == 404
            forged = httpx.get(f"http://127.0.0.1:{port}/oembed", headers={"Host": "x.example"})
            assert forged.status_code == 400
            scrape = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics")
            assert scrape.status_code == 200 and "policy_timeline_database_up 1.0" in scrape.text
        finally:
            server.terminate()
        out, _ = server.communicate(timeout=30)
    assert "GraphQL: https://timeline.example.org/graphql" in out
    assert f"Metrics: http://127.0.0.1:{metrics_port}/metrics" in out


def test_serve_refuses_a_metrics_address_without_a_port(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "api.cli", "serve", "--metrics-addr", "localhost"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "COLUMNS": "300"},  # the message on one line of the error box
        timeout=60,
    )
    assert done.returncode == 2
    assert "metrics address 'localhost': give HOST:PORT" in done.stderr


def _when_up(url: str) -> httpx.Response:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        try:
            return httpx.get(url)
        except httpx.TransportError:
            assert time.monotonic() < deadline, f"{url} did not answer"
            time.sleep(0.1)
