"""Hand-written hostile GraphQL: every one gets a clear answer, never a 5xx or an internal error."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.http.app import create_app
from api.importing.commands import import_file
from tests.conftest import SEED, migrated
from tests.graphql_support import DECISION, RECORD_DECISION, running
from tests.reliability.support import editor_key, reset_postgres

pytestmark = pytest.mark.reliability

TIMELINE = "query T($after: String, $first: Int, $asOf: Int, $min: Int) { countryTimeline("
TIMELINE += 'country: "UKR", first: $first, after: $after, asOf: $asOf, minPosition: $min) '
TIMELINE += "{ edges { cursor node { decisionId } } pageInfo { hasNextPage endCursor } } }"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def client(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[httpx.Client, str]]:
    """A seeded store on each backend behind a real server, and an editor key."""
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("hostile") / "store.sqlite3"
        url = f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("pg_url")
        reset_postgres(url)
    store = migrated(url)
    import_file(store, SEED)
    key = editor_key(store)
    with running(create_app(store)) as base, httpx.Client(base_url=base, timeout=60) as http:
        yield http, key
    store.close()


def _post(http: httpx.Client, payload: Any, key: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return http.post("/graphql", json=payload, headers=headers)


def _clean(response: httpx.Response) -> Any:
    """The body of an answer that is neither a 5xx nor a masked internal error."""
    assert response.status_code < 500, response.text
    if response.status_code == 400 and response.headers["content-type"].startswith("text/plain"):
        return {"errors": [{"message": response.text}]}  # refused before GraphQL: plain text
    body = response.json()
    for error in body.get("errors") or [] if isinstance(body, dict) else []:
        assert (error.get("extensions") or {}).get("code") != "INTERNAL_SERVER_ERROR", body
        assert "Traceback" not in error["message"]
    return body


def _refused(response: httpx.Response, words: str) -> None:
    body = _clean(response)
    messages = " ".join(e["message"] for e in body["errors"])
    assert words in messages, messages


def test_deep_nesting_is_refused_before_execution(client: tuple[httpx.Client, str]) -> None:
    http, _ = client
    inner = "id"
    for _ in range(40):
        inner = f"reverses {{ {inner} }}"
    _refused(_post(http, {"query": f'{{ decision(id: "x") {{ {inner} }} }}'}), "depth")


def test_thousands_of_aliases_through_fragments_are_refused(
    client: tuple[httpx.Client, str],
) -> None:
    http, _ = client
    fragment = "fragment F on Query { " + " ".join(f"a{i}: integrity {{ ok }}" for i in range(25))
    spreads = " ".join("...F" for _ in range(200))
    response = _post(http, {"query": f"{{ {spreads} }} {fragment} }}"})
    body = _clean(response)
    assert body["errors"] and body.get("data") is None


def test_a_batched_json_array_body_gets_a_clear_refusal_or_answers(
    client: tuple[httpx.Client, str],
) -> None:
    http, _ = client
    batch = [{"query": "{ integrity { ok } }"}] * 50
    response = _post(http, batch)
    assert response.status_code < 500
    assert response.status_code == 400 or isinstance(response.json(), list), response.text


@pytest.mark.parametrize("first", [-1, 101, 10**9])
def test_first_out_of_range_is_a_user_error(client: tuple[httpx.Client, str], first: int) -> None:
    http, _ = client
    _refused(_post(http, {"query": TIMELINE, "variables": {"first": first}}), "first")


@pytest.mark.parametrize("number", [2**31, 2**53 + 1, 10**30, -(2**63)])
def test_numbers_past_the_int_range_are_refused(
    client: tuple[httpx.Client, str], number: int
) -> None:
    http, _ = client
    for variables in ({"asOf": number}, {"min": number}, {"first": number}):
        _refused(_post(http, {"query": TIMELINE, "variables": variables}), "Int")
    literal = f'{{ decision(id: "x", asOf: {number}) {{ id }} }}'
    _refused(_post(http, {"query": literal}), "Int")


def _cursor(http: httpx.Client) -> str:
    body = _clean(_post(http, {"query": TIMELINE, "variables": {"first": 1}}))
    cursor: str = body["data"]["countryTimeline"]["pageInfo"]["endCursor"]
    return cursor


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


def test_forged_and_foreign_cursors_are_user_errors(client: tuple[httpx.Client, str]) -> None:
    http, _ = client
    real = _cursor(http)
    weapon = _clean(
        _post(
            http,
            {
                "query": '{ weaponTimeline(category: "antipersonnel-landmine") '
                "{ pageInfo { endCursor } } }"
            },
        )
    )["data"]["weaponTimeline"]["pageInfo"]["endCursor"]
    forged = [
        "!!!not-base64!!!",
        _b64("garbage"),
        _b64(json.dumps({"k": ["1999-02-24", "' OR 1=1 --"], "p": 10**30})),
        _b64(json.dumps([None, None, None])),
        real[:-3],
        real + "AAAA",
        "\u0000",
        "",
        "A" * 5000,
    ]
    if weapon:
        forged.append(weapon)
    for cursor in forged:
        body = _clean(_post(http, {"query": TIMELINE, "variables": {"after": cursor}}))
        if body.get("errors"):
            message = " ".join(e["message"] for e in body["errors"])
            assert "cursor" in message.lower() or "NUL" in message, body


@pytest.mark.parametrize("argument", ["asOf", "min"])
def test_positions_past_the_head_are_clear(client: tuple[httpx.Client, str], argument: str) -> None:
    http, _ = client
    body = _clean(_post(http, {"query": TIMELINE, "variables": {argument: 2**31 - 1}}))
    assert body.get("errors") or body["data"]["countryTimeline"] is not None
    negative = _clean(_post(http, {"query": TIMELINE, "variables": {argument: -5}}))
    assert negative.get("errors") or negative["data"]["countryTimeline"] is not None


@pytest.mark.parametrize("text", ["nul\u0000byte", "lone \ud800 surrogate", "\udfff", "\u202e"])
def test_nul_bytes_and_lone_surrogates_in_strings_are_refused_or_stored_exactly(
    client: tuple[httpx.Client, str], text: str
) -> None:
    http, key = client
    ident = f"hostile-{abs(hash(text)) % 10**8}"
    payload = {
        "query": RECORD_DECISION,
        "variables": {"input": {**DECISION, "id": ident, "headline": text}},
    }
    raw = json.dumps(payload)  # \\ud800 travels as a JSON escape, exactly as a client sends it
    response = http.post(
        "/graphql",
        content=raw.encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    body = _clean(response)
    if response.status_code == 400:
        assert "surrogate" in response.text or "NUL" in response.text, response.text
    for name, variables in (("decision", {"id": text}), ("country", {})):
        query = (
            "query Q($id: ID!) { decision(id: $id) { id } }"
            if name == "decision"
            else f"{{ countryTimeline(country: {json.dumps(text)}) {{ edges {{ cursor }} }} }}"
        )
        _clean(
            http.post(
                "/graphql",
                content=json.dumps({"query": query, "variables": variables}),
                headers={"Content-Type": "application/json"},
            )
        )
    result = (body.get("data") or {}).get("recordDecision")
    if result and result["__typename"] == "RecordDecisionSuccess":
        assert result["decision"]["headline"] == text


def test_a_ten_megabyte_body_is_refused_with_413(client: tuple[httpx.Client, str]) -> None:
    http, _ = client
    big = {"query": "{ integrity { ok } }", "variables": {"x": "a" * 10 * 1024 * 1024}}
    response = _post(http, big)
    assert response.status_code == 413
    assert "too large" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize("date", ["2024-02-30", "2023-13-01", "yesterday", "9999999-01-01", ""])
def test_invalid_edtf_dates_are_validation_errors_naming_the_field(
    client: tuple[httpx.Client, str], date: str
) -> None:
    http, key = client
    decision = {**DECISION, "id": f"bad-date-{abs(hash(date)) % 10**6}", "decidedOn": date}
    body = _clean(_post(http, {"query": RECORD_DECISION, "variables": {"input": decision}}, key))
    result = body["data"]["recordDecision"]
    assert result["__typename"] == "ValidationError", result
    assert any("decidedOn" in e["path"] for e in result["errors"]), result
    for query in (
        f'{{ countryTimeline(country: "UKR", from: {json.dumps(date)}) {{ edges {{ cursor }} }} }}',
    ):
        _clean(_post(http, {"query": query}))


@pytest.mark.parametrize("country", ["XXX", "ukr", "", "U", "ZZZZZZZZZZ", "ÜKR", "' OR 1=1"])
def test_unknown_countries_get_a_clear_answer(
    client: tuple[httpx.Client, str], country: str
) -> None:
    http, key = client
    query = f"{{ countryTimeline(country: {json.dumps(country)}) {{ edges {{ cursor }} }} }}"
    _clean(_post(http, {"query": query}))
    decision = {**DECISION, "id": "unknown-country", "actor": country}
    body = _clean(_post(http, {"query": RECORD_DECISION, "variables": {"input": decision}}, key))
    if country != "ukr":
        assert body["data"]["recordDecision"]["__typename"] == "ValidationError", body


def test_unknown_ids_are_null_or_not_found(client: tuple[httpx.Client, str]) -> None:
    http, key = client
    body = _clean(
        _post(
            http,
            {
                "query": '{ decision(id: "no-such") { id } treaty(id: "x") '
                '{ id } weapon(id: "y") { id } inclusionProof(position: 999999) '
                "{ leafIndex } }"
            },
        )
    )
    assert body["data"] is None or body["data"]["decision"] is None
    correction = {
        "id": "no-such",
        "changes": {"headline": "x"},
        "reason": "r",
        "sources": DECISION["sources"],
    }
    query = (
        "mutation M($input: CorrectDecisionInput!) { correctDecision(input: $input) "
        "{ __typename } }"
    )
    body = _clean(_post(http, {"query": query, "variables": {"input": correction}}, key))
    assert body["data"]["correctDecision"]["__typename"] == "NotFound"
