"""`policy-timeline bench`: the benchmark suite, as a table or one JSON object."""

from __future__ import annotations

import importlib
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from projections import settings

DEFAULT_EVENTS = 1_000_000
QUICK_EVENTS = 50_000
# The suite is the checkout's top-level `bench/` package, beside `api/`: it is not installed
# with the product, and it needs the dev extras (httpx, playwright...).
CHECKOUT = Path(__file__).resolve().parents[2]

TARGETS = {"ingest": ">= 0.5", "rebuild": ">= 0.5"}


def bench(
    events: Annotated[
        int | None, typer.Option(help="operations to generate (default 1,000,000)")
    ] = None,
    backend: Annotated[str, typer.Option(help="sqlite or postgresql")] = "sqlite",
    quick: Annotated[
        bool, typer.Option(help=f"a CI smoke run of {QUICK_EVENTS} operations")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
    seed: Annotated[int, typer.Option(help="seed of the synthetic data")] = 0,
    db: Annotated[
        str | None,
        typer.Option(
            "--db", help="where temporary stores go: a SQLite path's folder or a PostgreSQL server"
        ),
    ] = None,
) -> None:
    """Measure ingest, rebuild and query latency, each as a ratio to a same-run baseline."""

    if backend not in ("sqlite", "postgresql"):
        raise typer.BadParameter("use sqlite or postgresql", param_hint="--backend")
    n = events if events is not None else QUICK_EVENTS if quick else DEFAULT_EVENTS
    if n < 10:
        raise typer.BadParameter("at least 10 operations", param_hint="--events")
    err = Console(stderr=True)
    run = load_suite(err)
    say = (lambda m: None) if as_json else (lambda m: err.print(f"bench: {m}…"))
    try:
        chosen = settings.current()  # POLICY_TIMELINE_DB when set, else a store of its own
        db = db or (chosen.db if "db" in chosen.model_fields_set else None)
        result = run(n, backend, db, seed, say, quick)
    except ValueError as exc:
        err.print(f"bench: {exc}", markup=False)
        raise typer.Exit(2) from None
    if as_json:
        typer.echo(json.dumps(result))
    else:
        Console().print(table(result))


def load_suite(err: Console) -> Callable[..., dict[str, Any]]:
    """`bench.run.run`, from this checkout; a clear error where there is no suite to run."""
    if not (CHECKOUT / "bench" / "run.py").is_file():
        err.print("bench: the benchmark suite comes with a checkout of the source (bench/)")
        raise typer.Exit(2)
    root = str(CHECKOUT)
    if root not in sys.path:
        sys.path.insert(0, root)
    # Its child processes (`python -m bench.ingest`, ...) find it the same way.
    paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    if root not in paths:
        os.environ["PYTHONPATH"] = os.pathsep.join([root, *paths])
    try:
        suite = importlib.import_module("bench.run")
    except ModuleNotFoundError as exc:
        err.print(
            f"bench: {exc.name} is missing; the benchmark suite needs the dev extras "
            "(pip install -e '.[dev]', or make bench)",
            markup=False,
        )
        raise typer.Exit(2) from None
    run: Callable[..., dict[str, Any]] = suite.run
    return run


def table(result: dict[str, Any]) -> Table:
    """The figures a reader compares: measured, baseline, ratio and target."""
    sizes = result["sizes"]
    t = Table(title=f"policy-timeline bench: {result['backend']}, N = {sizes['big']:,} operations")
    for column in ("figure", "measured", "baseline", "ratio", "target"):
        t.add_column(column)
    for size in ("small", "big"):
        ing = result["ingest"][size]
        t.add_row(
            f"ingest {ing['operations']:,} ops ({ing['events']:,} events), ev/s",
            f"{ing['events_per_s']:,.0f}",
            f"{ing['baseline_events_per_s']:,.0f}",
            f"{ing['ratio']:.3f}",
            TARGETS["ingest"],
        )
        t.add_row(f"  peak RSS {size}, MB", f"{ing['peak_rss_mb']:.0f}", "", "", "")
    t.add_row(
        "  peak RSS big/small", "", "", f"{result['ingest']['peak_rss_big_over_small']:.2f}", "flat"
    )
    reb = result["rebuild"]
    t.add_row(
        f"rebuild on {reb['jobs']} processes, ev/s",
        f"{reb['events_per_s']:,.0f}",
        f"{reb['baseline_events_per_s']:,.0f}",
        f"{reb['ratio']:.3f}",
        TARGETS["rebuild"],
    )
    t.add_row(
        "  rebuild on one process, ev/s",
        f"{reb['one_process']['events_per_s']:,.0f}",
        f"{reb['baseline_events_per_s']:,.0f}",
        f"{reb['one_process']['ratio']:.3f}",
        "",
    )
    if "floor" in result:
        floor, bounds = result["floor"], result["ratios"]
        t.add_row(
            f"  floor: {floor['rows_per_event']} projection rows per event, driver alone, us/ev",
            f"{floor['projection_us_per_event']:.1f}",
            f"log rows {floor['log_us_per_event']:.1f}",
            "",
            "",
        )
        t.add_row(
            "  best rebuild ratio on one core (floor)", "", "", f"{bounds['rebuild_bound']:.3f}", ""
        )
        t.add_row(
            "  best ingest ratio on one core (floor)", "", "", f"{bounds['ingest_bound']:.3f}", ""
        )
    small, big = result["queries"]["small"], result["queries"]["big"]
    for name in big:
        t.add_row(
            f"{name} p50/p99 ms @{sizes['big']:,}",
            f"{big[name]['p50_ms']:.2f} / {big[name]['p99_ms']:.2f}",
            f"{small[name]['p50_ms']:.2f} / {small[name]['p99_ms']:.2f} @{sizes['small']:,}",
            f"{result['ratios'][name + '_big_over_small']:.2f}",
            "<= 1.5",
        )
    if "treaty_parties_per_party_big_over_small" in result["ratios"]:
        t.add_row(
            "  treaty parties per party answered "
            f"({big['treaty_parties']['rows']:.0f} vs {small['treaty_parties']['rows']:.0f})",
            "",
            "",
            f"{result['ratios']['treaty_parties_per_party_big_over_small']:.2f}",
            "<= 1.5",
        )
    for name in ("country_timeline_as_of_over_current", "decision_as_of_over_current"):
        t.add_row(name.replace("_", " "), "", "", f"{result['ratios'][name]:.2f}", "<= 1.5")
    http = result["http"]
    h_small, h_big = http["latency"]["small"], http["latency"]["big"]
    for name in ("country_timeline", "weapon_timeline", "decision", "treaty_parties"):
        t.add_row(
            f"HTTP {name} p50/p99 ms @{sizes['big']:,}",
            f"{h_big[name]['p50_ms']:.2f} / {h_big[name]['p99_ms']:.2f}",
            f"{h_small[name]['p50_ms']:.2f} / {h_small[name]['p99_ms']:.2f} @{sizes['small']:,}",
            f"{result['ratios'][f'http_{name}_big_over_small']:.2f}",
            "<= 1.5",
        )
    thr = http["throughput"]
    t.add_row(
        f"HTTP countryTimeline req/s, {thr['clients']} clients "
        f"(response cache, {thr['cache']['hit_rate']:.0%} hits)",
        f"{thr['requests_per_s']:,.0f}",
        f"{thr['baseline_requests_per_s']:,.0f} bare route",
        f"{thr['ratio']:.3f}",
        ">= 0.4",
    )
    t.add_row(
        "  the same without the response cache",
        f"{thr['uncached']['requests_per_s']:,.0f}",
        f"{thr['baseline_requests_per_s']:,.0f} bare route",
        f"{thr['uncached_ratio']:.3f}",
        "",
    )
    deep = http["deep_page"]
    if deep is not None:
        t.add_row(
            f"deep page ({deep['depth']:,} rows in) p50 ms",
            f"{deep['deep']['p50_ms']:.2f}",
            f"{deep['first']['p50_ms']:.2f} first page",
            f"{deep['ratio']:.2f}",
            "<= 1.2",
        )
    gql = result["graphql"]
    t.add_row(
        "country timeline via GraphQL p50/p99 ms",
        f"{gql['country_timeline']['p50_ms']:.2f} / {gql['country_timeline']['p99_ms']:.2f}",
        f"{gql['bare_schema']['p50_ms']:.2f} / {gql['bare_schema']['p99_ms']:.2f} bare schema",
        f"{gql['ratio']:.2f}",
        "<= 1.5",
    )
    embed = result["embed"]
    server = embed.get("server", {})
    if "ratio" in server:
        t.add_row(
            f"embed first page of {server['timeline_entries']:,} entries, p50/p99 ms",
            f"{server['embed']['p50_ms']:.2f} / {server['embed']['p99_ms']:.2f}",
            f"{server['baseline']['p50_ms']:.2f} / {server['baseline']['p99_ms']:.2f} rows to JSON",
            f"{server['ratio']:.2f}",
            "",
        )
        rendered = server["embed_rendered"]
        t.add_row(
            "the same page rendered anew, p50/p99 ms",
            f"{rendered['p50_ms']:.2f} / {rendered['p99_ms']:.2f}",
            f"{server['baseline']['p50_ms']:.2f} / {server['baseline']['p99_ms']:.2f} rows to JSON",
            f"{server['rendered_ratio']:.2f}",
            "<= 1.5",
        )
        if "page_rows" in server:
            rows = server["page_rows"]
            t.add_row(
                "the same page rendered anew, against every row it shows",
                f"{rendered['p50_ms']:.2f} / {rendered['p99_ms']:.2f}",
                f"{rows['p50_ms']:.2f} / {rows['p99_ms']:.2f} page's rows to JSON",
                f"{server['rendered_over_page_rows']:.2f}",
                "<= 1.5",
            )
    browser = embed.get("browser", {})
    for size, target in (("11", "<= 35 KB, 1 request, <= 100 ms"), ("1000", "<= 250 ms")):
        if size in browser:
            b = browser[size]
            t.add_row(
                f"embed in Chromium, {int(size):,} entries",
                f"{b['kb']:.1f} KB, {b['requests']} req, {b['headline_ms']:.0f} ms",
                f"{browser['floor']['headline_ms']:.0f} ms bare page",
                f"{b['headline_over_floor_rounds']:.2f}"
                if "headline_over_floor_rounds" in b
                else "",
                target,
            )
    ver = result["verify"]
    t.add_row(
        f"verify, ev/s (chain check alone {ver['chain_events_per_s']:,.0f})",
        f"{ver['events_per_s']:,.0f}",
        f"{ver['baseline_events_per_s']:,.0f} SHA-256",
        f"{ver['ratio']:.3f}",
        "",
    )
    edtf = result["edtf"]
    t.add_row(
        "EDTF date, ms (new / cached)",
        f"{edtf['new_date_ms']:.2f}",
        f"{edtf['cached_date_ms']:.4f}",
        "",
        "",
    )
    return t


def register(app: typer.Typer) -> None:
    """Add `bench` to the command line."""
    app.command("bench")(bench)
