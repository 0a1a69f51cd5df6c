"""Through a real uvicorn server: subscriptions over graphql-transport-ws, origins, cleanup."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from api.http.app import create_app
from api.http.keys import KeyRing
from projections.service import Store
from tests.graphql_support import DECISION, RECORD_DECISION, RECORD_TREATY, TREATY, gql, running

SUBSCRIBE = """
subscription Ukraine($country: String) {
  timelineUpdated(country: $country) { decisionId headline role position }
}"""
RECEIVE_TIMEOUT = 10  # generous: the promise is about a second, the assertion is only arrival


def _ws_url(base: str) -> str:
    return base.replace("http://", "ws://") + "/graphql"


@contextlib.contextmanager
def _open(base: str, **headers: str) -> Iterator[ClientConnection]:
    """A graphql-transport-ws connection, initialised and acknowledged."""
    url, protocols = _ws_url(base), ["graphql-transport-ws"]
    with connect(url, subprotocols=protocols, additional_headers=headers) as ws:  # type: ignore[arg-type]
        ws.send(json.dumps({"type": "connection_init"}))
        assert json.loads(ws.recv(timeout=RECEIVE_TIMEOUT)) == {"type": "connection_ack"}
        yield ws


def _subscribe(ws: ClientConnection, variables: dict[str, Any]) -> None:
    payload = {"query": SUBSCRIBE, "variables": variables}
    ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))


def _wait_until_empty(subscribers: set[Any]) -> None:
    deadline = time.monotonic() + RECEIVE_TIMEOUT
    while subscribers and time.monotonic() < deadline:
        time.sleep(0.02)


def test_a_subscriber_filtered_by_country_receives_a_decision_recorded_on_another_connection(
    store: Store,
) -> None:
    _, editor = KeyRing(store.engine).create("editor")
    app = create_app(store)
    with running(app) as base, httpx.Client(base_url=base) as client:
        gql(client, RECORD_TREATY, {"input": TREATY}, editor)
        with _open(base) as ws, _open(base) as other:
            _subscribe(ws, {"country": "UKR"})
            _subscribe(other, {"country": "FRA"})
            while len(app.state.live.subscribers) != 2:  # both subscriptions are listening
                time.sleep(0.02)
            recorded = gql(client, RECORD_DECISION, {"input": DECISION}, editor)
            position = recorded["data"]["recordDecision"]["position"]
            message = json.loads(ws.recv(timeout=RECEIVE_TIMEOUT))
            assert message["type"] == "next" and message["id"] == "1"
            assert message["payload"]["data"]["timelineUpdated"] == {
                "decisionId": DECISION["id"],
                "headline": DECISION["headline"],
                "role": "ACTOR",
                "position": position,
            }
            with pytest.raises(TimeoutError):  # the FRA subscriber is not told about Ukraine
                other.recv(timeout=0.5)
        _wait_until_empty(app.state.live.subscribers)
        assert app.state.live.subscribers == set()


def test_a_websocket_from_an_origin_not_allowed_is_refused_with_403(store: Store) -> None:
    app = create_app(store, allowed_origins=["https://news.example"])
    with running(app) as base:
        with pytest.raises(InvalidStatus) as refused, _open(base, Origin="https://x.example"):
            pass
        assert refused.value.response.status_code == 403
        with _open(base, Origin="https://news.example") as allowed:
            assert allowed.subprotocol == "graphql-transport-ws"


def test_allowed_origins_come_from_the_environment(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POLICY_TIMELINE_ALLOWED_ORIGINS", "https://a.example, https://b.example")
    with running(create_app(store)) as base:
        with _open(base, Origin="https://b.example") as allowed:
            assert allowed.subprotocol == "graphql-transport-ws"
        with pytest.raises(InvalidStatus), _open(base, Origin="https://c.example"):
            pass
