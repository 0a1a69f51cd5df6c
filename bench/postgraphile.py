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
DECISIONS = "pt_bench_current_decisions"
RELATIONS = "pt_bench_current_relations"
HISTORY = "pt_bench_history"
TREATIES = "pt_bench_treaties"
PARTIES = "pt_bench_current_parties"
BOUND = "('PARTY', 'WITHDRAWAL_NOTIFIED', 'OBLIGATIONS_SUSPENDED')"
RECORD_VIEWS = [
    (
        DECISIONS,
        # The stored version holds the decision's fields, its weapons and their categories.
        f"CREATE VIEW {DECISIONS} AS SELECT decision_id, status,"
        " doc::jsonb -> 'fields' ->> 'headline' AS headline, doc::jsonb AS doc"
        " FROM pt_decisions WHERE valid_to IS NULL",
        "@primaryKey decision_id",
    ),
    (
        RELATIONS,
        f"CREATE VIEW {RELATIONS} AS SELECT relation, source_id, target_id FROM pt_relations"
        " WHERE valid_to IS NULL",
        "@primaryKey relation,source_id,target_id\\n"
        f"@foreignKey (source_id) references {DECISIONS} (decision_id)|@fieldName source"
        "|@foreignFieldName outgoing\\n"
        f"@foreignKey (target_id) references {DECISIONS} (decision_id)|@fieldName target"
        "|@foreignFieldName incoming",
    ),
    (
        HISTORY,
        f"CREATE VIEW {HISTORY} AS SELECT decision_id, position, event_type, recorded_at"
        " FROM pt_history",
        f"@primaryKey position\\n@foreignKey (decision_id) references {DECISIONS} (decision_id)"
        "|@foreignFieldName history",
    ),
    (
        TREATIES,
        f"CREATE VIEW {TREATIES} AS SELECT record_id AS id, doc::jsonb AS doc FROM pt_records"
        " WHERE kind = 'treaty'",
        "@primaryKey id",
    ),
    (
        PARTIES,
        # Standings on today's date, bound ones only: what `parties` lists.
        f"CREATE VIEW {PARTIES} AS SELECT treaty_id, country, status, since FROM pt_standing"
        " WHERE valid_to IS NULL AND starts_on <= CURRENT_DATE"
        f" AND (ends_on IS NULL OR ends_on > CURRENT_DATE) AND status IN {BOUND}",
        f"@primaryKey treaty_id,country\\n@foreignKey (treaty_id) references {TREATIES} (id)"
        "|@foreignFieldName parties",
    ),
]
"""Views of the current read-model rows a decision and a treaty's parties are read from,
with smart comments giving PostGraphile keys and relations (views have none of their own)."""
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
            for name, _, _ in reversed(RECORD_VIEWS):
                conn.execute(text(f"DROP VIEW IF EXISTS {name}"))
            conn.execute(text(f"DROP VIEW IF EXISTS {VIEW}"))
            conn.execute(text(CREATE_VIEW))
            conn.execute(text(KEY_COMMENT))
            for name, create, comment in RECORD_VIEWS:
                conn.execute(text(create))
                conn.execute(text(f"COMMENT ON VIEW {name} IS E'{comment}'"))
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


# --- decision(id:) with its relations, and a treaty's parties ------------------------------

OURS_DECISION = (
    "query Decision($id: ID!) { decision(id: $id) {"
    " id headline summary action actor recipient treaty status date { edtf }"
    " weapons { system category } officials { name office }"
    " sources { publisher title url retrievedOn }"
    " reverses { id headline status } reversedBy { id headline status }"
    " history { position eventType recordedAt } } }"
)
"""Ours: a decision with the decisions it reverses and that reverse it, and its history."""
THEIR_DECISION = (
    "query Decision($id: String!) { ptBenchCurrentDecisionByDecisionId(decisionId: $id) {"
    " decisionId doc"
    ' reverses: outgoing(condition: {relation: "reverses"}, orderBy: TARGET_ID_ASC)'
    " { nodes { target { decisionId headline status } } }"
    ' reversedBy: incoming(condition: {relation: "reverses"}, orderBy: SOURCE_ID_ASC)'
    " { nodes { source { decisionId headline status } } }"
    " history(orderBy: POSITION_ASC) { nodes { position eventType recordedAt } } } }"
)
"""PostGraphile: the same, over the views: the document (all the fields ours selects), the
related decisions through the relations view, the history steps in log order."""
OURS_TREATY = (
    "query Treaty($id: ID!) { treaty(id: $id) { id name prohibits"
    " parties { country status since } } }"
)
THEIR_TREATY = (
    "query Treaty($id: String!) { ptBenchTreatyById(id: $id) { id doc"
    " parties(orderBy: COUNTRY_ASC) { nodes { country status since } } } }"
)


