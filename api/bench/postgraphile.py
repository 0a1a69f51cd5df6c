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
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

VERSION = "4.14.1"
ROOT = Path(__file__).resolve().parents[2]
PREFIX = ROOT / "var" / "postgraphile"
INSTALL_TIMEOUT = 600
STARTUP_SECONDS = 60.0
VIEW = "pt_bench_current_timeline"
FIELD = "allPtBenchCurrentTimelines"
CREATE_VIEW = (
    f"CREATE VIEW {VIEW} AS SELECT kind, key, decision_id, earliest, first_position,"
    " doc::jsonb AS doc FROM pt_timeline WHERE valid_to IS NULL AND status <> 'RETRACTED'"
)
KEY_COMMENT = f"COMMENT ON VIEW {VIEW} IS E'@primaryKey kind,key,decision_id'"
"""A smart comment: a current row is one per (timeline, decision); with a key PostGraphile
makes keyset cursors (earliest, first_position, then the key), as ours are."""
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
    proc = subprocess.Popen(
        args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if proc.poll() is not None:
                error = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
                raise RuntimeError(f"PostGraphile exited with {proc.returncode}: {error[-2000:]}")
            with contextlib.suppress(OSError):
                if _answers(port):
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("PostGraphile did not start")
            time.sleep(0.1)
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()
