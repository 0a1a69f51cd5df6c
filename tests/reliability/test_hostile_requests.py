"""Cheap hostile requests against `serve --production`: none stalls, crashes or answers 500."""

from __future__ import annotations

import base64
import concurrent.futures
import json
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from api.http.app import create_app
from api.http.jsonbody import MAX_DEPTH
from api.importing.commands import import_file
from bench.http import free_port
from projections.readmodels.queries import MAX_POSITION
from tests.conftest import SEED, migrated
from tests.graphql_support import running
from tests.test_metrics_address import with_lifespan

pytestmark = pytest.mark.reliability

LIVENESS = 60  # seconds: only that an answer comes at all (today's code never answers)


def doubling(levels: int, leaf: str = "integrity { ok }") -> str:
    """Fragments each spreading the previous one twice: 2^levels copies of `leaf` when
    expanded, from a document of under 2 KB."""
    fragments = [f"fragment F0 on Query {{ {leaf} }}"]
    fragments += [f"fragment F{n} on Query {{ ...F{n - 1} ...F{n - 1} }}" for n in range(1, 41)]
    return f"{{ ...F{levels} }}\n" + "\n".join(fragments[: levels + 1])


def cursor(position: Any, earliest: str = "2022") -> str:
    """A cursor as the timeline encodes one, carrying any position (a str: written as is)."""
    written = position if isinstance(position, str) else json.dumps(position)
    raw = f'["t1", "{earliest}", {written}]'.encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.fixture(scope="module")
def served(module_db_url: str) -> Iterator[str]:
    """The seed story behind a real production server on each backend, shared by the tests
    below that send it bad requests (a refused request changes nothing)."""
    store = migrated(module_db_url)
    import_file(store, SEED)
    with running(create_app(store, production=True)) as base:
        yield base
    store.close()
    store.engine.dispose()


@pytest.fixture
def sqlite_served(tmp_path: Path) -> Iterator[str]:
    """The seed story behind a real production server on SQLite (no storage is involved)."""
    store = migrated(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    import_file(store, SEED)
    with running(create_app(store, production=True)) as base:
        yield base
    store.close()


def test_fragment_doubling_is_validated_linearly_while_healthz_answers(
    sqlite_served: str,
) -> None:
    heavy = doubling(40)  # 2^40 spreads when expanded: today's rules would never finish
    aliased = doubling(24, "a: integrity { ok }")  # 2^24 aliases, the 24 levels
    with (
        httpx.Client(base_url=sqlite_served, timeout=LIVENESS) as http,
        concurrent.futures.ThreadPoolExecutor(2) as pool,
    ):
        answer = pool.submit(http.post, "/graphql", json={"query": heavy})
        refused = pool.submit(http.post, "/graphql", json={"query": aliased})
        health = http.get("/healthz")
        assert health.status_code == 200 and health.json()["ok"] is True
        assert answer.result().json() == {"data": {"integrity": {"ok": True}}}
        body = refused.result().json()
    assert body == {"data": None, "errors": [{"message": "16777216 aliases found. Allowed: 30"}]}


def test_fragment_doubling_over_websocket_is_refused_while_healthz_answers(
    sqlite_served: str,
) -> None:
    url = sqlite_served.replace("http://", "ws://") + "/graphql"
    with connect(url, subprotocols=["graphql-transport-ws"], open_timeout=LIVENESS) as ws:  # type: ignore[list-item]
        ws.send(json.dumps({"type": "connection_init"}))
        assert json.loads(ws.recv(timeout=LIVENESS)) == {"type": "connection_ack"}
        query = doubling(40, "a: integrity { ok }")
        ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}))
        health = httpx.get(f"{sqlite_served}/healthz", timeout=LIVENESS)
        assert health.status_code == 200 and health.json()["ok"] is True
        message = json.loads(ws.recv(timeout=LIVENESS))
    assert message["id"] == "1" and message["type"] in ("error", "next")
    errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
    assert errors[0]["message"] == f"{2**40} aliases found. Allowed: 30"


def test_depth_is_measured_through_fragments_without_expanding_them(sqlite_served: str) -> None:
    deep = "fragment D0 on Decision { id }\n" + "\n".join(
        f"fragment D{n} on Decision {{ reverses {{ ...D{n - 1} }} ...D{n - 1} }}"
        for n in range(1, 31)
    )
    query = '{ decision(id: "x") { ...D30 } }\n' + deep
    with httpx.Client(base_url=sqlite_served, timeout=LIVENESS) as http:
        body = http.post("/graphql", json={"query": query}).json()
    assert body["data"] is None
    assert body["errors"][0]["message"] == "'anonymous' exceeds maximum operation depth of 10"


