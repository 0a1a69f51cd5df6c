"""Runs the whole suite on fresh temporary stores and returns every figure and ratio."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench.embed import embed_figures
from bench.floor import write_floor
from bench.http import PAGE, busiest, deep_page, http_latencies, http_throughput
from bench.ingest import measure_in_child
from bench.overhead import graphql_overhead, verify_speed
from bench.postgraphile import records_throughput
from bench.reads import QUERIES, full_pages, query_latencies, ratios, rebuild
from domain.dates import FuzzyDate
from projections.service import Store

SMALL_EVENTS = 10_000


@contextmanager
def temporary_urls(backend: str, base: str | None, count: int) -> Iterator[list[str]]:
    """`count` empty databases on `backend`, removed afterwards."""
    if backend == "sqlite":
        parent = None
        if base and make_url(base).get_backend_name() == "sqlite" and make_url(base).database:
            parent = str(Path(str(make_url(base).database)).resolve().parent)
            os.makedirs(parent, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="bench-", dir=parent) as tmp:
            yield [f"sqlite:///{Path(tmp) / f'db{i}.sqlite3'}" for i in range(count)]
        return
    if not base or make_url(base).get_backend_name() != "postgresql":
        raise ValueError("--backend postgresql needs --db postgresql+psycopg://user@host/db")
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    names = [f"pt_bench_{uuid.uuid4().hex[:10]}" for _ in range(count)]
    with admin.connect() as conn:
        for name in names:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield [make_url(base).set(database=n).render_as_string(hide_password=False) for n in names]
    finally:
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def edtf_parse_ms(count: int = 50) -> dict[str, float]:
    """Cost of one date never seen before (parsed) and of one seen before (cached)."""
    start = time.perf_counter()
    for i in range(count):
        FuzzyDate(f"{1000 + i}-0{1 + i % 9}-1{i % 9}~")  # years nobody else uses: uncached
    fresh = (time.perf_counter() - start) * 1000 / count
    start = time.perf_counter()
    for _ in range(count * 100):
        FuzzyDate("1000-01-10~")
    cached = (time.perf_counter() - start) * 1000 / (count * 100)
    return {"new_date_ms": round(fresh, 3), "cached_date_ms": round(cached, 4)}


def run(
    events: int,
    backend: str = "sqlite",
    base_url: str | None = None,
    seed: int = 0,
    say: Callable[[str], None] = lambda _: None,
    quick: bool = False,
) -> dict[str, Any]:
    """Every figure of the suite, with the baseline of each and its ratio.

    `quick` (the CI smoke run) takes fewer samples of each latency and shorter HTTP runs."""
    small = min(SMALL_EVENTS, max(100, events // 4))
    result = header(backend, seed, small, events, quick)
    with temporary_urls(backend, base_url, 5) as urls:
        small_url, small_raw, big_url, big_raw, floor_url = urls
        say(f"ingest {small} operations")
        ingest_small = measure_in_child(small_url, small_raw, small, seed)
        say(f"ingest {events} operations")
        ingest_big = measure_in_child(big_url, big_raw, events, seed)
        result["ingest"] = {"small": ingest_small, "big": ingest_big}
        measure_stores(result, small_url, big_url, say, floor_url)
    measure_embed(result, base_url if backend == "postgresql" else None, say)
    return with_ratios(result)


def header(backend: str, seed: int, small: int, big: int, quick: bool) -> dict[str, Any]:
    """What a result says about its own run."""
    return {
        "quick": quick,
        "date": dt.date.today().isoformat(),
        "backend": backend,
        "cpus": os.cpu_count(),
        "seed": seed,
        "sizes": {"small": small, "big": big},
        "edtf": edtf_parse_ms(),
    }


def measure_stores(
    result: dict[str, Any],
    small_url: str,
    big_url: str,
    say: Callable[[str], None],
    floor_url: str | None = None,
) -> None:
    """Everything measured on the two imported stores: rebuild, the floor of the rows they
    write (into `floor_url`, an empty database), reads, verify, HTTP."""
    small, events = result["sizes"]["small"], result["sizes"]["big"]
    seed, quick = result["seed"], result["quick"]
    count = 100 if quick else QUERIES
    big_store, small_store = Store(big_url), Store(small_url)
    big_store.migrate()
    small_store.migrate()
    try:
        say("rebuild")
        result["rebuild"] = rebuild(big_store)
        if floor_url is not None:
            say("floor: the same rows written by the driver alone")
            result["floor"] = write_floor(big_store, floor_url)
        say("queries")
        # Timelines are compared on keys with full pages at both sizes (see full_pages).
        pools = full_pages(small_store, seed)
        result["pools"] = {name: len(keys) for name, keys in pools.items()}
        result["queries"] = {
            "small": query_latencies(small_store, small, seed, count, pools),
            "big": query_latencies(big_store, events, seed, count, pools),
        }
        say("graphql overhead")
        result["graphql"] = graphql_overhead(big_store, seed, count)
        say("verify")
        result["verify"] = verify_speed(big_store)
    finally:
        big_store.close()
        small_store.close()
    say("http: latency, throughput with 16 clients, deep page")
    result["http"] = http_figures(small_url, small, big_url, events, seed, count, quick, pools)


def measure_embed(result: dict[str, Any], server: str | None, say: Callable[[str], None]) -> None:
    """The embed's figures, on stores of their own (they do not depend on N)."""
    say("embed: server time of a 10,000-entry timeline, Chromium at 11 and 1,000 entries")
    quick = result["quick"]
    result["embed"] = embed_figures(
        server,
        seed=result["seed"],
        server_entries=1_000 if quick else 10_000,
        # One cold load is no figure: single loads of one page stray by 2-4x on a loaded machine.
        loads=5 if quick else 7,
        samples=100 if quick else 1000,
        say=say,
    )


