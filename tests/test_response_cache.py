"""The GraphQL response cache: repeated queries answered from it, never a stale or wrong answer."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from api.graphql.positions import read_state
from api.graphql.response_cache import (
    BYTES_ENV,
    ENTRIES_ENV,
    CachedResponse,
    ResponseCache,
)
from api.http.app import create_app
from api.http.keys import KeyRing
from api.importing.commands import import_file
from projections.service import Store
from tests.conftest import SEED, migrated, statements
from tests.graphql_support import DECISION, RECORD_DECISION, codes, serving

TIMELINE = (
    "query T($country: String!, $asOf: Int, $first: Int) {"
    " countryTimeline(country: $country, asOf: $asOf, first: $first) {"
    " edges { cursor node { decisionId headline } } pageInfo { hasNextPage endCursor } } }"
)
NEW = {
    **DECISION,
    "id": "ukr-2024-12-01-sign-ccm",
    "treaty": "cluster-munition-convention",
    "decidedOn": "2024-12-01",
    "headline": "Ukraine signs the cluster munition convention",
}


@contextmanager
def server(store: Store, cache: ResponseCache | None = None, **kwargs: Any) -> Iterator[Any]:
    app = create_app(store, response_cache=ResponseCache() if cache is None else cache, **kwargs)
    with serving(app) as client:
        client.cache = app.state.response_cache  # type: ignore[attr-defined]
        yield client


@pytest.fixture
def seeded(store: Store) -> Store:
    import_file(store, SEED)
    return store


def post(client: httpx.Client, query: str, key: str | None = None, **variables: Any) -> Any:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)


def ids(response: httpx.Response) -> list[str]:
    edges = response.json()["data"]["countryTimeline"]["edges"]
    return [e["node"]["decisionId"] for e in edges]


def test_a_repeated_query_is_answered_from_the_cache_with_the_same_bytes_and_headers(
    seeded: Store,
) -> None:
    with server(seeded) as client:
        first = post(client, TIMELINE, country="UKR")
        second = post(client, TIMELINE, country="UKR")
        assert first.status_code == second.status_code == 200
        assert second.content == first.content and "errors" not in second.json()
        for header in ("content-type", "content-length"):
            assert second.headers[header] == first.headers[header]
        assert (client.cache.misses, client.cache.hits, len(client.cache)) == (1, 1, 1)
        # GET queries are cached too, under their own key.
        params = {"query": TIMELINE, "variables": json.dumps({"country": "UKR"})}
        got = [client.get("/graphql", params=params) for _ in range(2)]
        assert got[0].json() == got[1].json() == first.json()
        assert (client.cache.misses, client.cache.hits) == (2, 2)
        metrics = client.get("/metrics").text
        assert 'policy_timeline_response_cache_requests_total{result="hit"} 2.0' in metrics
        assert "policy_timeline_response_cache_entries 2.0" in metrics


def test_a_write_between_two_identical_queries_gives_the_new_answer(seeded: Store) -> None:
    _key, token = KeyRing(seeded.engine).create("editor")
    with server(seeded) as client:
        before = post(client, TIMELINE, country="UKR")
        assert NEW["id"] not in ids(before)
        recorded = post(client, RECORD_DECISION, token, input=NEW).json()
        assert recorded["data"]["recordDecision"]["__typename"] == "RecordDecisionSuccess"
        after = post(client, TIMELINE, country="UKR")
        assert NEW["id"] in ids(after)
        assert client.cache.hits == 0 and client.cache.misses == 2
        # A write that bypasses the server (an import) moves the position just the same.
        import_file(seeded, SEED)  # unchanged records: no new events, same answer
        assert post(client, TIMELINE, country="UKR").content == after.content
        assert client.cache.hits == 1


def test_a_mutation_is_never_cached(seeded: Store) -> None:
    _key, token = KeyRing(seeded.engine).create("editor")
    with server(seeded) as client:
        answers = [post(client, RECORD_DECISION, token, input=NEW).json() for _ in range(2)]
        first, second = (a["data"]["recordDecision"] for a in answers)
        assert first["__typename"] == second["__typename"] == "RecordDecisionSuccess"
        # Both ran: the second found the record unchanged and stored nothing new.
        assert second["position"] == first["position"] == seeded.head()
        assert len(client.cache) == 0 and client.cache.hits == 0
        assert client.cache.bypasses == 2
        # Without a key the same mutation is refused each time, never from a cache.
        refused = [post(client, RECORD_DECISION, input=NEW).json() for _ in range(2)]
        assert [codes(r) for r in refused] == [["UNAUTHORIZED"], ["UNAUTHORIZED"]]
        assert len(client.cache) == 0 and client.cache.hits == 0


def test_errors_and_audit_reads_are_not_cached(seeded: Store) -> None:
    with server(seeded) as client:
        for _ in range(2):
            too_many = post(client, TIMELINE, country="UKR", first=1000).json()
            assert codes(too_many) == ["BAD_USER_INPUT"]
            past = post(client, '{ decision(id: "x", minPosition: 99999) { id } }').json()
            assert codes(past) == ["BAD_USER_INPUT"]
            broken = post(client, "{ countryTimeline(country: ) { edges { cursor } } }")
            assert broken.json()["errors"]
            audit = post(
                client, "{ integrity { ok headPosition } auditLog(first: 1) { position } }"
            )
            assert audit.json()["data"]["integrity"]["ok"] is True
        assert len(client.cache) == 0 and client.cache.hits == 0
        assert client.cache.misses == 4  # the two refused queries; the audit read bypasses


def test_as_of_and_other_variables_get_entries_of_their_own(seeded: Store) -> None:
    with server(seeded) as client:
        latest = post(client, TIMELINE, country="UKR")
        early = post(client, TIMELINE, country="UKR", asOf=4)
        usa = post(client, TIMELINE, country="USA")
        assert len(client.cache) == 3 and client.cache.hits == 0
        assert ids(early) == ["ukr-1999-02-24-sign-ottawa"] != ids(latest)
        assert ids(usa) != ids(latest)
        assert post(client, TIMELINE, country="UKR", asOf=4).content == early.content
        assert post(client, TIMELINE, country="UKR").content == latest.content
        assert client.cache.hits == 2


def test_persisted_queries_are_cached_by_their_hash(seeded: Store) -> None:
    digest = hashlib.sha256(TIMELINE.encode()).hexdigest()
    by_hash = {
        "extensions": {"persistedQuery": {"version": 1, "sha256Hash": digest}},
        "variables": {"country": "UKR"},
    }
    with server(seeded, persisted={digest: TIMELINE}) as client:
        answers = [client.post("/graphql", json=by_hash) for _ in range(2)]
        assert answers[0].content == answers[1].content and ids(answers[0])
        assert client.cache.hits == 1
        unknown = [client.post("/graphql", json={"query": "{ __typename }"}) for _ in range(2)]
        codes = [r.json()["errors"][0]["extensions"]["code"] for r in unknown]
        assert codes == ["PERSISTED_QUERY_NOT_FOUND"] * 2
        assert len(client.cache) == 1 and client.cache.hits == 1


def test_the_entry_and_byte_bounds_evict_the_least_recently_used(seeded: Store) -> None:
    with server(seeded, ResponseCache(max_entries=2)) as client:
        for country in ("UKR", "USA", "RUS"):
            post(client, TIMELINE, country=country)
        assert len(client.cache) == 2 and client.cache.evictions == 1
        post(client, TIMELINE, country="UKR")  # the oldest went first
        assert client.cache.hits == 0 and client.cache.misses == 4
    one = CachedResponse(200, (), b"x" * 300, 400)
    cache = ResponseCache(max_entries=100, max_bytes=1000)
    for name in "abc":
        cache.put(name, one)
    assert cache.get("a") is None and cache.get("b") is one and cache.bytes == 800
    cache.put("d", one)  # b was just used: c goes
    assert cache.get("c") is None and cache.get("b") is one and len(cache) == 2
    cache.put("huge", CachedResponse(200, (), b"", 5000))  # over the whole budget: not kept
    assert cache.get("huge") is None and len(cache) == 2


def test_zero_turns_the_cache_off_and_the_state_holds_today(
    seeded: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENTRIES_ENV, "0")
    app = create_app(seeded)
    with serving(app) as client:
        answers = [post(client, TIMELINE, country="UKR") for _ in range(2)]
        assert answers[0].content == answers[1].content
    off = app.state.response_cache
    assert not off.enabled and len(off) == 0 and off.hits == off.misses == 0
    monkeypatch.setenv(ENTRIES_ENV, "10")
    monkeypatch.setenv(BYTES_ENV, "0")
    assert not ResponseCache.from_env().enabled
    monkeypatch.setenv(BYTES_ENV, "64M")
    assert ResponseCache.from_env().max_bytes == 64 * 1024 * 1024
    monkeypatch.setenv(BYTES_ENV, "lots")
    with pytest.raises(ValueError, match=BYTES_ENV):
        ResponseCache.from_env()
    state = read_state(seeded.read_engine)()
    assert state[-1] == dt.date.today()
    assert min(s[2] for s in state[:-1] if s[0] == "p") == seeded.read_position()


def test_a_hit_reads_nothing_from_the_database_while_the_state_is_held(seeded: Store) -> None:
    app = create_app(seeded, response_cache=ResponseCache())
    watch = app.state.position_watch
    watch.hold = watch.listening_hold = 60.0  # only a write may end the hold here
    with serving(app) as client:
        with statements(seeded) as first:
            miss = post(client, TIMELINE, country="UKR")
        assert len(first) >= 3  # the state before, the page, the state after
        with statements(seeded) as later:
            hits = [post(client, TIMELINE, country="UKR") for _ in range(20)]
        assert later == [] and app.state.response_cache.hits == 20
        assert all(h.content == miss.content for h in hits)
        # A write through this server is seen by the very next request.
        _key, token = KeyRing(seeded.engine).create("editor")
        assert post(client, RECORD_DECISION, token, input=NEW).status_code == 200
        assert NEW["id"] in ids(post(client, TIMELINE, country="UKR"))


def test_a_write_by_another_process_ends_the_hold(seeded: Store) -> None:
    """Another process's write: announced by its notification on PostgreSQL (the hold is
    made endless, so nothing else could show it), seen once the hold is over on SQLite."""
    app = create_app(seeded, response_cache=ResponseCache())
    watch = app.state.position_watch
    postgres = seeded.dialect == "postgresql"
    if postgres:
        watch.hold = watch.listening_hold = 3600.0
    other = migrated(seeded.url)  # its own engine and projector, as another process has
    try:
        with serving(app) as client:
            post(client, TIMELINE, country="UKR")
            if postgres:
                deadline = time.monotonic() + 10
                while not watch.listening:
                    assert time.monotonic() < deadline, "the LISTEN connection never came up"
                    time.sleep(0.01)
            before = post(client, TIMELINE, country="UKR")  # read while listening, then held
            assert NEW["id"] not in ids(before)
            assert post(client, TIMELINE, country="UKR").content == before.content
            hits = app.state.response_cache.hits
            assert hits >= 1
            other.execute("recordDecision", NEW)
            if postgres:
                deadline = time.monotonic() + 10
                while NEW["id"] not in ids(post(client, TIMELINE, country="UKR")):
                    assert time.monotonic() < deadline, "the notification never ended the hold"
                    time.sleep(0.01)
            else:
                time.sleep(watch.hold * 2)
                assert NEW["id"] in ids(post(client, TIMELINE, country="UKR"))
    finally:
        other.close()
