"""The HTTP bench: real servers in subprocesses, a separate load process, a checked baseline."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from api.importing.commands import import_lines
from bench import http as bench
from bench import postgraphile
from bench.generator import lines
from tests.conftest import _reset_pg, migrated

OPERATIONS = 300


def _fill(url: str) -> None:
    store = migrated(url)
    import_lines(store, lines(OPERATIONS, 0))
    store.close()


def _children() -> list[int]:
    """Live (not zombie) child processes of this test process."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            after = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(after[1]) == os.getpid() and after[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def _page(base: str, target: str, country: str, after: str | None = None) -> dict[str, Any]:
    """One page over a plain HTTP/1.1 connection, through the bench's own request bytes."""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(base)
    with socket.create_connection((parts.hostname, parts.port)) as sock:
        raw = bench.page_request(target, base, country, after)
        raw = raw.replace(b"HTTP/1.1\r\n", b"HTTP/1.1\r\nConnection: close\r\n", 1)
        sock.sendall(raw)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    return bench.page_of(target, body)


def test_both_servers_answer_the_same_rows_as_the_read_model(db_url: str) -> None:
    _fill(db_url)
    country, rows = bench.busiest(db_url)
    store = migrated(db_url)
    expected = store.read.timeline("country", country, first=50)
    cursor_of_row_5 = store.read.timeline("country", country, first=5).cursors[-1]
    store.close()
    assert len(expected.entries) == min(rows, 50)
    # The deep-page bench builds its cursor from SQL: the same cursor walking pages gives.
    assert bench._cursor_at(db_url, country, 5) == cursor_of_row_5
    with bench.serve(db_url) as ours, bench.serve_bare(db_url) as bare:
        pages = {"ours": _page(ours, "ours", country), "bare": _page(bare, "bare", country)}
        for page in pages.values():
            assert [e["node"]["decisionId"] for e in page["edges"]] == [
                e["decisionId"] for e in expected.entries
            ]
            assert [e["cursor"] for e in page["edges"]] == expected.cursors
        after = {
            t: _page(b, t, country, cursor_of_row_5) for t, b in (("ours", ours), ("bare", bare))
        }
        assert json.dumps(after["ours"]["pageInfo"]) == json.dumps(after["bare"]["pageInfo"])
        assert [e["node"]["decisionId"] for e in after["ours"]["edges"]] == [
            e["node"]["decisionId"] for e in after["bare"]["edges"]
        ]
        pids = [ours.pid, bare.pid]
    assert all(_gone(pid) for pid in pids)


def test_the_bare_decision_and_treaty_routes_answer_what_ours_answers(db_url: str) -> None:
    """The baseline of the decision and treaty comparison: for decisions in a reversal and
    others, and every treaty, the bare route gives the same decision, related ids in the same
    order, history positions and parties as our GraphQL server (the compiled path)."""
    _fill(db_url)
    store = migrated(db_url)
    read = store.read
    ids = sorted(read.decisions([f"decision-{k:07d}" for k in range(OPERATIONS)]))
    linked = sorted(i for i, o in read.related(ids, "reverses", True).items() if o)
    treaties = sorted(t["id"] for t in read.records("treaty"))
    store.close()
    assert linked and treaties
    picks = {"decision": [*linked[:3], *ids[:3]], "treaty": treaties}
    with bench.serve(db_url, response_cache=False) as ours, bench.serve_bare(db_url) as bare:
        for kind, idents in picks.items():
            for ident in idents:
                answers = [
                    postgraphile.record_answer(
                        t,
                        kind,
                        postgraphile._raw_answer(
                            b, postgraphile._record_request(t, kind, b, ident)
                        ),
                    )
                    for t, b in (("ours", ours), ("bare", bare))
                ]
                assert answers[0] == answers[1], (kind, ident, answers)
                assert answers[0][0] == ident