def with_ratios(result: dict[str, Any]) -> dict[str, Any]:
    """`result` with every ratio gathered under `ratios`."""
    ingest = result["ingest"]
    ingest["peak_rss_big_over_small"] = round(
        ingest["big"]["peak_rss_mb"] / ingest["small"]["peak_rss_mb"], 3
    )
    result["ratios"] = {
        "ingest": ingest["big"]["ratio"],
        "rebuild": result["rebuild"]["ratio"],
        "rebuild_one_process": result["rebuild"]["one_process"]["ratio"],
        **ratios(result["queries"]["small"], result["queries"]["big"]),
        "graphql_over_bare": result["graphql"]["ratio"],
        **http_ratios(result["http"]),
        **embed_ratios(result["embed"]),
        "verify": result["verify"]["ratio"],
        "verify_chain": result["verify"]["chain_ratio"],
        **floor_bounds(result),
    }
    return result


def floor_bounds(result: dict[str, Any]) -> dict[str, float]:
    """The best ratio an import and a rebuild could reach on one core, writing the rows they
    write with no other work: baseline / (baseline + the floor's writes), at the big size.

    An import must also parse and validate every line (`parse_seconds`), the same events'
    save being its baseline."""
    floor = result.get("floor")
    if not floor:
        return {}
    events = floor["events"]
    read = events / result["rebuild"]["baseline_events_per_s"]
    big = result["ingest"]["big"]
    save = big["events"] / big["baseline_events_per_s"]
    rows = floor["projection_seconds"]
    written = save + rows + floor["log_seconds"]
    return {
        "rebuild_bound": round(read / (read + rows), 3),
        "ingest_bound": round(save / (written + big.get("parse_seconds", 0.0)), 3),
    }


def http_figures(
    small_url: str,
    small: int,
    big_url: str,
    big: int,
    seed: int,
    count: int,
    quick: bool,
    pools: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    """Latency over HTTP at both sizes; throughput and the deep page at the big size."""
    return {
        "latency": {
            # Without the response cache: the picks repeat, and a hit says nothing of N.
            "small": http_latencies(
                small_url, small, seed, count, response_cache=False, pools=pools
            ),
            "big": http_latencies(big_url, big, seed, count, response_cache=False, pools=pools),
        },
        "throughput": http_throughput(
            big_url,
            seed,
            seconds=1.0 if quick else 10.0,
            warmup=0.3 if quick else 2.0,
            rounds=1 if quick else 2,
            postgraphile=big_url.startswith("postgresql"),
        ),
        # A deep page needs a country with more than a page of rows (not so at tiny N).
        "deep_page": deep_page(big_url, count=count) if busiest(big_url)[1] > PAGE else None,
        # decision(id:) with its relations and treaty { parties } against PostGraphile.
        "records": records_throughput(
            big_url,
            seconds=1.0 if quick else 10.0,
            rounds=1 if quick else 2,
            warmup=0.3 if quick else 2.0,
        )
        if big_url.startswith("postgresql")
        else None,
    }


def http_ratios(http: dict[str, Any]) -> dict[str, float]:
    """The HTTP figures' ratios: big/small per query, throughput, deep page."""
    small, big = http["latency"]["small"], http["latency"]["big"]
    result = {
        f"http_{name}_big_over_small": round(big[name]["p50_ms"] / small[name]["p50_ms"], 3)
        for name in ("country_timeline", "weapon_timeline", "decision", "treaty_parties")
    }
    result["http_throughput"] = http["throughput"]["ratio"]
    result["http_throughput_uncached"] = http["throughput"]["uncached_ratio"]
    if "uncached_over_postgraphile" in http["throughput"]:
        result["http_uncached_over_postgraphile"] = http["throughput"]["uncached_over_postgraphile"]
    if http["deep_page"] is not None:
        result["deep_page_over_first"] = http["deep_page"]["ratio"]
    if http.get("records") is not None:
        for kind in ("decision", "treaty"):
            figures = http["records"][kind]
            result[f"http_{kind}_over_postgraphile"] = figures["ours_over_postgraphile"]
    return result


def embed_ratios(embed: dict[str, Any]) -> dict[str, float]:
    """The embed's server time against its rows as JSON (when measured): as readers after the
    first get it, and rendered anew; rendered anew also against every row the page shows."""
    server = embed.get("server")
    if not server or "ratio" not in server:
        return {}
    return {
        "embed_server_over_json": server["ratio"],
        "embed_rendered_over_json": server["rendered_ratio"],
        "embed_rendered_over_page_rows": server["rendered_over_page_rows"],
    }
