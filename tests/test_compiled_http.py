"""The compiled path's answers over HTTP: what a client receives is what ordinary execution
sends, status and headers included, whatever the request's media types, key or persisted
query."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import pytest

from api.http.app import create_app
from api.importing.commands import import_file
from projections.service import Store
from tests.conftest import SEED
from tests.graphql_support import serving

QUERY = (
    "query D($id: ID!) { decision(id: $id) { id headline status date { edtf display }"
    " reverses { id headline } reversedBy { id } history { position eventType } }"
    ' t: treaty(id: "ottawa-convention") { id name prohibits parties { country since }'
    " partyCount } }"
)
IDS = '{ countryTimeline(country: "UKR", first: 5) { edges { node { decisionId } } } }'


@pytest.fixture
def seeded(store: Store) -> Iterator[Store]:
    import_file(store, SEED)
    yield store


def _requests(ids: list[str]) -> list[tuple[dict[str, str], dict[str, Any]]]:
    digest = hashlib.sha256(QUERY.encode()).hexdigest()
    persisted = {"persistedQuery": {"version": 1, "sha256Hash": digest}}
    plain = [({}, {"query": QUERY, "variables": {"id": i}}) for i in [*ids, "no-such-decision"]]
    first = {"query": QUERY, "variables": {"id": ids[0]}}
    return [
        *plain,
        ({"accept": "application/graphql-response+json"}, first),
        ({"accept": "application/graphql-response+json, application/json;q=0.5"}, first),
        ({"accept": "*/*"}, first),
        ({"accept": "text/html"}, first),
        ({"content-type": "application/json; charset=utf-8"}, first),
        ({"authorization": "Bearer not-a-key"}, first),
        ({"origin": "https://elsewhere.example"}, first),
        ({}, {**first, "operationName": "D"}),
        ({}, {**first, "operationName": "Other"}),
        ({}, {**first, "extensions": persisted}),
        ({}, {"variables": {"id": ids[1]}, "extensions": persisted}),
        ({}, {**first, "variables": {"id": 7}}),
        ({}, {**first, "variables": {}}),
        ({"accept": "multipart/mixed"}, first),
    ]


def _answers(store: Store, compiled: bool) -> tuple[list[Any], int]:
    app = create_app(store, response_cache=None, compiled=compiled)
    app.state.response_cache.max_entries = 0  # every request executes
    with serving(app) as client:
        ids = [
            e["node"]["decisionId"]
            for e in client.post("/graphql", json={"query": IDS}).json()["data"]["countryTimeline"][
                "edges"
            ]
        ]
        assert len(ids) >= 2
        client.post("/graphql", json={"query": QUERY, "variables": {"id": ids[0]}})  # validated
        answers = []
        for headers, body in _requests(ids):
            response = client.post("/graphql", json=body, headers=headers)
            kept = [(k, v) for k, v in response.headers.multi_items() if k != "date"]
            answers.append((response.status_code, kept, response.content))
    path = app.state.graphql.compiled
    return answers, 0 if path is None else path.answered


def test_compiled_answers_carry_ordinary_execution_s_status_headers_and_bytes(
    seeded: Store,
) -> None:
    """The same requests to a server with the compiled path and to one without: the same
    status, headers and bytes for each, and the compiled server answered most itself."""
    compiled, answered = _answers(seeded, compiled=True)
    ordinary, _ = _answers(seeded, compiled=False)
    for mine, theirs in zip(compiled, ordinary, strict=True):
        assert mine == theirs
    assert answered >= 10
    media = {dict(headers)["content-type"] for _, headers, _ in compiled}
    assert {"application/json", "application/graphql-response+json"} <= media
