"""CORS over real HTTP: the public reads are readable from any site, writes from none."""

from __future__ import annotations

import json

import httpx

from api.http.app import create_app
from api.http.limits import query_hash
from api.importing.commands import import_lines
from projections.service import Store
from tests.conftest import seed_lines
from tests.graphql_support import serving

NEWSROOM = {"Origin": "https://newsroom.example"}
QUERY = "{ __typename }"
PERSISTED = {"persistedQuery": {"version": 1, "sha256Hash": query_hash(QUERY)}}


def _preflight(client: httpx.Client, path: str, method: str, headers: str = "") -> httpx.Response:
    request = {**NEWSROOM, "Access-Control-Request-Method": method}
    if headers:
        request["Access-Control-Request-Headers"] = headers
    return client.options(path, headers=request)


def test_timelinejs_and_oembed_are_readable_from_any_site(store: Store) -> None:
    import_lines(store, seed_lines())
    with serving(create_app(store)) as client:
        embed = f"{client.base_url}/embed/timeline?country=UKR"
        answers = [
            client.get("/timelinejs.json?country=UKR", headers=NEWSROOM),
            client.get("/oembed", params={"url": embed}, headers=NEWSROOM),
            client.get("/timelinejs.json?country=Ukraine", headers=NEWSROOM),  # a 400 too
            client.head("/timelinejs.json?country=UKR", headers=NEWSROOM),
        ]
    assert [a.status_code for a in answers] == [200, 200, 400, 200]
    for answer in answers:
        assert answer.headers["access-control-allow-origin"] == "*"
        assert "access-control-allow-credentials" not in answer.headers


def test_a_preflight_for_a_read_is_granted_and_one_for_a_write_refused(store: Store) -> None:
    with serving(create_app(store)) as client:
        read = _preflight(client, "/timelinejs.json?country=UKR", "GET", "if-none-match")
        graphql = _preflight(client, "/graphql", "GET", "content-type")
        write = _preflight(client, "/graphql", "POST", "content-type, authorization")
    for granted in (read, graphql):
        assert granted.status_code == 204
        assert granted.headers["access-control-allow-origin"] == "*"
        assert granted.headers["access-control-allow-methods"] == "GET, HEAD"
        allowed = granted.headers["access-control-allow-headers"]
        assert "content-type" in allowed and "authorization" not in allowed
        assert "access-control-allow-credentials" not in granted.headers
    assert write.status_code == 403
    assert not any(name.startswith("access-control-") for name in write.headers)


def test_only_a_graphql_get_naming_a_persisted_query_is_readable_from_other_sites(
    store: Store,
) -> None:
    with serving(create_app(store)) as client:
        client.post("/graphql", json={"query": QUERY, "extensions": PERSISTED})  # registers it
        persisted = client.get(
            "/graphql", params={"extensions": json.dumps(PERSISTED)}, headers=NEWSROOM
        )
        ad_hoc = client.get("/graphql", params={"query": QUERY}, headers=NEWSROOM)
        posted = client.post("/graphql", json={"query": QUERY}, headers=NEWSROOM)
        garbled = client.get("/graphql", params={"extensions": "[" * 5000}, headers=NEWSROOM)
    assert persisted.json() == {"data": {"__typename": "Query"}}
    assert persisted.headers["access-control-allow-origin"] == "*"
    for refused in (ad_hoc, posted, garbled):
        assert "access-control-allow-origin" not in refused.headers