NOSNIFF = ("x-content-type-options", "nosniff")
EMBED = "/embed/timeline?country=UKR"
DEEP_JSON = "[" * 1000 + "]" * 1000


@pytest.mark.parametrize(
    ("request_", "words"),
    [
        (("GET", f"{EMBED}&asOf=²", None), "asOf: must be a whole number"),
        (("GET", f"{EMBED}&first=²", None), "first: must be a whole number between 1 and 100"),
        (("GET", "/timelinejs.json?country=UKR&first=%C2%B3", None), "first: must be"),
        (("GET", "/oembed?url=EMBED&maxwidth=²", None), "maxwidth: must be a whole number"),
        (("GET", f"{EMBED}&asOf={'9' * 5000}", None), "asOf: must be a whole number"),
        (("GET", f"{EMBED}&asOf={2**64}", None), "asOf: must be a whole number"),
        (("GET", f"{EMBED}&after={cursor(2**70)}", None), "after: not a cursor"),
        (("GET", f"{EMBED}&before={cursor(-1)}", None), "before: not a cursor"),
        (("POST", "/graphql", DEEP_JSON), f"body: nested more than {MAX_DEPTH} levels deep"),
        (
            ("POST", "/graphql", '{"query": "{ integrity { ok } }", "variables": {"v": %s}}'),
            f"body: nested more than {MAX_DEPTH} levels deep",
        ),
        (
            ("POST", "/graphql", '{"query": "{ integrity { ok } }", "extensions": {"e": %s}}'),
            f"body: nested more than {MAX_DEPTH} levels deep",
        ),
        (
            ("GET", "/graphql?query={integrity{ok}}&variables=" + DEEP_JSON, None),
            f"query string.variables: nested more than {MAX_DEPTH} levels deep",
        ),
        (
            ("POST", "/graphql", b'{"query": "{ integrity { ok } }\xff\xfe"}'),
            "body: not valid UTF-8 at byte 31",
        ),
        (
            ("POST", "/graphql", '{"query": "{ integrity { ok } }", "variables": {"v": %s}}'),
            "body: a number of 5000 characters; the limit is 40",
        ),
        (
            ("POST", "/graphql", b'{"query": "{ integrity { ok } }", "query": "{ __typename }"}'),
            "body: duplicate key 'query' in an object",
        ),
    ],
    ids=[
        "asOf-superscript",
        "first-superscript",
        "timelinejs-first-superscript",
        "maxwidth-superscript",
        "asOf-5000-digits",
        "asOf-past-64-bits",
        "cursor-past-64-bits",
        "cursor-negative",
        "deep-body",
        "deep-variables",
        "deep-extensions",
        "deep-get-variables",
        "invalid-utf8",
        "number-of-5000-digits",
        "duplicate-key",
    ],
)
def test_bad_input_gets_400_naming_the_field_never_a_500(
    served: str, request_: tuple[str, str, Any], words: str
) -> None:
    method, path, body = request_
    path = path.replace("EMBED", f"{served}/embed/timeline%3Fcountry%3DUKR")
    if isinstance(body, str) and "%s" in body:
        body = body % (DEEP_JSON if "nested" in words else "9" * 5000)
    headers = {"content-type": "application/json"}
    with httpx.Client(base_url=served, timeout=LIVENESS) as http:
        response = http.request(method, path, content=body, headers=headers)
    assert response.status_code == 400, response.text
    assert words in response.text
    assert response.headers[NOSNIFF[0]] == NOSNIFF[1]


TIMELINE = '{ countryTimeline(country: "UKR", first: 1, after: "%s") { edges { cursor } } }'


@pytest.mark.parametrize(
    "position",
    [2**63, 2**70, -1, True, "9" * 5000, "[" * 1000 + "]" * 1000],
    ids=["2^63", "2^70", "negative", "true", "5000-digits", "nested-1000"],
)
def test_a_cursor_past_64_bits_is_bad_user_input_on_both_backends(
    served: str, position: Any
) -> None:
    with httpx.Client(base_url=served, timeout=LIVENESS) as http:
        body = http.post("/graphql", json={"query": TIMELINE % cursor(position)}).json()
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["message"] == "after: not a cursor returned by this timeline"


def test_the_largest_cursor_position_a_database_holds_is_still_served(served: str) -> None:
    with httpx.Client(base_url=served, timeout=LIVENESS) as http:
        body = http.post("/graphql", json={"query": TIMELINE % cursor(MAX_POSITION, "1900")})
    assert "errors" not in body.json()
    assert len(body.json()["data"]["countryTimeline"]["edges"]) == 1


