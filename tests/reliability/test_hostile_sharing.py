"""Bounded sharing: served languages only, capped WebSocket messages, fair subscriptions,
and no "did you mean" hints in production."""

from __future__ import annotations

import contextlib
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from api.http.app import create_app
from api.http.limits import MAX_BODY_BYTES
from api.http.live import DEFAULT_PER_ADDRESS, DEFAULT_PER_CONNECTION, PER_ADDRESS_ENV, TOO_MANY
from api.importing.commands import import_file
from api.text.display import display_edtf
from projections.service import Store
from tests.conftest import SEED, migrated
from tests.graphql_support import running

pytestmark = pytest.mark.reliability

WAIT = 60  # seconds: only that an answer comes at all
SUBSCRIBE = "subscription { timelineUpdated { decisionId } }"
DATES = (
    '{ countryTimeline(country: "UKR", first: 3) '
    "{ edges { node { date { display(lang: %s) } } } } }"
)


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    store = migrated(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    import_file(store, SEED)
    yield store
    store.close()


@contextlib.contextmanager
def _open(base: str, source: str = "127.0.0.1") -> Iterator[ClientConnection]:
    """A graphql-transport-ws connection from `source` (any 127.0.0.0/8 address), acknowledged."""
    host, port = base.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=WAIT, source_address=(source, 0))
    with connect(
        base.replace("http://", "ws://") + "/graphql",
        sock=sock,
        subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
        open_timeout=WAIT,
        max_queue=None,  # the flood never reads its entries: let them queue, so it can close
    ) as ws:
        ws.send(json.dumps({"type": "connection_init"}))
        assert json.loads(ws.recv(timeout=WAIT)) == {"type": "connection_ack"}
        yield ws


def test_display_refuses_a_language_the_product_does_not_serve(sqlite_store: Store) -> None:
    with (
        running(create_app(sqlite_store, production=True)) as base,
        httpx.Client(base_url=base, timeout=WAIT) as http,
    ):
        served = http.post("/graphql", json={"query": DATES % '"fr"'}).json()
        before = display_edtf.cache_info().currsize
        refused = [
            http.post("/graphql", json={"query": DATES % json.dumps(f"x{n}" * 3000)}).json()
            for n in range(20)
        ]
        after = display_edtf.cache_info().currsize
    assert "errors" not in served
    assert all(
        " " in e["node"]["date"]["display"] for e in served["data"]["countryTimeline"]["edges"]
    )
    for body in refused:
        errors = body["errors"]
        assert {e["extensions"]["code"] for e in errors} == {"BAD_USER_INPUT"}
        assert errors[0]["message"].startswith("lang: 'x")
        assert errors[0]["message"].endswith("is not one of en, fr, uk")
        assert len(errors[0]["message"]) < 100  # the 9 KB language is not echoed back
    assert after == before  # no cache key for a language nobody serves


def test_a_websocket_message_over_the_body_limit_closes_the_socket(sqlite_store: Store) -> None:
    with running(create_app(sqlite_store, production=True)) as base, _open(base) as ws:
        padding = " " * (MAX_BODY_BYTES + 1)
        ws.send(
            json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE + padding}})
        )
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=WAIT)
        assert ws.close_code == 1009
        assert ws.close_reason == f"message too large: the limit is {MAX_BODY_BYTES} bytes"
        health = httpx.get(f"{base}/healthz", timeout=WAIT)
    assert health.json()["ok"] is True


def test_a_websocket_message_nested_1000_deep_closes_the_socket_cleanly(
    sqlite_store: Store,
) -> None:
    deep = "[" * 1000 + "]" * 1000
    with running(create_app(sqlite_store, production=True)) as base, _open(base) as ws:
        payload = f'{{"query": "{SUBSCRIBE}", "variables": {{"v": {deep}}}}}'
        ws.send(f'{{"id": "1", "type": "subscribe", "payload": {payload}}}')
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=WAIT)
        assert ws.close_code == 4400
        assert ws.close_reason == "WebSocket message must be valid JSON"
        with _open(base) as other:  # the server goes on
            other.send(
                json.dumps(
                    {"id": "2", "type": "subscribe", "payload": {"query": "{ integrity { ok } }"}}
                )
            )
            answer = json.loads(other.recv(timeout=WAIT))
    assert answer["payload"] == {"data": {"integrity": {"ok": True}}}