@pytest.mark.slow  # two servers and a load process, for seconds of load
def test_throughput_and_latency_over_http_have_their_shape_and_no_errors(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    _fill(url)
    before = set(_children())
    result = bench.http_throughput(url, seconds=1, warmup=0.3, rounds=1)
    assert result["same_rows"] is True and result["countries"] == 200
    assert {"hit", "miss", "bypass"} <= set(result["cache"])  # scraped from --metrics-addr
    for side in ("ours", "bare"):
        figures = result[side]
        assert figures["errors"] == 0 and figures["requests"] > 0
        assert 0 < figures["p50_ms"] <= figures["p99_ms"]
    assert result["ratio"] == round(
        result["ours"]["requests_per_s"] / result["bare"]["requests_per_s"], 3
    )
    latencies = bench.http_latencies(url, OPERATIONS, count=20)
    for name in ("country_timeline", "weapon_timeline", "decision", "treaty_parties"):
        assert 0 < latencies[name]["p50_ms"] <= latencies[name]["p99_ms"]
    assert latencies["country_timeline_over_bare"] > 0
    assert set(_children()) <= before  # servers and the load process are gone


@pytest.mark.slow  # installs PostGraphile from npm on the first run
def test_postgraphile_answers_the_same_rows_and_runs_in_the_same_rounds(pg_url: str) -> None:
    """PostGraphile over the view of current rows: the same decisions in the same order as
    the read model, first and second pages; then the comparison at tiny N, ids checked."""
    _reset_pg(pg_url)
    _fill(pg_url)
    country, _rows = bench.busiest(pg_url)
    store = migrated(pg_url)
    first = store.read.timeline("country", country, first=bench.PAGE)
    second = store.read.timeline("country", country, first=bench.PAGE, after=first.cursors[-1])
    store.close()
    with bench.serve_postgraphile(pg_url) as base:
        page = _page(base, "postgraphile", country)
        assert [e["node"]["decisionId"] for e in page["edges"]] == [
            e["decisionId"] for e in first.entries
        ]
        assert page["pageInfo"]["hasNextPage"] is first.has_next
        if first.has_next:
            after = _page(base, "postgraphile", country, page["pageInfo"]["endCursor"])
            assert [e["node"]["decisionId"] for e in after["edges"]] == [
                e["decisionId"] for e in second.entries
            ]
        pid = base.pid
    assert _gone(pid)
    result = bench.http_throughput(pg_url, seconds=1, warmup=0.3, rounds=1, postgraphile=True)
    assert result["same_rows"] is True
    assert result["postgraphile"]["errors"] == 0 and result["postgraphile"]["requests"] > 0
    assert result["uncached_over_postgraphile"] == round(
        result["uncached"]["requests_per_s"] / result["postgraphile"]["requests_per_s"], 3
    )
    pages = postgraphile.deep_and_as_of(pg_url, depth=5, count=5)
    assert pages["same_ids"] is True and pages["depth"] >= 1
    assert pages["ours_as_of"]["p50_ms"] > 0 and pages["postgraphile_deep"]["p50_ms"] > 0
    records = postgraphile.records_throughput(pg_url, seconds=1, rounds=1, warmup=0.3, picks=10)
    assert records["same_answers"] is True and records["decisions"] == 10
    for kind in ("decision", "treaty"):
        figures = records[kind]
        for side in ("ours", "postgraphile", "bare"):
            assert figures[side]["errors"] == 0 and figures[side]["requests"] > 0
        assert figures["ours_over_postgraphile"] == round(
            figures["ours"]["requests_per_s"] / figures["postgraphile"]["requests_per_s"], 3
        )


def test_a_load_call_that_does_not_answer_in_time_fails_loudly_and_is_killed() -> None:
    """A call of the load process that outlives its bound raises, naming the call, and the
    load process is killed, so a stalled run stops instead of waiting forever."""
    import time

    with bench.load_process() as pool:
        assert pool.call(os.getpid) == pool.pid  # it answers within its bound
        started = time.monotonic()
        with pytest.raises(RuntimeError, match=r"did not answer time\.sleep\(\) within 1 s") as err:
            pool.call(time.sleep, 30, timeout=1.0)
        assert "in _serve_calls" in str(err.value)  # its stack, where it waited, is shown
        assert time.monotonic() - started < 20
        pid = pool.pid
    assert _gone(pid)


def test_a_server_that_stops_answering_fails_the_request_instead_of_hanging(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A server that accepts the connection and the request but never answers: the load
    generator's request fails after REQUEST_TIMEOUT, naming the request and the server."""
    import asyncio
    import socket

    monkeypatch.setattr(bench, "REQUEST_TIMEOUT", 0.5)
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        base = f"http://127.0.0.1:{silent.getsockname()[1]}"

        async def one() -> None:
            conn = await bench._Connection.open(base)
            try:
                await conn.send(bench.page_request("ours", base, "UKR"))
            finally:
                conn.close()

        with pytest.raises(RuntimeError, match=r"no answer to POST /graphql HTTP/1.1 within"):
            asyncio.run(one())