def test_a_number_of_thousands_of_digits_in_a_query_is_bad_user_input(served: str) -> None:
    query = '{ countryTimeline(country: "UKR", first: %s) { edges { cursor } } }' % ("9" * 5000)
    with httpx.Client(base_url=served, timeout=LIVENESS) as http:
        body = http.post("/graphql", json={"query": query}).json()
    [error] = body["errors"]
    assert error["message"] == "a number of 5000 characters; the limit is 40"
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


def test_every_response_says_nosniff(served: str, tmp_path: Path) -> None:
    embed = f"{served}{EMBED}"
    with httpx.Client(base_url=served, timeout=LIVENESS) as http:
        responses = {
            "graphql json": http.post("/graphql", json={"query": "{ integrity { ok } }"}),
            "graphql error": http.post("/graphql", json={"query": "{ nothing }"}),
            "graphql 400": http.post(
                "/graphql", content=b"{", headers={"content-type": "application/json"}
            ),
            "graphql 413": http.post("/graphql", json={"query": " " * 70_000}),
            "healthz": http.get("/healthz"),
            "metrics": http.get("/metrics"),
            "embed html": http.get(EMBED),
            "embed 400": http.get("/embed/timeline"),
            "oembed": http.get("/oembed", params={"url": embed}),
            "timelinejs": http.get("/timelinejs.json?country=UKR"),
            "404": http.get("/nowhere"),
            "405": http.delete("/graphql"),
        }
    store = migrated(f"sqlite:///{tmp_path / 'dev.sqlite3'}")
    with running(create_app(store)) as dev:  # GraphiQL is served outside production only
        responses["graphiql"] = httpx.get(f"{dev}/graphql", headers={"accept": "text/html"})
    address = ("127.0.0.1", free_port())  # production serves metrics on a private address
    with with_lifespan(create_app(store, production=True, metrics_addr=address)):
        responses["private metrics"] = httpx.get(f"http://{address[0]}:{address[1]}/metrics")
    store.close()
    assert responses["graphiql"].status_code == 200
    assert responses["private metrics"].status_code == 200
    missing = [name for name, r in responses.items() if r.headers.get(NOSNIFF[0]) != NOSNIFF[1]]
    assert missing == []


def test_new_documents_are_parsed_only_in_the_document_threads(
    sqlite_served: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A spy around the real parser: where each parse of a query text runs.
    from api.graphql import prepare, response_cache

    threads: list[str] = []

    def spying(parse: Any) -> Any:
        def parse_and_note(*args: Any, **kwargs: Any) -> Any:
            threads.append(threading.current_thread().name)
            return parse(*args, **kwargs)

        return parse_and_note

    monkeypatch.setattr(prepare, "parse", spying(prepare.parse))
    monkeypatch.setattr(response_cache, "parse", spying(response_cache.parse))
    long = '{ decision(id: "' + "x" * 60_000 + '") { id } }'  # 60 KB for the lexer
    with httpx.Client(base_url=sqlite_served, timeout=LIVENESS) as http:
        answer = http.post("/graphql", json={"query": long}).json()
    url = sqlite_served.replace("http://", "ws://") + "/graphql"
    with connect(url, subprotocols=["graphql-transport-ws"], open_timeout=LIVENESS) as ws:  # type: ignore[list-item]
        ws.send(json.dumps({"type": "connection_init"}))
        ws.recv(timeout=LIVENESS)
        ws.send(
            json.dumps(
                {
                    "id": "1",
                    "type": "subscribe",
                    "payload": {"query": long.replace("{ id }", "{ id headline }")},
                }
            )
        )
        over_ws = json.loads(ws.recv(timeout=LIVENESS))
    assert answer == {"data": {"decision": None}}
    assert over_ws["payload"] == {"data": {"decision": None}}
    assert len(threads) == 3  # classified for the response cache, then prepared; then the WS
    assert all(name.startswith("graphql-prepare") for name in threads), threads


def test_a_syntax_error_over_websocket_closes_it_naming_the_error_and_logs_no_crash(
    sqlite_served: str, caplog: pytest.LogCaptureFixture
) -> None:
    url = sqlite_served.replace("http://", "ws://") + "/graphql"
    with (
        caplog.at_level(logging.ERROR),
        connect(url, subprotocols=["graphql-transport-ws"], open_timeout=LIVENESS) as ws,  # type: ignore[list-item]
    ):
        ws.send(json.dumps({"type": "connection_init"}))
        ws.recv(timeout=LIVENESS)
        ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": "{ integrity {"}}))
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=LIVENESS)
    assert ws.close_code == 4400
    assert ws.close_reason == "Syntax Error: Expected Name, found <EOF>."
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
