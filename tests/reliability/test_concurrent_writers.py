"""Concurrent writers over HTTP: every acknowledged write stored once, refusals typed."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from api.http.app import create_app
from domain.records import record_uuid
from projections.service import Store
from tests.conftest import migrated
from tests.graphql_support import CORRECT_DECISION, DECISION, RECORD_DECISION, SOURCES, running
from tests.reliability.support import assert_log_has_no_gaps, cli, editor_key, log_rows

pytestmark = [pytest.mark.reliability, pytest.mark.slow]

WRITERS = 16
MUTATIONS = 50  # per writer: 800 mutations per backend (16 x 200 passes too, in 2 minutes each)
HOT = ["hot-0", "hot-1"]  # the decisions half of the writers correct at the same time


def _decision(ident: str, headline: str) -> dict[str, Any]:
    return {**DECISION, "id": ident, "headline": headline}


@contextlib.contextmanager
def _servers(store: Store, count: int) -> Iterator[list[str]]:
    """`count` API processes' worth of apps on one database, each behind its own server."""
    stores = [store] + [migrated(store.url) for _ in range(count - 1)]
    with contextlib.ExitStack() as stack:
        urls = [stack.enter_context(running(create_app(s))) for s in stores]
        yield urls
    for extra in stores[1:]:
        extra.close()


def _write(url: str, key: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    with httpx.Client(base_url=url, timeout=60) as client:
        response = client.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {key}"},
        )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    return next(iter(body["data"].values()))  # type: ignore[no-any-return]


def _writer(url: str, key: str, writer: int) -> list[tuple[str, str, dict[str, Any]]]:
    """Half the writers record decisions (in pairs racing on the same ids); half correct."""
    results = []
    for n in range(MUTATIONS):
        if writer < WRITERS // 2:
            ident = f"rec-{writer // 2}-{n}"
            result = _write(
                url, key, RECORD_DECISION, {"input": _decision(ident, f"writer {writer} says {n}")}
            )
        else:
            ident = HOT[n % len(HOT)]
            changes = {"headline": f"writer {writer} corrects {n}"}
            result = _write(
                url,
                key,
                CORRECT_DECISION,
                {"input": {"id": ident, "changes": changes, "reason": "load", "sources": SOURCES}},
            )
        results.append((ident, changes["headline"] if writer >= WRITERS // 2 else "", result))
    return results


def test_concurrent_writers_store_every_acknowledged_write_exactly_once(store: Store) -> None:
    key = editor_key(store)
    store.execute(
        "recordTreaty", {"id": "ottawa-convention", "name": "Mine Ban Treaty", "sources": SOURCES}
    )
    for ident in HOT:
        store.execute("recordDecision", _decision(ident, "first version"))
    with _servers(store, 2) as urls, ThreadPoolExecutor(WRITERS) as pool:
        futures = [pool.submit(_writer, urls[w % len(urls)], key, w) for w in range(WRITERS)]
        results = [r for f in futures for r in f.result()]

    kinds = {r["__typename"] for _, _, r in results}
    assert kinds <= {"RecordDecisionSuccess", "CorrectDecisionSuccess", "Conflict"}, kinds

    # Racing records of one id: exactly one acknowledged, the other a typed Conflict.
    recorded: dict[str, list[dict[str, Any]]] = {}
    for ident, _, result in results:
        if ident.startswith("rec-"):
            recorded.setdefault(ident, []).append(result)
    for ident, answers in recorded.items():
        winners = [a for a in answers if a["__typename"] == "RecordDecisionSuccess"]
        assert len(winners) == 1, (ident, answers)
        assert sorted(a["__typename"] for a in answers) == ["Conflict", "RecordDecisionSuccess"]
        assert store.read.decision(ident)["headline"] == winners[0]["decision"]["headline"]

    # Corrections: each acknowledged one is one event at the position it was given.
    acknowledged = {
        r["position"]: (ident, headline)
        for ident, headline, r in results
        if r["__typename"] == "CorrectDecisionSuccess"
    }
    refused = [r for i, _, r in results if i in HOT and r["__typename"] == "Conflict"]
    assert len(acknowledged) + len(refused) == WRITERS // 2 * MUTATIONS
    streams = {str(record_uuid("decision", ident)): ident for ident in HOT}
    corrections = {p: streams[s] for p, s, v in log_rows(store) if s in streams and v > 1}
    assert corrections == {p: ident for p, (ident, _) in acknowledged.items()}
    for ident in HOT:
        last = max(p for p, (i, _) in acknowledged.items() if i == ident)
        assert store.read.decision(ident)["headline"] == acknowledged[last][1]

    assert_log_has_no_gaps(store)
    store.projector.catch_up()
    verified = cli("verify", db=store.url)
    assert verified.returncode == 0, verified.stdout + verified.stderr