def _subscribe_all(ws: ClientConnection, first: int, count: int) -> None:
    for n in range(first, first + count):
        ws.send(json.dumps({"id": str(n), "type": "subscribe", "payload": {"query": SUBSCRIBE}}))


def _refusals(ws: ClientConnection, expected: int) -> list[dict[str, Any]]:
    """The next `expected` refusals on a socket (each followed by its `complete`)."""
    found: list[dict[str, Any]] = []
    while len(found) < expected:
        message = json.loads(ws.recv(timeout=WAIT))
        if message["type"] != "complete":
            found.append(message)
    return found


def test_one_address_cannot_take_every_subscription_from_another_reader(store: Store) -> None:
    app = create_app(store, production=True)
    live = app.state.live
    with running(app) as base, contextlib.ExitStack() as sockets:
        refused: list[dict[str, Any]] = []
        for number in range(21):  # 21 sockets of 100 subscriptions, one socket after the other
            ws = sockets.enter_context(_open(base))
            _subscribe_all(ws, number * 100, 100)
            granted = min(
                DEFAULT_PER_CONNECTION, DEFAULT_PER_ADDRESS - number * DEFAULT_PER_CONNECTION
            )
            refused += _refusals(ws, 100 - max(granted, 0))
        deadline = time.monotonic() + WAIT
        while len(live.subscribers) < DEFAULT_PER_ADDRESS and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(live.subscribers) == DEFAULT_PER_ADDRESS
        reader = sockets.enter_context(_open(base, source="127.0.0.2"))
        _subscribe_all(reader, 0, 1)
        while len(live.subscribers) < DEFAULT_PER_ADDRESS + 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        store.execute("recordDecision", _decision())
        message = json.loads(reader.recv(timeout=WAIT))
    assert message["type"] == "next"
    assert message["payload"]["data"]["timelineUpdated"]["decisionId"] == "fair-1"
    codes = {e["extensions"]["code"] for m in refused for e in _errors(m)}
    assert codes == {TOO_MANY}
    texts = " ".join(e["message"] for m in refused for e in _errors(m))
    assert PER_ADDRESS_ENV in texts and "this connection already holds" in texts


def _errors(message: dict[str, Any]) -> list[dict[str, Any]]:
    assert message["type"] in ("next", "error"), message
    return message["payload"] if message["type"] == "error" else message["payload"]["errors"]


def _decision() -> dict[str, Any]:
    return {
        "id": "fair-1",
        "actor": "UKR",
        "action": "ADOPT_POLICY",
        "decidedOn": "2024-05-01",
        "headline": "decision fair-1",
        "weapons": [{"category": "cluster-munition"}],
        "sources": [{"publisher": "Test Gazette", "quote": "it happened"}],
    }


TYPOS = {
    "argument": '{ countryTimeline(countri: "UKR") { edges { cursor } } }',
    "field": "{ integrty { ok } }",
    "enum literal": '{ countryTimeline(country: "UKR", actions: [SIGNN]) { edges { cursor } } }',
    "type": "{ ...F } fragment F on Decison { id }",
    "input field": (
        'mutation { recordTreaty(input: {id: "t", nam: "T", sources: []}) { __typename } }'
    ),
}
ENUM_VARIABLE = (
    "query Q($a: [DecisionAction!]) "
    '{ countryTimeline(country: "UKR", actions: $a) { edges { cursor } } }',
    {"a": ["SIGNN"]},
)


def test_production_gives_no_did_you_mean_hints_anywhere(sqlite_store: Store) -> None:
    with (
        running(create_app(sqlite_store, production=True)) as prod,
        running(create_app(sqlite_store)) as dev,
    ):
        answers: dict[str, dict[str, list[str]]] = {}
        for name, base in (("production", prod), ("development", dev)):
            with httpx.Client(base_url=base, timeout=WAIT) as http:
                bodies = {
                    k: http.post("/graphql", json={"query": q}).json() for k, q in TYPOS.items()
                }
                query, variables = ENUM_VARIABLE
                bodies["enum variable"] = http.post(
                    "/graphql", json={"query": query, "variables": variables}
                ).json()
            answers[name] = {k: [e["message"] for e in b["errors"]] for k, b in bodies.items()}
    hinted = {
        k for k, messages in answers["development"].items() if "Did you mean" in " ".join(messages)
    }
    assert hinted == {*TYPOS, "enum variable"}  # each typo is one a hint would answer
    assert all("Did you mean" not in " ".join(m) for m in answers["production"].values())
    assert all(answers["production"].values())  # still refused, with a message
