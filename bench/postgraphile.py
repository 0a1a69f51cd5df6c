"""PostGraphile 4 over the store's own timeline rows: the GraphQL server a data desk would pick.

The bench (PostgreSQL only) installs PostGraphile from npm into var/postgraphile (nothing is
committed), points it at a view of the current, unretracted `pt_timeline` rows with each
entry's document as jsonb, and asks it for the same country pages as our server: one SQL
statement per request, the JSON built by PostgreSQL. A view has no primary key of its own: a
smart comment gives it one, so its cursors are keysets, as ours are.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

VERSION = "4.14.1"
ROOT = Path(__file__).resolve().parents[1]
PREFIX = ROOT / "var" / "postgraphile"
INSTALL_TIMEOUT = 600
STARTUP_SECONDS = 60.0
VIEW = "pt_bench_current_timeline"
FIELD = "allPtBenchCurrentTimelines"
CREATE_VIEW = (
    f"CREATE VIEW {VIEW} AS SELECT kind, key, decision_id, earliest, first_position,"
    " doc::jsonb AS doc FROM pt_timeline WHERE valid_to IS NULL AND status <> 'RETRACTED'"
)
KEY_COMMENT = f"COMMENT ON VIEW {VIEW} IS E'@primaryKey kind,key,earliest,first_position'"
"""A smart comment: one current row per (timeline, decision), and a decision's first position
is its own, so this is unique; PostGraphile appends a key to the order to make keyset cursors,
and this one keeps the order the timeline index gives (no sort), as ours does."""
PAGE_QUERY = (
    "query Page($key: String!, $first: Int!, $after: Cursor) {"
    f' {FIELD}(condition: {{kind: "country", key: $key}},'
    " orderBy: [EARLIEST_ASC, FIRST_POSITION_ASC], first: $first, after: $after)"
    " { edges { cursor node { doc } } pageInfo { hasNextPage endCursor } } }"
)


def install() -> Path:
    """The postgraphile executable, installed from npm once (var/postgraphile)."""
    wanted = json.dumps({"private": True, "dependencies": {"postgraphile": VERSION}})
    stamp = PREFIX / ".installed"
    binary = PREFIX / "node_modules" / ".bin" / "postgraphile"
    if not (stamp.is_file() and stamp.read_text() == wanted and binary.exists()):
        npm = shutil.which("npm")
        if npm is None or shutil.which("node") is None:
            raise RuntimeError("the PostGraphile comparison needs node and npm on PATH")
        PREFIX.mkdir(parents=True, exist_ok=True)
        (PREFIX / "package.json").write_text(wanted)
        subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--no-package-lock", "--loglevel=error"],
            cwd=PREFIX,
            check=True,
            timeout=INSTALL_TIMEOUT,
            stdout=subprocess.DEVNULL,
        )
        stamp.write_text(wanted)
    return binary


def create_view(db_url: str) -> None:
    """The view PostGraphile reads: current rows of every timeline, documents as jsonb."""
    engine = create_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(text(f"DROP VIEW IF EXISTS {VIEW}"))
            conn.execute(text(CREATE_VIEW))
            conn.execute(text(KEY_COMMENT))
    finally:
        engine.dispose()


def connection_string(db_url: str) -> str:
    """A libpq URL for the store's SQLAlchemy URL (postgresql+psycopg://… → postgres://…)."""
    url = make_url(db_url).set(drivername="postgres")
    return url.render_as_string(hide_password=False)


def page_of(body: bytes) -> dict[str, Any]:
    """PostGraphile's answer in the shape of ours: edges of (cursor, node = the entry)."""
    doc = json.loads(body)
    if doc.get("errors"):
        raise RuntimeError(f"PostGraphile errors: {doc['errors']}")
    page = doc["data"][FIELD]
    return {
        "edges": [{"cursor": e["cursor"], "node": e["node"]["doc"]} for e in page["edges"]],
        "pageInfo": page["pageInfo"],
    }


def _answers(port: int) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2.0)
    try:
        body = json.dumps({"query": "{ __typename }"})
        conn.request("POST", "/graphql", body, {"Content-Type": "application/json"})
        return conn.getresponse().status == 200
    finally:
        conn.close()


@contextlib.contextmanager
def running(db_url: str, port: int) -> Iterator[subprocess.Popen[bytes]]:
    """PostGraphile (one Node process, no mutations, no query log) on a loopback port."""
    binary = install()
    create_view(db_url)
    args = [str(binary), "--connection", connection_string(db_url), "--schema", "public"]
    args += ["--host", "127.0.0.1", "--port", str(port), "--disable-default-mutations"]
    args += ["--dynamic-json", "--disable-query-log"]
    # Its stderr goes to a file: a pipe read only at exit fills up (64 KB) under a long run
    # and Node, whose writes to a pipe block, then stops answering every request.
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log
        )
        try:
            deadline = time.monotonic() + STARTUP_SECONDS
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"PostGraphile exited with {proc.returncode}: {_tail(log)}")
                with contextlib.suppress(OSError):
                    if _answers(port):
                        break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"PostGraphile did not start: {_tail(log)}")
                time.sleep(0.1)
            yield proc
        finally:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=20)


