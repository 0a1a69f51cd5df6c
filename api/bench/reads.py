"""Rebuild and query latency, each against a baseline measured in the same run."""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from typing import Any

from api.bench.generator import TREATIES, countries, decision_id, weapon_id
from api.bench.ingest import notifications
from projections.service import Store

QUERIES = 1000


def rebuild(store: Store) -> dict[str, Any]:
    """Projector.rebuild() against reading and decoding the notification log alone."""
    read_seconds = 0.0
    for _warm_then_timed in range(2):  # the first pass fills caches both sides then share
        start = time.perf_counter()
        for page in notifications(store.app, 1000):
            for notification in page:
                store.app.mapper.to_domain_event(notification)
        read_seconds = time.perf_counter() - start
    events = store.head()
    start = time.perf_counter()
    store.projector.rebuild()
    rebuild_seconds = time.perf_counter() - start
    return {
        "events": events,
        "events_per_s": round(events / rebuild_seconds, 1),
        "baseline_events_per_s": round(events / read_seconds, 1),
        "ratio": round(read_seconds / rebuild_seconds, 3),
    }


def latency(query: Callable[[int], object], count: int = QUERIES) -> dict[str, float]:
    """p50 and p99 in milliseconds of `count` calls of `query(i)`."""
    samples = []
    for i in range(count):
        start = time.perf_counter()
        query(i)
        samples.append((time.perf_counter() - start) * 1000)
    cuts = statistics.quantiles(samples, n=100)
    return {"p50_ms": round(cuts[49], 3), "p99_ms": round(cuts[98], 3)}


def query_latencies(
    store: Store, operations: int, seed: int, count: int = QUERIES
) -> dict[str, Any]:
    """Latency of the main reads on a store filled by `operations` generated operations."""
    rng = random.Random(seed)
    codes = countries(seed)
    weapons = max(1, min(300, operations // 5))
    decisions = max(1, int((operations - 304) * 0.6))
    head = store.head()
    picks = [
        (
            rng.choice(codes),
            weapon_id(rng.randrange(weapons)),
            decision_id(rng.randrange(decisions)),
        )
        for _ in range(count)
    ]
    read = store.read
    return {
        "country_timeline": latency(
            lambda i: read.timeline("country", picks[i][0], first=50), count
        ),
        "country_timeline_as_of": latency(
            lambda i: read.timeline("country", picks[i][0], first=50, as_of=head // 2), count
        ),
        "weapon_timeline": latency(lambda i: read.timeline("system", picks[i][1], first=50), count),
        "decision": latency(lambda i: read.decision(picks[i][2]), count),
        "decision_as_of": latency(lambda i: read.decision(picks[i][2], as_of=head // 2), count),
        "treaty_parties": latency(lambda i: read.parties(TREATIES[i % len(TREATIES)][0]), count),
    }


def ratios(small: dict[str, Any], big: dict[str, Any]) -> dict[str, float]:
    """big/small p50 per query, and asOf/current p50 at the big size."""
    result = {f"{name}_big_over_small": _ratio(big[name], small[name]) for name in small}
    result["country_timeline_as_of_over_current"] = _ratio(
        big["country_timeline_as_of"], big["country_timeline"]
    )
    result["decision_as_of_over_current"] = _ratio(big["decision_as_of"], big["decision"])
    return result


def _ratio(a: dict[str, float], b: dict[str, float]) -> float:
    return round(a["p50_ms"] / b["p50_ms"], 3) if b["p50_ms"] else float("nan")
