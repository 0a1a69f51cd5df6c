"""Rebuild and query latency, each against a baseline measured in the same run."""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from typing import Any

from bench.generator import TREATIES, WEAPON_COUNT, countries, decision_id, weapon_id
from bench.ingest import notifications
from projections.readmodels import parallel
from projections.readmodels.queries import Page
from projections.service import Store

QUERIES = 1000
PAGE = 50
WEAPON_FIRST = 20
"""A weapon system's page: at 10,000 operations most systems have 20 entries, few have 50."""


def rebuild(store: Store, jobs: int = 2) -> dict[str, Any]:
    """A rebuild of every projection on `jobs` processes (`parallel.rebuild`), and on one
    (`Projector.rebuild()`), against reading and decoding the notification log alone."""
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
    one_seconds = time.perf_counter() - start
    start = time.perf_counter()
    parallel.rebuild(store.projector, jobs=jobs)
    rebuild_seconds = time.perf_counter() - start
    return {
        "events": events,
        "jobs": jobs,
        "events_per_s": round(events / rebuild_seconds, 1),
        "baseline_events_per_s": round(events / read_seconds, 1),
        "ratio": round(read_seconds / rebuild_seconds, 3),
        "one_process": {
            "events_per_s": round(events / one_seconds, 1),
            "ratio": round(read_seconds / one_seconds, 3),
        },
    }


def latency(query: Callable[[int], object], count: int = QUERIES) -> dict[str, float]:
    """p50 and p99 in milliseconds of `count` calls of `query(i)`, and the mean rows answered."""
    samples, rows = [], 0
    for i in range(count):
        start = time.perf_counter()
        answer = query(i)
        samples.append((time.perf_counter() - start) * 1000)
        rows += _rows(answer)
    cuts = statistics.quantiles(samples, n=100)
    return {"p50_ms": round(cuts[49], 3), "p99_ms": round(cuts[98], 3), "rows": rows / count}


def _rows(answer: object) -> int:
    if isinstance(answer, Page):
        return len(answer.entries)
    if isinstance(answer, list):
        return len(answer)
    return int(answer is not None)


def full_pages(store: Store, seed: int) -> dict[str, list[str]]:
    """Countries (50 entries, now and as of half the log) and systems (20) with full pages.

    Latencies at two sizes compare like with like only on such keys: at the small size most
    countries and systems have fewer than 50 entries, so their pages are shorter."""
    head, read = store.head(), store.read
    return {
        "countries": [
            c
            for c in countries(seed)
            if len(read.timeline("country", c, first=PAGE, as_of=head // 2).entries) == PAGE
        ],
        "systems": [
            w
            for w in (weapon_id(i) for i in range(WEAPON_COUNT))
            if len(read.timeline("system", w, first=WEAPON_FIRST).entries) == WEAPON_FIRST
        ],
    }


def query_latencies(
    store: Store,
    operations: int,
    seed: int,
    count: int = QUERIES,
    pools: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    """Latency of the main reads on a store filled by `operations` generated operations.

    `pools` (see `full_pages`) are the countries and systems to pick from."""
    rng = random.Random(seed)
    codes = (pools or {}).get("countries") or countries(seed)
    systems = (pools or {}).get("systems") or [
        weapon_id(i) for i in range(max(1, min(WEAPON_COUNT, operations // 5)))
    ]
    decisions = max(1, int((operations - 304) * 0.6))
    head = store.head()
    picks = [
        (rng.choice(codes), rng.choice(systems), decision_id(rng.randrange(decisions)))
        for _ in range(count)
    ]
    read = store.read
    return {
        "country_timeline": latency(
            lambda i: read.timeline("country", picks[i][0], first=PAGE), count
        ),
        "country_timeline_as_of": latency(
            lambda i: read.timeline("country", picks[i][0], first=PAGE, as_of=head // 2), count
        ),
        "weapon_timeline": latency(
            lambda i: read.timeline("system", picks[i][1], first=WEAPON_FIRST), count
        ),
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
    # More states are party at the big size: the answer itself grows. Per party answered:
    parties = [size["treaty_parties"] for size in (big, small)]
    if all(p["rows"] for p in parties):
        per_row = [p["p50_ms"] / p["rows"] for p in parties]
        result["treaty_parties_per_party_big_over_small"] = round(per_row[0] / per_row[1], 3)
    return result


def _ratio(a: dict[str, float], b: dict[str, float]) -> float:
    return round(a["p50_ms"] / b["p50_ms"], 3) if b["p50_ms"] else float("nan")
