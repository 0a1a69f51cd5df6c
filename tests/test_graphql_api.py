"""GraphQL over HTTP: the founding story with keys, the auth matrix and read-your-writes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from httpx import Client

from api.graphql import schema as schema_module
from api.http.app import create_app
from api.http.keys import KeyRing
from projections.service import Store
from tests.graphql_support import (
    CORRECT_DECISION,
    DECISION,
    HISTORY,
    RECORD_DECISION,
    RECORD_TREATY,
    RETRACT_DECISION,
    SOURCES,
    TREATY,
    codes,
    gql,
    serving,
)


@pytest.fixture
def client(store: Store) -> Iterator[Client]:
    with serving(create_app(store)) as c:
        yield c


@pytest.fixture
def keys(store: Store) -> dict[str, str]:
    ring = KeyRing(store.engine)
    editor, editor_token = ring.create("editor", "newsroom script")
    _, reader_token = ring.create("reader")
    revoked, revoked_token = ring.create("editor")
    ring.revoke(revoked.key_id)
    return {
        "editor": editor_token,
        "editor_id": editor.key_id,
        "reader": reader_token,
        "revoked": revoked_token,
    }


def test_an_editor_records_corrects_and_retracts_the_founding_story_over_http(
    client: Client, keys: dict[str, str]
) -> None:
    editor = keys["editor"]
    treaty = gql(client, RECORD_TREATY, {"input": TREATY}, editor)["data"]["recordTreaty"]
    assert treaty["__typename"] == "RecordTreatySuccess"
    recorded = gql(client, RECORD_DECISION, {"input": DECISION}, editor)["data"]["recordDecision"]
    assert recorded["__typename"] == "RecordDecisionSuccess"
    assert recorded["position"] > treaty["position"]
    correction = {
        "id": DECISION["id"],
        "changes": {"headline": "Ukraine signs the Ottawa Convention"},
        "reason": "headline names the treaty",
        "sources": SOURCES,
    }
    corrected = gql(client, CORRECT_DECISION, {"input": correction}, editor)["data"]
    assert corrected["correctDecision"]["decision"]["headline"] == (
        "Ukraine signs the Ottawa Convention"
    )
    retraction = {"id": DECISION["id"], "reason": "duplicate entry", "sources": SOURCES}
    retracted = gql(client, RETRACT_DECISION, {"input": retraction}, editor)["data"]
    assert retracted["retractDecision"]["decision"]["status"] == "RETRACTED"
    position = retracted["retractDecision"]["position"]

    history = gql(client, HISTORY, {"id": DECISION["id"], "minPosition": position})
    entries = history["data"]["decision"]["history"]
    assert [e["eventType"] for e in entries] == [
        "Recorded",
        "Corrected",
        "Retracted",
    ]
    assert {e["keyId"] for e in entries} == {keys["editor_id"]}


@pytest.mark.parametrize(
    ("who", "code"),
    [(None, "UNAUTHORIZED"), ("wrong", "UNAUTHORIZED"), ("revoked", "UNAUTHORIZED"),
     ("reader", "FORBIDDEN")],
)  # fmt: skip
def test_a_mutation_without_an_editor_key_is_refused_with_its_code_and_stores_nothing(
    client: Client, store: Store, keys: dict[str, str], who: str | None, code: str
) -> None:
    token = {"wrong": "pt_000000000000_not-the-secret"}.get(str(who), keys.get(str(who)))
    body = gql(client, RECORD_TREATY, {"input": TREATY}, token)
    assert body["data"] is None
    assert codes(body) == [code]
    assert store.head() == 0
    assert "pt_" not in str(body["errors"])  # the key is never echoed back


def test_reads_are_public_even_with_a_reader_key(client: Client, keys: dict[str, str]) -> None:
    gql(client, RECORD_TREATY, {"input": TREATY}, keys["editor"])
    for key in (None, keys["reader"]):
        body = gql(client, '{ treaty(id: "ottawa-convention") { id name } }', key=key)
        assert body == {"data": {"treaty": {"id": "ottawa-convention", "name": "Mine Ban Treaty"}}}


def test_invalid_input_is_a_validation_error_naming_the_field(
    client: Client, store: Store, keys: dict[str, str]
) -> None:
    bad = {**DECISION, "actor": "XXX"}
    gql(client, RECORD_TREATY, {"input": TREATY}, keys["editor"])
    result = gql(client, RECORD_DECISION, {"input": bad}, keys["editor"])["data"]
    error = result["recordDecision"]
    assert error["__typename"] == "ValidationError"
    assert ["input", "actor"] in [e["path"] for e in error["errors"]]
    assert store.head() == 1


def test_correcting_an_unknown_decision_is_not_found(client: Client, keys: dict[str, str]) -> None:
    correction = {"id": "no-such-decision", "changes": {"headline": "x"}, "reason": "r",
                  "sources": SOURCES}  # fmt: skip
    result = gql(client, CORRECT_DECISION, {"input": correction}, keys["editor"])["data"]
    assert result["correctDecision"]["__typename"] == "NotFound"
    assert result["correctDecision"]["id"] == "no-such-decision"


def test_recording_the_same_id_with_other_content_is_a_conflict(
    client: Client, keys: dict[str, str]
) -> None:
    gql(client, RECORD_TREATY, {"input": TREATY}, keys["editor"])
    gql(client, RECORD_DECISION, {"input": DECISION}, keys["editor"])
    other = {**DECISION, "headline": "something else"}
    result = gql(client, RECORD_DECISION, {"input": other}, keys["editor"])["data"]
    assert result["recordDecision"]["__typename"] == "Conflict"


def test_a_min_position_past_the_head_is_a_clear_error(client: Client) -> None:
    body = gql(client, HISTORY, {"id": "x", "minPosition": 99})
    assert codes(body) == ["BAD_USER_INPUT"]
    assert "minPosition 99 is past the head of the log" in body["errors"][0]["message"]


def test_a_min_position_the_projections_have_not_reached_answers_stale(
    client: Client, store: Store, keys: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(schema_module, "STALE_WAIT_SECONDS", 0.2)
    gql(client, RECORD_TREATY, {"input": TREATY}, keys["editor"])
    # Saved through the application but not projected: the read model honestly lags.
    _, position = store.app.execute("recordDecision", DECISION, None)
    body = gql(client, HISTORY, {"id": DECISION["id"], "minPosition": position})
    assert codes(body) == ["STALE"]
    store.projector.catch_up()
    fresh = gql(client, HISTORY, {"id": DECISION["id"], "minPosition": position})
    assert fresh["data"]["decision"]["headline"] == DECISION["headline"]
