"""Scale-out on PostgreSQL with real processes: two API processes, two projection workers."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import ClientConnection, connect

from api.http.keys import KeyRing
from api.importing.commands import import_lines
from bench.http import free_port
from tests.conftest import ROOT, SOURCE, _reset_pg, migrated, seed_lines
from tests.graphql_support import RECORD_DECISION, gql

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

TIMELINE = """
query ($country: String!, $minPosition: Int) {
  countryTimeline(country: $country, first: 100, minPosition: $minPosition) {
    edges { node { decisionId position } }
  }
}"""
SUBSCRIBE = """
subscription ($country: String) { timelineUpdated(country: $country) { decisionId position } }
"""


class Processes:
    """Starts and stops `policy-timeline` processes, keeping their output in files."""

    def __init__(self, url: str, logs: Path) -> None:
        self.url, self.logs = url, logs
        self.running: dict[str, subprocess.Popen[bytes]] = {}
        self.files: list[Any] = []

    def start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        out = (self.logs / f"{name}.log").open("wb")
        self.files.append(out)
        process = subprocess.Popen(
            [sys.executable, "-m", "api.cli", *args, "--db", self.url],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        self.running[name] = process
        return process

    def api(self, name: str, *extra: str) -> str:
        port = free_port()
        self.start(name, "serve", "--port", str(port), *(extra or ("--no-worker",)))
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    return base
            assert self.running[name].poll() is None, self.log(name)
            time.sleep(0.1)
        raise AssertionError(f"{name} did not start: {self.log(name)}")

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")

    def active_worker(self, names: list[str], timeout: float = 20) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            active = [n for n in names if "projection worker is active" in self.log(n)]
            if active:
                assert len(active) == 1, "two workers must never be active at once"
                return active[0]
            time.sleep(0.05)
        raise AssertionError("no worker became active")

    def stop_all(self) -> None:
        for process in self.running.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.running.values():
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        for out in self.files:
            out.close()


@pytest.fixture
def cluster(pg_url: str, tmp_path: Path) -> Iterator[tuple[Processes, str]]:
    _reset_pg(pg_url)
    store = migrated(pg_url)
    import_lines(store, seed_lines())
    _, editor = KeyRing(store.engine).create("editor")
    store.close()
    processes = Processes(pg_url, tmp_path)
    try:
        yield processes, editor
    finally:
        processes.stop_all()


@contextlib.contextmanager
def _subscribed(base: str, country: str) -> Iterator[ClientConnection]:
    """A graphql-transport-ws subscription to `country`'s timeline on one API process."""
    url = base.replace("http://", "ws://") + "/graphql"
    with connect(url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        ws.send(json.dumps({"type": "connection_init"}))
        assert json.loads(ws.recv(timeout=10))["type"] == "connection_ack"
        payload = {"query": SUBSCRIBE, "variables": {"country": country}}
        ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
        time.sleep(0.5)  # let the subscription register before anything happens
        yield ws


def _decision(ident: str, country: str = "FRA") -> dict[str, Any]:
    return {
        "id": ident,
        "actor": country,
        "action": "DELIVER",
        "recipient": "UKR",
        "decidedOn": "2024-05",
        "headline": ident,
        "sources": SOURCE,
    }


def _record(client: httpx.Client, editor: str, ident: str, country: str = "FRA") -> int:
    body = gql(client, RECORD_DECISION, {"input": _decision(ident, country)}, editor)
    result = body["data"]["recordDecision"]
    assert result["__typename"] == "RecordDecisionSuccess", body
    position: int = result["position"]
    return position


def test_a_write_on_one_api_process_reaches_a_subscriber_and_a_reader_on_the_other(
    cluster: tuple[Processes, str],
) -> None:
    processes, editor = cluster
    processes.start("worker-a", "worker", "--poll", "0.5")
    processes.active_worker(["worker-a"])
    a, b = processes.api("api-a"), processes.api("api-b")
    with _subscribed(b, "FRA") as ws:
        with httpx.Client(base_url=a, timeout=10) as client:
            sent = time.monotonic()
            position = _record(client, editor, "fra-across-processes")
        message = json.loads(ws.recv(timeout=10))
        latency = time.monotonic() - sent
    assert message["payload"]["data"]["timelineUpdated"] == {
        "decisionId": "fra-across-processes",
        "position": position,
    }
    print(f"cross-process subscription latency: {latency * 1000:.0f} ms")
    with httpx.Client(base_url=b, timeout=10) as reader:
        body = gql(reader, TIMELINE, {"country": "FRA", "minPosition": position})
    ids = [e["node"]["decisionId"] for e in body["data"]["countryTimeline"]["edges"]]
    assert ids == ["fra-across-processes"], "minPosition works whichever process answers"


def test_killing_the_active_worker_hands_over_to_the_standby_and_loses_nothing(
    cluster: tuple[Processes, str], pg_url: str
) -> None:
    processes, editor = cluster
    processes.start("worker-a", "worker", "--poll", "0.5")
    first = processes.active_worker(["worker-a"])
    processes.start("worker-b", "worker", "--poll", "0.5")
    api = processes.api("api-a")
    with httpx.Client(base_url=api, timeout=15) as client:
        for i in range(5):
            _record(client, editor, f"before-{i}")
        processes.running[first].send_signal(signal.SIGKILL)
        processes.running[first].wait(10)
        assert processes.active_worker(["worker-b"]) == "worker-b"
        positions = [_record(client, editor, f"after-{i}") for i in range(5)]
        body = gql(client, TIMELINE, {"country": "FRA", "minPosition": positions[-1]})
    ids = [e["node"]["decisionId"] for e in body["data"]["countryTimeline"]["edges"]]
    assert sorted(ids) == sorted(
        [f"before-{i}" for i in range(5)] + [f"after-{i}" for i in range(5)]
    )
    store = migrated(pg_url)
    try:
        assert store.projector.position() == store.head()
        digests = store.projector.digests()
        store.projector.rebuild()
        assert store.projector.digests() == digests, "nothing skipped or applied twice"
    finally:
        store.close()


def test_sustained_writes_through_two_api_processes_keep_timeline_positions_growing(
    cluster: tuple[Processes, str],
) -> None:
    processes, editor = cluster
    processes.start("worker-a", "worker", "--poll", "0.5")
    processes.start("worker-b", "worker", "--poll", "0.5")
    processes.active_worker(["worker-a", "worker-b"])
    apis = [processes.api("api-a"), processes.api("api-b")]
    seconds = float(os.environ.get("POLICY_TIMELINE_SUSTAINED_SECONDS", "60"))
    stop = threading.Event()
    acknowledged: list[int] = []
    problems: list[str] = []

    def write(base: str, prefix: str) -> None:
        with httpx.Client(base_url=base, timeout=15) as client:
            i = 0
            while not stop.is_set():
                try:
                    acknowledged.append(_record(client, editor, f"{prefix}-{i}", "DEU"))
                except AssertionError as exc:
                    problems.append(str(exc))
                i += 1

    def read() -> None:
        seen = 0
        with httpx.Client(base_url=apis[1], timeout=15) as client:
            while not stop.is_set():
                head = httpx.get(f"{apis[0]}/healthz", timeout=5).json()["projected"]
                body = gql(client, TIMELINE, {"country": "DEU"})
                count = len(body["data"]["countryTimeline"]["edges"])
                if count < min(seen, 100):
                    problems.append(f"the timeline shrank from {seen} to {count} entries")
                seen = max(seen, count)
                if head < 0:
                    problems.append("negative projected position")

    threads = [
        threading.Thread(target=write, args=(apis[0], "a")),
        threading.Thread(target=write, args=(apis[1], "b")),
        threading.Thread(target=read),
    ]
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join(30)
    assert problems == []
    assert len(acknowledged) == len(set(acknowledged)) > 0
    with httpx.Client(base_url=apis[0], timeout=15) as client:
        health = client.get("/healthz").json()
        assert health["head"] >= max(acknowledged)
        metrics = client.get("/metrics").text
    assert "policy_timeline_events_appended_total" in metrics
    print(f"sustained: {len(acknowledged)} writes in {seconds:.0f} s through two API processes")


def test_sigterm_closes_subscriptions_with_code_1012_and_releases_the_worker_lock(
    cluster: tuple[Processes, str],
) -> None:
    processes, _ = cluster
    base = processes.api("api-a", "--worker")
    deadline = time.monotonic() + 20
    while httpx.get(f"{base}/healthz", timeout=5).json().get("worker") != "active":
        assert time.monotonic() < deadline, "the embedded worker did not become active"
        time.sleep(0.1)
    processes.start("worker-b", "worker", "--poll", "0.5")
    with _subscribed(base, "FRA") as ws:
        processes.running["api-a"].send_signal(signal.SIGTERM)
        with pytest.raises(Exception):  # noqa: B017 - any close ends the iteration
            while True:
                ws.recv(timeout=15)
        assert ws.close_code == 1012
    # uvicorn finishes in-flight work, then re-raises SIGTERM so supervisors see why it exited.
    assert processes.running["api-a"].wait(15) in (0, -signal.SIGTERM)
    assert "Finished server process" in processes.log("api-a")
    # The API process ran the embedded worker: the standby takes the lock it released.
    assert processes.active_worker(["worker-b"]) == "worker-b"


def test_a_read_replica_answers_queries_and_minposition_refuses_its_stale_answers(
    pg_url: str,
) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from api.http.app import create_app
    from tests.graphql_support import serving

    _reset_pg(pg_url)
    seeded = migrated(pg_url)
    import_lines(seeded, seed_lines())
    _, editor = KeyRing(seeded.engine).create("editor")
    seeded.close()
    primary = make_url(pg_url)
    replica = primary.set(database=f"{primary.database}_replica")
    admin = create_engine(primary.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{replica.database}"'))
        # A snapshot copy stands for a replica that has not replayed the next write yet.
        conn.execute(text(f'CREATE DATABASE "{replica.database}" TEMPLATE "{primary.database}"'))
    replica_url = replica.render_as_string(hide_password=False)
    store = migrated(pg_url, read_url=replica_url)
    try:
        with serving(create_app(store)) as client:
            position = _record(client, editor, "fra-after-the-snapshot")
            fresh = gql(client, TIMELINE, {"country": "FRA", "minPosition": position})
            stale = gql(client, TIMELINE, {"country": "FRA"})
        assert fresh["errors"][0]["extensions"]["code"] == "STALE"
        assert stale["data"]["countryTimeline"]["edges"] == [], "reads come from the replica"
        assert store.read.decision("fra-after-the-snapshot") is None
        assert store.primary.decision("fra-after-the-snapshot") is not None
    finally:
        store.close()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{replica.database}" WITH (FORCE)'))
        admin.dispose()