def record_picks(db_url: str, count: int, seed: int = 0) -> tuple[list[str], list[str]]:
    """`count` current decisions, half of them in a reversal (when there are that many),
    chosen by a hash of the seed; and every treaty."""
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            linked = conn.execute(
                text(
                    "SELECT id FROM (SELECT source_id AS id FROM pt_relations"
                    " WHERE relation = 'reverses' AND valid_to IS NULL UNION"
                    " SELECT target_id FROM pt_relations WHERE relation = 'reverses'"
                    " AND valid_to IS NULL) AS r ORDER BY md5(id || :seed) LIMIT :n"
                ),
                {"seed": str(seed), "n": count // 2},
            ).scalars()
            chosen = list(linked)
            others = conn.execute(
                text(
                    "SELECT decision_id FROM pt_decisions WHERE valid_to IS NULL"
                    " ORDER BY md5(decision_id || :seed) LIMIT :n"
                ),
                {"seed": str(seed), "n": count},
            ).scalars()
            chosen += [i for i in others if i not in set(chosen)][: count - len(chosen)]
            treaties = conn.execute(
                text("SELECT record_id FROM pt_records WHERE kind = 'treaty' ORDER BY record_id")
            ).scalars()
            return chosen, list(treaties)
    finally:
        engine.dispose()


def _record_request(target: str, kind: str, base: str, ident: str) -> bytes:
    """One decision or treaty request as raw HTTP/1.1, for each server."""
    from urllib.parse import quote, urlsplit

    from bench import bare
    from bench import http as bench

    host = urlsplit(base).netloc
    if target == "bare":
        path = bare.DECISION_PATH if kind == "decision" else bare.TREATY_PATH
        return f"GET {path}?id={quote(ident)} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
    queries = {
        ("ours", "decision"): OURS_DECISION,
        ("ours", "treaty"): OURS_TREATY,
        ("postgraphile", "decision"): THEIR_DECISION,
        ("postgraphile", "treaty"): THEIR_TREATY,
    }
    return bench._graphql_request(host, queries[(target, kind)], {"id": ident})


def _raw_answer(base: str, raw: bytes) -> bytes:
    """Send raw request bytes on a fresh connection; the body (bounded by a timeout)."""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(base)
    raw = raw.replace(b"HTTP/1.1\r\n", b"HTTP/1.1\r\nConnection: close\r\n", 1)
    with socket.create_connection((parts.hostname, parts.port), timeout=60.0) as sock:
        sock.sendall(raw)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(f"{base}: {head[:200]!r} {body[:300]!r}")
    if b"transfer-encoding: chunked" in head.lower():
        out, rest = b"", body
        while True:
            size_line, _, rest = rest.partition(b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            if size == 0:
                return out
            out, rest = out + rest[:size], rest[size + 2 :]
    return body


def record_answer(target: str, kind: str, body: bytes) -> tuple[Any, ...]:
    """What every server must agree on: the decision's id, the ids (in order) of those it
    reverses and that reverse it and its history positions; the treaty's id and parties."""
    doc = json.loads(body)
    if doc.get("errors"):
        raise RuntimeError(f"{target} {kind}: {doc['errors']}")
    if kind == "decision":
        if target == "postgraphile":
            d = doc["data"]["ptBenchCurrentDecisionByDecisionId"]
            out = [n["target"]["decisionId"] for n in d["reverses"]["nodes"] if n["target"]]
            back = [n["source"]["decisionId"] for n in d["reversedBy"]["nodes"] if n["source"]]
            steps = [int(n["position"]) for n in d["history"]["nodes"]]  # a BigInt: text
            return d["decisionId"], tuple(out), tuple(back), tuple(steps)
        d = doc["data"]["decision"] if target == "ours" else doc["decision"]
        return (
            d["id"],
            tuple(r["id"] for r in d["reverses"]),
            tuple(r["id"] for r in d["reversedBy"]),
            tuple(int(h["position"]) for h in d["history"]),
        )
    if target == "postgraphile":
        t = doc["data"]["ptBenchTreatyById"]
        parties = t["parties"]["nodes"]
    else:
        t = doc["data"]["treaty"] if target == "ours" else doc["treaty"]
        parties = t["parties"]
    return t["id"], tuple((p["country"], p["status"], p["since"]) for p in parties)


def records_throughput(
    db_url: str,
    seconds: float,
    rounds: int,
    warmup: float = 2.0,
    picks: int = 200,
    seed: int = 0,
) -> dict[str, Any]:
    """`decision(id:)` with its relations and history, and `treaty(id:) { parties }`: ours
    with the response cache off, PostGraphile over views of the same rows and the bare route
    (bench.bare), `bench.http.CLIENTS` keep-alive clients in the load process, alternating in
    `rounds` slices. Every server must give the same answer (`record_answer`) for every pick."""
    from bench import http as bench

    decisions, treaties = record_picks(db_url, picks, seed)
    if not decisions or not treaties:
        raise RuntimeError("no decisions or no treaties to ask for")
    names = ("ours", "postgraphile", "bare")
    kinds = {"decision": decisions, "treaty": treaties}
    with contextlib.ExitStack() as stack:
        pool = stack.enter_context(bench.load_process())
        bases = {
            "ours": stack.enter_context(bench.serve(db_url, response_cache=False)),
            "postgraphile": stack.enter_context(bench.serve_postgraphile(db_url)),
            "bare": stack.enter_context(bench.serve_bare(db_url)),
        }
        plans = {
            (t, kind): [_record_request(t, kind, bases[t], i) for i in ids]
            for t in names
            for kind, ids in kinds.items()
        }
        for kind, ids in kinds.items():
            answers = {
                t: [record_answer(t, kind, _raw_answer(bases[t], r)) for r in plans[(t, kind)]]
                for t in names
            }
            for t in names:
                if answers[t] != answers["ours"]:
                    pairs = zip(ids, answers[t], answers["ours"], strict=True)
                    differ = [i for i, a, b in pairs if a != b]
                    raise RuntimeError(f"{t} answers other {kind} rows than ours: {differ[:5]}")
        runs: dict[tuple[str, str], list[dict[str, Any]]] = {k: [] for k in plans}
        for kind in kinds:
            for i in range(rounds):
                for t in names:
                    ramp = warmup if i == 0 else min(warmup, 0.5)
                    run = pool.call(
                        bench.load_in_child,
                        t,
                        bases[t],
                        bases[t].pid,
                        plans[(t, kind)],
                        bench.CLIENTS,
                        ramp,
                        seconds / rounds,
                        seed + i,
                        timeout=bench.load_timeout(ramp, seconds / rounds),
                    )
                    if run["errors"]:
                        raise RuntimeError(
                            f"{t} {kind}: {len(run['errors'])} errors, first: {run['errors'][0]}"
                        )
                    runs[(t, kind)].append(run)
    result: dict[str, Any] = {
        "clients": bench.CLIENTS,
        "seconds": seconds,
        "rounds": rounds,
        "decisions": len(decisions),
        "treaties": len(treaties),
        "same_answers": True,
    }
    for kind in kinds:
        figures = {t: bench._figures(runs[(t, kind)], seconds) for t in names}
        ours, theirs, bare = figures["ours"], figures["postgraphile"], figures["bare"]
        result[kind] = {
            **figures,
            "ours_over_postgraphile": round(ours["requests_per_s"] / theirs["requests_per_s"], 3),
            "ours_over_bare": round(ours["requests_per_s"] / bare["requests_per_s"], 3),
            "postgraphile_over_bare": round(theirs["requests_per_s"] / bare["requests_per_s"], 3),
        }
    return result


def compare(db_url: str, seconds: float, rounds: int, count: int) -> dict[str, Any]:
    """The whole comparison on one PostgreSQL store: throughput (ours with the cache on and
    off, PostGraphile, the bare route, alternating), then the deep and `asOf` pages, then
    `decision(id:)` with its relations and `treaty { parties }`."""
    from bench import http as bench

    throughput = bench.http_throughput(
        db_url, seconds=seconds, warmup=2.0, rounds=rounds, postgraphile=True
    )
    return {
        "throughput": throughput,
        "pages": deep_and_as_of(db_url, count=count),
        "records": records_throughput(db_url, seconds=seconds, rounds=rounds),
    }


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="ours against PostGraphile on one store")
    parser.add_argument("--db", required=True, help="a PostgreSQL store (postgresql+psycopg://…)")
    parser.add_argument("--seconds", type=float, default=40.0, help="measured, per server")
    parser.add_argument("--rounds", type=int, default=4, help="alternating slices")
    parser.add_argument("--count", type=int, default=200, help="sequential page pairs")
    options = parser.parse_args()
    print(json.dumps(compare(options.db, options.seconds, options.rounds, options.count)))
