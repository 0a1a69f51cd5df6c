"""A PostgreSQL outage: 503 with a clear message meanwhile, recovery by itself, nothing lost."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import make_url

from api.http.app import create_app
from tests.conftest import migrated
from tests.graphql_support import DECISION, RECORD_DECISION, RECORD_TREATY, TREATY, running
from tests.reliability.support import Proxy, assert_log_has_no_gaps, editor_key, reset_postgres

pytestmark = pytest.mark.reliability

TIMELINE = '{ countryTimeline(country: "UKR", first: 100) { edges { node { decisionId } } } }'


def _post(client: httpx.Client, query: str, variables: Any = None, key: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)


def _until_healthy(client: httpx.Client) -> httpx.Response:
    deadline = time.monotonic() + 30  # a bound against hanging, not a measured expectation
    while True:
        response = client.get("/healthz")
        if response.status_code == 200 or time.monotonic() > deadline:
            return response
        time.sleep(0.1)


class _Writer(threading.Thread):
    """Records a new decision in a loop, before, during and after the outage."""

    def __init__(self, url: str, key: str) -> None:
        super().__init__(daemon=True)
        self.url, self.key = url, key
        self.stop = threading.Event()
        self.acknowledged: list[str] = []
        self.statuses: set[int] = set()
        self.bodies: list[str] = []

    def run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=30) as client:
            n = 0
            while not self.stop.is_set():
                ident = f"during-{n}"
                response = _post(
                    client, RECORD_DECISION, {"input": {**DECISION, "id": ident}}, self.key
                )
                self.statuses.add(response.status_code)
                self.bodies.append(response.text)
                data = (response.json().get("data") or {}).get("recordDecision") or {}
                if data.get("__typename") == "RecordDecisionSuccess":
                    self.acknowledged.append(ident)
                n += 1
                time.sleep(0.05)


def test_a_database_outage_answers_503_then_recovers_by_itself_losing_nothing(
    pg_url: str,
) -> None:
    reset_postgres(pg_url)
    target = make_url(pg_url)
    proxy = Proxy((target.host or "127.0.0.1", target.port or 5432))
    store = migrated(proxy.url_for(pg_url))
    key = editor_key(store)
    try:
        with running(create_app(store)) as url, httpx.Client(base_url=url, timeout=30) as client:
            assert _post(client, RECORD_TREATY, {"input": TREATY}, key).status_code == 200
            writer = _Writer(url, key)
            writer.start()
            time.sleep(0.5)
            proxy.cut()
            try:
                read = _post(client, TIMELINE)
                write = _post(
                    client, RECORD_DECISION, {"input": {**DECISION, "id": "in-outage"}}, key
                )
                health = client.get("/healthz")
                embed = client.get("/embed/timeline", params={"country": "UKR"})
                deadline = time.monotonic() + 10  # let the writer meet the outage too
                while 503 not in writer.statuses and time.monotonic() < deadline:
                    time.sleep(0.05)
            finally:
                proxy.restore()
            recovered = _until_healthy(client)
            time.sleep(0.5)
            writer.stop.set()
            writer.join(30)
            after = _post(client, TIMELINE)
    finally:
        proxy.close()

    for response in (read, write):
        assert response.status_code == 503, response.text
        error = response.json()["errors"][0]
        assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"
        assert "database is unavailable" in error["message"]
    assert health.status_code == 503
    assert health.json() == {"ok": False, "error": "database unavailable"}
    assert embed.status_code == 503
    assert all("Traceback" not in text for text in [embed.text, *writer.bodies])
    assert writer.statuses <= {200, 503}, writer.statuses
    assert 503 in writer.statuses and writer.acknowledged

    assert recovered.status_code == 200, recovered.text
    assert after.status_code == 200 and "errors" not in after.json()
    stored = {e["node"]["decisionId"] for e in after.json()["data"]["countryTimeline"]["edges"]}
    assert set(writer.acknowledged) <= stored
    store.close()
    direct = migrated(pg_url)  # the proxy is gone: check the database itself
    try:
        assert all(direct.read.decision(ident) for ident in writer.acknowledged)
        assert direct.integrity().ok
        assert_log_has_no_gaps(direct)
    finally:
        direct.close()
