"""`verify` against bare SHA-256, and GraphQL against a bare strawberry schema."""

from __future__ import annotations

import asyncio
import hashlib
import random
import time
from typing import Any

import strawberry
from sqlalchemy import select

from api.graphql.build import build_schema
from api.graphql.context import Context
from bench.generator import countries
from bench.reads import QUERIES, latency
from projections.audit.checks import verify_store
from projections.eventlog.ledger import GENESIS, envelope_for, log
from projections.eventlog.recorder import events_table
from projections.service import Store

PAGE = 5000
COUNTRY_TIMELINE = """
query Timeline($country: String!) {
  countryTimeline(country: $country, first: 50) {
    edges { cursor node { decisionId role action headline date { edtf display } } }
    pageInfo { hasNextPage endCursor }
  }
}"""


def verify_speed(store: Store) -> dict[str, Any]:
    """`verify` and its chain check alone against SHA-256 over the same canonical bytes."""
    start = time.perf_counter()
    report = verify_store(store)
    verify_seconds = time.perf_counter() - start
    if not report.ok:
        raise RuntimeError(f"verify failed on a generated store: {report}")
    start = time.perf_counter()
    store.integrity()
    chain_seconds = time.perf_counter() - start
    hash_seconds = _hash_seconds(store)
    events = store.head()
    return {
        "events": events,
        "events_per_s": round(events / verify_seconds, 1),
        "chain_events_per_s": round(events / chain_seconds, 1),
        "baseline_events_per_s": round(events / hash_seconds, 1),
        "ratio": round(hash_seconds / verify_seconds, 3),
        "chain_ratio": round(hash_seconds / chain_seconds, 3),
    }


def _hash_seconds(store: Store) -> float:
    """Seconds to compute every leaf and chain hash, given the canonical bytes in memory."""
    events = events_table(store.app)
    columns: tuple[Any, ...] = (log.c.position, log.c.recorded_at, log.c.schema_version)
    columns += (events.c.originator_id, events.c.originator_version, events.c.topic, events.c.state)
    seconds, previous, position = 0.0, bytes.fromhex(GENESIS), 0
    with store.engine.connect() as conn:
        while True:
            rows = conn.execute(
                select(*columns)
                .join(events, events.c.id == log.c.notification_id)
                .where(log.c.position > position)
                .order_by(log.c.position)
                .limit(PAGE)
            ).all()
            if not rows:
                return seconds
            canonical = [
                b"\x00" + envelope_for(r.position, r, r.recorded_at, r.schema_version).canonical()
                for r in rows
            ]
            start = time.perf_counter()
            for leaf_input in canonical:  # the hashing no verifier can skip
                previous = hashlib.sha256(previous + hashlib.sha256(leaf_input).digest()).digest()
            seconds += time.perf_counter() - start
            position = rows[-1].position


@strawberry.type
class BareDate:
    edtf: str
    display: str


@strawberry.type
class BareNode:
    decision_id: str
    role: str
    action: str
    headline: str
    date: BareDate


@strawberry.type
class BareEdge:
    cursor: str
    node: BareNode


@strawberry.type
class BarePageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class BareConnection:
    edges: list[BareEdge]
    page_info: BarePageInfo


def _bare_schema(pages: dict[str, BareConnection]) -> strawberry.Schema:
    @strawberry.type
    class Query:
        @strawberry.field
        def country_timeline(self, country: str, first: int) -> BareConnection:
            return pages[country]

    return strawberry.Schema(query=Query)


def _bare_page(data: dict[str, Any]) -> BareConnection:
    edges = [
        BareEdge(
            cursor=e["cursor"],
            node=BareNode(
                decision_id=e["node"]["decisionId"],
                role=e["node"]["role"],
                action=e["node"]["action"],
                headline=e["node"]["headline"],
                date=BareDate(**e["node"]["date"]),
            ),
        )
        for e in data["edges"]
    ]
    info = data["pageInfo"]
    page_info = BarePageInfo(has_next_page=info["hasNextPage"], end_cursor=info["endCursor"])
    return BareConnection(edges=edges, page_info=page_info)


def graphql_overhead(store: Store, seed: int, count: int = QUERIES) -> dict[str, Any]:
    """countryTimeline (first 50) through our schema against a bare schema serving its rows."""
    rng = random.Random(seed)
    picks = [rng.choice(countries(seed)) for _ in range(count)]
    ours = build_schema()
    # Our resolvers may await (data loaders): both schemas run on one event loop, as served.
    loop = asyncio.Runner()

    def ask(schema: strawberry.Schema, country: str, context: Any) -> dict[str, Any]:
        result = loop.run(
            schema.execute(
                COUNTRY_TIMELINE, variable_values={"country": country}, context_value=context
            )
        )
        if result.errors or result.data is None:
            raise RuntimeError(f"countryTimeline failed: {result.errors}")
        return result.data

    with loop:
        answers = {c: ask(ours, c, Context(store=store)) for c in sorted(set(picks))}
        bare = _bare_schema({c: _bare_page(a["countryTimeline"]) for c, a in answers.items()})
        # The same rows from memory, so the two answers must be the very same.
        if any(ask(bare, c, None) != a for c, a in answers.items()):
            raise RuntimeError("the bare schema does not answer what ours does")
        measured = latency(lambda i: ask(ours, picks[i], Context(store=store)), count)
        baseline = latency(lambda i: ask(bare, picks[i], None), count)
    return {
        "country_timeline": measured,
        "bare_schema": baseline,
        "ratio": round(measured["p50_ms"] / baseline["p50_ms"], 3),
    }
