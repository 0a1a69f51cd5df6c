"""Persisted queries as Apollo clients send them, over real HTTP and WebSocket."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect

from api.http.app import create_app
from api.http.limits import load_persisted, query_hash
from api.http.persisted import AutomaticStore
from api.importing.commands import import_lines
from projections.service import Store
from tests.conftest import seed_lines
from tests.graphql_support import serving
from tests.node_support import node_prefix

QUERY = "query Typename($skip: Boolean = false) { __typename @skip(if: $skip) }"
PAGE = (
    'query P($first: Int) { countryTimeline(country: "UKR", first: $first) { edges { cursor } } }'
)
SUBSCRIBE = "subscription { timelineUpdated { decisionId } }"
NOT_FOUND = {
    "errors": [
        {"message": "PersistedQueryNotFound", "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}
    ]
}
GRAPHQL_RESPONSE = "application/graphql-response+json"


def _hashed(query: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": query_hash(query)}}


def _get(client: httpx.Client, query: str, variables: dict[str, Any], **headers: str) -> Any:
    params = {"extensions": json.dumps(_hashed(query)), "variables": json.dumps(variables)}
    return client.get("/graphql", params=params, headers={"accept": "application/json", **headers})


def test_an_unknown_hash_asks_for_the_query_which_is_then_registered(store: Store) -> None:
    with serving(create_app(store)) as client:
        first = client.post("/graphql", json={"extensions": _hashed(QUERY)})
        strict = client.post(
            "/graphql", json={"extensions": _hashed(QUERY)}, headers={"accept": GRAPHQL_RESPONSE}
        )
        retry = client.post("/graphql", json={"query": QUERY, "extensions": _hashed(QUERY)})
        by_post = client.post("/graphql", json={"extensions": _hashed(QUERY)})
        by_get = _get(client, QUERY, {"skip": False})
    assert first.status_code == 200  # application/json: request errors keep 200
    assert first.headers["content-type"] == "application/json"
    assert first.json() == NOT_FOUND
    assert strict.status_code == 400 and strict.json() == NOT_FOUND
    assert retry.json() == by_post.json() == by_get.json() == {"data": {"__typename": "Query"}}


def test_a_query_whose_text_does_not_match_its_hash_is_refused_and_not_registered(
    store: Store,
) -> None:
    wrong = {"persistedQuery": {"version": 1, "sha256Hash": query_hash("{ __typename }")}}
    with serving(create_app(store)) as client:
        forged = client.post("/graphql", json={"query": QUERY, "extensions": wrong})
        after = client.post("/graphql", json={"extensions": wrong})
        malformed = client.post(
            "/graphql", json={"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "x"}}}
        )
        version = client.post(
            "/graphql", json={"extensions": {"persistedQuery": {"version": 2, "sha256Hash": "0"}}}
        )
    assert forged.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "does not match its sha256Hash" in forged.json()["errors"][0]["message"]
    assert after.json() == NOT_FOUND
    assert (
        "sha256Hash: must be 64 lower-case hex digits" in malformed.json()["errors"][0]["message"]
    )
    assert "version: only 1 is supported" in version.json()["errors"][0]["message"]


def test_the_automatic_store_is_bounded_and_evicts_the_least_recently_used(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POLICY_TIMELINE_APQ_ENTRIES", "2")
    queries = [f"query Q{i} {{ __typename }}" for i in range(3)]
    with serving(create_app(store)) as client:
        for query in queries:
            client.post("/graphql", json={"query": query, "extensions": _hashed(query)})
        answers = [client.post("/graphql", json={"extensions": _hashed(q)}).json() for q in queries]
    assert answers[0] == NOT_FOUND  # evicted by the third
    assert answers[1] == answers[2] == {"data": {"__typename": "Query"}}


def test_the_store_counts_bytes_too() -> None:
    automatic = AutomaticStore(max_entries=100, max_bytes=10)
    automatic.put("a" * 64, "{ a }")
    automatic.put("b" * 64, "{ bb }")
    automatic.put("c" * 64, "x" * 11)  # larger than the whole budget: runs, never stored
    assert automatic.get("a" * 64) is None and automatic.get("b" * 64) == "{ bb }"
    assert automatic.get("c" * 64) is None and automatic.bytes == 6


def _registry(tmp_path: Path, *queries: str) -> dict[str, str]:
    path = tmp_path / "persisted.json"
    path.write_text(json.dumps({query_hash(q): q for q in queries}))
    return load_persisted(path)


def test_persisted_only_runs_registered_queries_by_get_with_variables(
    store: Store, tmp_path: Path
) -> None:
    app = create_app(store, persisted=_registry(tmp_path, PAGE))
    with serving(app) as client:
        by_get = _get(client, PAGE, {"first": 2})
        refused_get = _get(client, QUERY, {"skip": False})
        by_id = client.get(
            "/graphql",
            params={"id": query_hash(PAGE), "variables": '{"first": 1}'},
            headers={"accept": "application/json"},
        )
    assert by_get.status_code == 200
    assert by_get.json() == by_id.json() == {"data": {"countryTimeline": {"edges": []}}}
    assert refused_get.json() == NOT_FOUND


def test_persisted_only_never_registers_and_refuses_with_persisted_query_not_found(
    store: Store, tmp_path: Path
) -> None:
    app = create_app(store, persisted=_registry(tmp_path, PAGE))
    with serving(app) as client:
        retry = client.post("/graphql", json={"query": QUERY, "extensions": _hashed(QUERY)})
        again = client.post("/graphql", json={"extensions": _hashed(QUERY)})
        ad_hoc = client.post("/graphql", json={"query": QUERY})
        strict = client.post(
            "/graphql", json={"query": QUERY}, headers={"accept": GRAPHQL_RESPONSE}
        )
        registered_text = client.post("/graphql", json={"query": PAGE})
    assert retry.json() == again.json() == ad_hoc.json() == NOT_FOUND
    assert retry.status_code == 200 and retry.headers["content-type"] == "application/json"
    assert strict.status_code == 400 and strict.json() == NOT_FOUND
    assert registered_text.json() == {"data": {"countryTimeline": {"edges": []}}}


def _ws(base: str, payload: dict[str, Any]) -> list[dict[str, Any]]:
    """The messages answering one subscribe message, up to its error or complete."""
    url = base.replace("http://", "ws://") + "/graphql"
    received: list[dict[str, Any]] = []
    with connect(url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        ws.send(json.dumps({"type": "connection_init"}))
        assert json.loads(ws.recv(timeout=10))["type"] == "connection_ack"
        ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
        while not received or received[-1]["type"] not in ("error", "complete"):
            received.append(json.loads(ws.recv(timeout=10)))
    return received


def test_an_unregistered_subscription_gets_an_error_message_not_a_silent_complete(
    store: Store, tmp_path: Path
) -> None:
    app = create_app(store, persisted=_registry(tmp_path, QUERY))
    with serving(app) as client:
        base = str(client.base_url)
        by_text = _ws(base, {"query": SUBSCRIBE})
        by_hash = _ws(base, {"extensions": _hashed(SUBSCRIBE)})
        registered = _ws(base, {"extensions": _hashed(QUERY)})
    for refused in (by_text, by_hash):
        assert refused == [{"id": "1", "type": "error", "payload": NOT_FOUND["errors"]}]
    assert registered[0] == {
        "id": "1",
        "type": "next",
        "payload": {"data": {"__typename": "Query"}},
    }
    assert registered[-1]["type"] == "complete"


def test_a_get_by_hash_alone_is_answered_not_taken_for_a_browser_asking_for_graphiql(
    store: Store,
) -> None:
    with serving(create_app(store, production=True)) as client:
        client.post("/graphql", json={"query": QUERY, "extensions": _hashed(QUERY)})
        by_get = _get(client, QUERY, {}, accept="*/*")
    assert by_get.status_code == 200 and by_get.json() == {"data": {"__typename": "Query"}}


def _apollo(base: str) -> dict[str, Any]:
    """What Apollo Client's persisted query link did against the server: requests, results."""
    done = subprocess.run(
        ["node", "apollo.mjs", f"{base}/graphql"],
        cwd=node_prefix(),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


@pytest.mark.node
def test_apollo_clients_persisted_query_link_registers_then_reads_by_get(store: Store) -> None:
    import_lines(store, seed_lines())
    with serving(create_app(store)) as client:
        seen = _apollo(str(client.base_url))
    # A first client: GET by hash, told PersistedQueryNotFound (400: it prefers
    # application/graphql-response+json), retries by POST with the text; a second client
    # (a new page view) gets its answer from the GET by hash alone.
    assert seen["requests"] == [
        {"method": "GET", "status": 400, "sentQuery": False},
        {"method": "POST", "status": 200, "sentQuery": True},
        {"method": "GET", "status": 200, "sentQuery": False},
    ]
    ids = ["ukr-1999-02-24-sign-ottawa", "ukr-2005-12-27-ratify-ottawa"]
    for result in seen["results"]:
        assert result["error"] is None
        edges = result["data"]["countryTimeline"]["edges"]
        assert [e["node"]["decisionId"] for e in edges] == ids


@pytest.mark.node
def test_apollo_client_against_persisted_only_gets_the_error_for_an_unregistered_query(
    store: Store, tmp_path: Path
) -> None:
    with serving(create_app(store, persisted=_registry(tmp_path, QUERY))) as client:
        seen = _apollo(str(client.base_url))
    assert [(r["method"], r["status"]) for r in seen["requests"]] == [
        ("GET", 400),
        ("POST", 400),
    ] * 2
    assert [r["error"] for r in seen["results"]] == ["PersistedQueryNotFound"] * 2
