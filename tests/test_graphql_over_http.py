"""GraphQL over HTTP as its specification and its reference audit suite expect, over real HTTP."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.http.app import create_app
from projections.service import Store
from tests.conftest import migrated
from tests.graphql_support import serving
from tests.node_support import node_prefix

GRAPHQL_RESPONSE = "application/graphql-response+json"
APOLLO_ACCEPT = "application/graphql-response+json,application/json;q=0.9"
PAGE = '{ countryTimeline(country: "UKR", first: %d) { edges { node { decisionId } } } }'
COUNTRY = "query C($c: String!) { countryTimeline(country: $c) { edges { cursor } } }"
REQUEST_ERRORS: dict[str, dict[str, Any]] = {
    "parse": {"query": "{ countryTimeline("},
    "validation": {"query": "{ noSuchField }"},
    "variable coercion": {"query": COUNTRY, "variables": {"c": 7}},
    "missing variable": {"query": COUNTRY},
}


def _post(client: httpx.Client, body: dict[str, Any], accept: str | None) -> httpx.Response:
    headers = {} if accept is None else {"accept": accept}
    return client.post("/graphql", json=body, headers=headers)


@pytest.fixture(scope="module")
def server(module_db_url: str) -> Iterator[httpx.Client]:
    """A client of one real server per backend over an empty store, shared by the tests of
    the protocol below (none of them writes)."""
    store = migrated(module_db_url)
    with serving(create_app(store)) as client:
        yield client
    store.close()
    store.engine.dispose()


@pytest.mark.parametrize("kind", sorted(REQUEST_ERRORS))
def test_a_request_error_is_400_without_data_for_graphql_response_json(
    server: httpx.Client, kind: str
) -> None:
    for accept in (GRAPHQL_RESPONSE, APOLLO_ACCEPT):
        response = _post(server, REQUEST_ERRORS[kind], accept)
        assert response.status_code == 400, response.text
        assert response.headers["content-type"] == GRAPHQL_RESPONSE
        body = response.json()
        assert "data" not in body and body["errors"][0]["message"]


@pytest.mark.parametrize("kind", sorted(REQUEST_ERRORS))
def test_application_json_keeps_answering_request_errors_with_200(
    server: httpx.Client, kind: str
) -> None:
    for accept in ("application/json", "*/*", None):
        response = _post(server, REQUEST_ERRORS[kind], accept)
        assert response.status_code == 200, (accept, response.text)
        assert response.headers["content-type"] == "application/json"
        assert response.json()["errors"]


def test_an_error_met_during_execution_keeps_200_and_its_data_entry(server: httpx.Client) -> None:
    ok = _post(server, {"query": PAGE % 5}, GRAPHQL_RESPONSE)
    refused = _post(server, {"query": PAGE % 500}, GRAPHQL_RESPONSE)
    assert ok.status_code == 200 and ok.headers["content-type"] == GRAPHQL_RESPONSE
    assert ok.json() == {"data": {"countryTimeline": {"edges": []}}}
    assert refused.status_code == 200
    body = refused.json()
    assert body["data"] is None and body["errors"][0]["path"] == ["countryTimeline"]


def test_a_body_that_is_not_json_answers_400_with_json_errors(server: httpx.Client) -> None:
    for accept in (GRAPHQL_RESPONSE, "application/json"):
        response = server.post(
            "/graphql",
            content=b'{"query": ',
            headers={"content-type": "application/json", "accept": accept},
        )
        assert response.status_code == 400
        assert response.headers["content-type"] == accept
        assert response.json()["errors"][0]["message"]


def test_a_mutation_over_get_is_405_with_json_errors(server: httpx.Client) -> None:
    mutation = 'mutation { retractDecision(input: {id: "x", reason: "y"}) { __typename } }'
    response = server.get(
        "/graphql", params={"query": mutation}, headers={"accept": GRAPHQL_RESPONSE}
    )
    assert response.status_code == 405
    assert response.headers["content-type"] == GRAPHQL_RESPONSE
    assert "errors" in response.json()


@pytest.mark.parametrize(
    "accept",
    [
        "application/json;q=0.5, application/graphql-response+json;q=0.2",
        "application/graphql-response+json;q=0",
        "application/graphql-response+json;q=nan",
        "application/graphql-response+json;q=" + "9" * 10_000,
        ",".join(["text/html"] * 5_000) + ",application/graphql-response+json",
    ],
)
def test_accept_headers_that_do_not_prefer_the_graphql_type_get_application_json(
    server: httpx.Client, accept: str
) -> None:
    response = _post(server, {"query": "{ __typename }"}, accept)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"


@pytest.mark.node
def test_the_graphql_http_audit_suite_finds_nothing_to_warn_about(tmp_path: Path) -> None:
    prefix = node_prefix()
    store = migrated(f"sqlite:///{tmp_path / 'audit.sqlite3'}")  # the protocol, not the backend
    with serving(create_app(store)) as client:
        done = subprocess.run(
            ["node", "audit.mjs", f"{client.base_url}/graphql"],
            cwd=prefix,
            capture_output=True,
            text=True,
            check=True,
            timeout=300,
        )
    store.close()
    results = json.loads(done.stdout)
    assert len(results) > 50  # the suite ran: 61 audits in graphql-http 1.23
    assert [r for r in results if r["status"] != "ok"] == []


def test_the_response_cache_keeps_each_media_type_apart(store: Store) -> None:
    app = create_app(store)
    query = {"query": PAGE % 5}
    with serving(app) as client:
        answers = [_post(client, query, accept) for accept in (GRAPHQL_RESPONSE, None) * 2]
    kinds = [a.headers["content-type"] for a in answers]
    assert kinds == [GRAPHQL_RESPONSE, "application/json"] * 2
    assert app.state.response_cache.hits == 2