def _tail(log: Any) -> str:
    log.seek(0)
    return str(log.read()[-2000:].decode(errors="replace"))


def _post(base: str, query: str, variables: dict[str, Any], timeout: float = 60.0) -> bytes:
    from urllib.parse import urlsplit

    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=timeout)
    try:
        body = json.dumps({"query": query, "variables": variables})
        conn.request("POST", "/graphql", body, {"Content-Type": "application/json"})
        return conn.getresponse().read()
    finally:
        conn.close()


def _ids(page: dict[str, Any]) -> list[str]:
    return [e["node"]["decisionId"] for e in page["edges"]]


def _projected(db_url: str) -> int:
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT MIN(position) FROM pt_tracking")).scalar() or 0)
    finally:
        engine.dispose()


def deep_and_as_of(db_url: str, depth: int = 4000, count: int = 200) -> dict[str, Any]:
    """p50 of the busiest country's page `depth` rows in, ours (cache off) and PostGraphile's,
    each interleaved with its own first page, one client; both must answer the same ids. And
    ours for an `asOf` page (half-way through the log), interleaved with the current page."""
    from bench import http as bench

    as_of_page = (
        "query AsOfPage($country: String!, $asOf: Int) {"
        f" countryTimeline(country: $country, first: {bench.PAGE}, asOf: $asOf)"
        f" {{ {bench.CONNECTION} }} }}"
    )
    country, rows = bench.busiest(db_url)
    used = max(1, min(depth, rows - bench.PAGE))
    ours_cursor = bench._cursor_at(db_url, country, used)
    result: dict[str, Any] = {"country": country, "rows": rows, "depth": used}
    with bench.load_process() as pool:
        with bench.serve_postgraphile(db_url) as base:
            # Its own cursor for row `used`: the last of a page of `used` rows.
            walked = page_of(_post(base, PAGE_QUERY, {"key": country, "first": used}))
            cursor = walked["edges"][-1]["cursor"]
            variables = {"key": country, "first": bench.PAGE, "after": cursor}
            theirs = _ids(page_of(_post(base, PAGE_QUERY, variables)))
            first = bench.page_request("postgraphile", base, country)
            deep = bench.page_request("postgraphile", base, country, cursor)
            theirs_raw = pool.call(bench.sequential_in_child, base, [first, deep] * (20 + count))
        with bench.serve(db_url, response_cache=False) as base:
            variables = {"country": country, "after": ours_cursor}
            ours = _ids(bench.page_of("ours", _post(base, bench.COUNTRY_PAGE, variables)))
            host = base.split("//", 1)[1]
            as_of = {"country": country, "asOf": max(1, _projected(db_url) // 2)}
            plan = [
                bench.page_request("ours", base, country),
                bench.page_request("ours", base, country, ours_cursor),
                bench._graphql_request(host, as_of_page, as_of),
            ]
            ours_raw = pool.call(bench.sequential_in_child, base, plan * (20 + count))
    for name, got in (("postgraphile", theirs_raw), ("ours", ours_raw)):
        if got["errors"]:
            raise RuntimeError(f"{name}: {len(got['errors'])} errors, first: {got['errors'][0]}")
    if theirs != ours:
        raise RuntimeError("PostGraphile's deep page holds other decisions than ours")
    theirs_t, ours_t = theirs_raw["samples"][40:], ours_raw["samples"][60:]
    figures = {
        "postgraphile_first": bench.percentiles(theirs_t[0::2]),
        "postgraphile_deep": bench.percentiles(theirs_t[1::2]),
        "ours_first": bench.percentiles(ours_t[0::3]),
        "ours_deep": bench.percentiles(ours_t[1::3]),
        "ours_as_of": bench.percentiles(ours_t[2::3]),
    }
    result.update(figures)
    p50 = {k: v["p50_ms"] for k, v in figures.items()}
    result["same_ids"] = True
    result["deep_ours_over_postgraphile"] = round(p50["ours_deep"] / p50["postgraphile_deep"], 3)
    result["first_ours_over_postgraphile"] = round(p50["ours_first"] / p50["postgraphile_first"], 3)
    result["as_of_over_current"] = round(p50["ours_as_of"] / p50["ours_first"], 3)
    return result


def compare(db_url: str, seconds: float, rounds: int, count: int) -> dict[str, Any]:
    """The whole comparison on one PostgreSQL store: throughput (ours with the cache on and
    off, PostGraphile, the bare route, alternating), then the deep and `asOf` pages."""
    from bench import http as bench

    throughput = bench.http_throughput(
        db_url, seconds=seconds, warmup=2.0, rounds=rounds, postgraphile=True
    )
    return {"throughput": throughput, "pages": deep_and_as_of(db_url, count=count)}


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="ours against PostGraphile on one store")
    parser.add_argument("--db", required=True, help="a PostgreSQL store (postgresql+psycopg://…)")
    parser.add_argument("--seconds", type=float, default=40.0, help="measured, per server")
    parser.add_argument("--rounds", type=int, default=4, help="alternating slices")
    parser.add_argument("--count", type=int, default=200, help="sequential page pairs")
    options = parser.parse_args()
    print(json.dumps(compare(options.db, options.seconds, options.rounds, options.count)))
