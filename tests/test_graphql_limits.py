"""Limits refused before execution, production hardening, masked errors, persisted queries."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from sqlalchemy import text

from api.http.app import create_app
from api.http.limits import MAX_BODY_BYTES, load_persisted, query_hash
from projections.service import Store
from tests.graphql_support import codes, gql, serving

DEEP = '{ decision(id: "x") { ' + "reverses { " * 11 + "id" + " }" * 11 + " } }"
ALIASED = (
    "query { ...many }\nfragment many on Query { "
    + " ".join(f"a{n}: integrity {{ ok }}" for n in range(31))
    + " }"
)
LONG = "{ " + "integrity { ok } " * 700 + "}"
INTEGRITY = "{ integrity { ok headPosition } }"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (DEEP, "exceeds maximum operation depth of 10"),
        (ALIASED, "31 aliases found. Allowed: 30"),
        (LONG, "Document contains more than 2000 tokens"),
    ],
    ids=["depth", "aliases-through-a-fragment", "tokens"],
)
def test_deep_aliased_or_long_queries_are_refused_before_execution(
    store: Store, query: str, message: str, caplog: pytest.LogCaptureFixture
) -> None:
    with serving(create_app(store)) as client:
        body = gql(client, query)
    assert body.get("data") is None
    assert message in body["errors"][0]["message"]


def test_a_page_larger_than_100_is_refused(store: Store) -> None:
    with serving(create_app(store)) as client:
        body = gql(client, '{ countryTimeline(country: "UKR", first: 1000) { edges { cursor } } }')
    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["message"] == "first: must be between 0 and 100"


def test_an_oversized_request_body_is_refused_with_413(store: Store) -> None:
    padding = " " * (MAX_BODY_BYTES + 1)
    with serving(create_app(store)) as client:
        response = client.post("/graphql", json={"query": INTEGRITY + padding})
        chunked = client.post(
            "/graphql",
            content=iter([b'{"query": "', padding.encode(), INTEGRITY.encode(), b'"}']),
            headers={"content-type": "application/json"},
        )
    assert response.status_code == 413
    assert chunked.status_code == 413
    assert "request body too large" in response.json()["errors"][0]["message"]


def test_production_has_no_introspection_no_suggestions_and_no_graphiql(store: Store) -> None:
    with serving(create_app(store, production=True)) as client:
        introspection = gql(client, "{ __schema { queryType { name } } }")
        typo = gql(client, "{ integrty { ok } }")
        ide = client.get("/graphql", headers={"accept": "text/html"})
    assert "introspection" in introspection["errors"][0]["message"].lower()
    assert "Did you mean" not in typo["errors"][0]["message"]
    assert ide.status_code == 404


def test_development_serves_graphiql_and_suggests_fields(store: Store) -> None:
    with serving(create_app(store)) as client:
        ide = client.get("/graphql", headers={"accept": "text/html"})
        typo = gql(client, "{ integrty { ok } }")
    assert ide.status_code == 200 and "graphiql" in ide.text.lower()
    assert "Did you mean 'integrity'?" in typo["errors"][0]["message"]


def test_an_internal_error_is_masked_with_an_id_that_is_in_the_server_log(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    with store.engine.begin() as conn:  # a broken read model: the query fails inside the server
        conn.execute(text("DROP TABLE pt_timeline"))
    with serving(create_app(store)) as client, caplog.at_level(logging.ERROR):
        body = gql(client, '{ countryTimeline(country: "UKR") { edges { cursor } } }')
    error = body["errors"][0]
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    error_id = error["extensions"]["errorId"]
    assert error["message"] == f"internal error (id {error_id}); the server log has the details"
    assert "pt_timeline" not in json.dumps(body)  # no SQL or table names leak to the client
    assert any(error_id in r.getMessage() for r in caplog.records)


def _registry(tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "persisted.json"
    path.write_text(json.dumps({query_hash(INTEGRITY): INTEGRITY}))
    return path, query_hash(INTEGRITY)


def test_persisted_only_runs_registered_hashes_and_refuses_anything_else(
    store: Store, tmp_path: Path
) -> None:
    path, digest = _registry(tmp_path)
    with serving(create_app(store, persisted=load_persisted(path))) as client:
        by_extension = client.post(
            "/graphql",
            json={"extensions": {"persistedQuery": {"version": 1, "sha256Hash": digest}}},
        )
        by_id = client.post("/graphql", json={"id": digest})
        by_get = client.get(
            "/graphql", params={"id": digest}, headers={"accept": "application/json"}
        )
        unknown = client.post("/graphql", json={"id": "0" * 64})
        ad_hoc = client.post("/graphql", json={"query": "{ integrity { ok } }"})
    expected = {"data": {"integrity": {"ok": True, "headPosition": 0}}}
    assert by_extension.json() == by_id.json() == by_get.json() == expected
    for refused in (unknown, ad_hoc):  # a GraphQL error Apollo clients understand, not text
        assert refused.status_code == 200
        assert refused.json() == {
            "errors": [
                {
                    "message": "PersistedQueryNotFound",
                    "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"},
                }
            ]
        }


def test_a_registry_whose_hash_does_not_match_its_query_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "persisted.json"
    path.write_text(json.dumps({"0" * 64: INTEGRITY}))
    with pytest.raises(ValueError, match="is not the sha256 of its query text"):
        load_persisted(path)
