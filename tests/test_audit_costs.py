"""`integrity` reads stored state, proofs read O(log n) nodes, export streams (both backends)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, text

from api.http.app import create_app
from api.http.keys import KeyRing
from api.importing.commands import import_lines
from projections.audit.checkpoint import leaf_hashes
from projections.audit.export import write_export
from projections.audit.verifier import verify_inclusion
from projections.eventlog import merkle
from projections.readmodels import tables
from projections.service import Store
from tests.conftest import SOURCE, cli, line, migrated
from tests.graphql_support import codes, gql, serving

INTEGRITY = """{ integrity {
  ok headPosition headHash checkedUpTo firstBadPosition verifiedAt detail verifying
} }"""
PROOF = """query P($p: Int!, $n: Int) {
  inclusionProof(position: $p, treeSize: $n) { leafIndex treeSize leafHash rootHash auditPath }
}"""
VERIFY = "mutation { verifyIntegrity { ok headPosition checkedUpTo verifiedAt } }"


def weapons(store: Store, start: int, count: int, batch_lines: int = 37) -> None:
    """`count` weapon records (one event each), stored over several batches."""
    lines = [
        line(
            "recordWeapon",
            id=f"w{i}",
            name=f"W{i}",
            category="short-range-ballistic-missile",
            sources=SOURCE,
        )
        for i in range(start, start + count)
    ]
    report = import_lines(store, lines, batch_lines=batch_lines)
    assert not report.errors, report.errors


@contextmanager
def statements(store: Store) -> Iterator[list[tuple[str, Any]]]:
    """Every SQL statement (and its parameters) the store's engine runs meanwhile."""
    seen: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    event.listen(store.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(store.engine, "before_cursor_execute", record)


def params_count(parameters: Any) -> int:
    if isinstance(parameters, dict):
        return len(parameters)
    if isinstance(parameters, list | tuple):
        return len(parameters)
    return 0


def test_integrity_reads_two_rows_whatever_the_log_length(store: Store) -> None:
    events_table = store.app.recorder.events_record_cls.__table__.name  # type: ignore[attr-defined]
    counts = []
    with serving(create_app(store)) as client:
        for size in (10, 300):
            weapons(store, store.head(), size - store.head())
            with statements(store) as seen:
                body = gql(client, INTEGRITY)
            answer = body["data"]["integrity"]
            assert answer["headPosition"] == size
            assert answer["headHash"] == store.integrity().head_hash
            assert answer["verifiedAt"] is None and answer["checkedUpTo"] == 0
            sql = [s for s, _ in seen if s.lstrip().upper().startswith("SELECT")]
            assert all(events_table not in s for s in sql), sql  # no event is read
            assert all("LIMIT" in s.upper() for s in sql if "policy_log" in s), sql
            # The response cache's reads of the projections' positions (one before a miss's
            # answer, one after when it took longer than the cache holds them) are not
            # integrity's: tests/test_response_cache.py counts those.
            counts.append(len([s for s in sql if tables.tracking.name not in s]))
    assert counts[0] == counts[1] <= 2


def test_integrity_answers_the_last_verification_and_its_failure(store: Store, db_url: str) -> None:
    weapons(store, 0, 20)
    done = cli("verify", "--db", db_url)
    assert done.returncode == 0, done.stdout + done.stderr
    with serving(create_app(store)) as client:
        answer = gql(client, INTEGRITY)["data"]["integrity"]
        assert answer["ok"] is True and answer["checkedUpTo"] == 20
        assert answer["verifiedAt"] is not None and answer["firstBadPosition"] is None
        with store.engine.begin() as conn:
            conn.execute(
                text("UPDATE policy_log SET chain_hash = :h WHERE position = 7"), {"h": "0" * 64}
            )
        # Until the next full verification, integrity answers what the last one found.
        assert gql(client, INTEGRITY)["data"]["integrity"]["ok"] is True
        done = cli("verify", "--db", db_url)
        assert done.returncode == 1
        answer = gql(client, INTEGRITY)["data"]["integrity"]
        assert answer["ok"] is False and answer["firstBadPosition"] == 7
        assert answer["detail"].startswith("chain: FAILED at position 7")


def test_verify_integrity_is_for_editors_one_at_a_time_and_rate_limited(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    weapons(store, 0, 12)
    ring = KeyRing(store.engine)
    _, reader = ring.create("reader")
    _, editor = ring.create("editor")
    monkeypatch.setenv("POLICY_TIMELINE_VERIFY_INTERVAL", "3600")
    with serving(create_app(store)) as client:
        assert codes(gql(client, VERIFY)) == ["UNAUTHORIZED"]
        assert codes(gql(client, VERIFY, key=reader)) == ["FORBIDDEN"]
        body = gql(client, VERIFY, key=editor)
        assert "errors" not in body, body
        answer = body["data"]["verifyIntegrity"]
        assert answer["ok"] is True and answer["checkedUpTo"] == 12 and answer["verifiedAt"]
        again = gql(client, VERIFY, key=editor)
        assert codes(again) == ["RATE_LIMITED"] and "the next may start in" in str(again)
        monkeypatch.setenv("POLICY_TIMELINE_VERIFY_INTERVAL", "0")
        assert "errors" not in gql(client, VERIFY, key=editor)


def test_inclusion_proofs_match_rfc_6962_for_every_size_and_read_log_n_rows(store: Store) -> None:
    total = 0
    for batch in (1, 2, 3, 5, 8, 13, 21, 34, 43):  # batch edges fall at many tree shapes
        weapons(store, total, batch, batch_lines=batch)
        total += batch
    leaves = leaf_hashes(store.engine)
    assert len(leaves) == total == 130
    with serving(create_app(store)) as client:
        for size in (1, 2, 3, 4, 5, 7, 8, 9, 31, 32, 33, 64, 65, 100, 127, 128, 129, 130):
            reference = merkle.root(leaves[:size])
            for position in sorted({1, min(2, size), size // 2 + 1, max(size - 1, 1), size}):
                with statements(store) as seen:
                    body = gql(client, PROOF, {"p": position, "n": size})
                proof = body["data"]["inclusionProof"]
                path = [bytes.fromhex(h) for h in proof["auditPath"]]
                assert path == merkle.inclusion_path(position - 1, leaves[:size])
                assert proof["rootHash"] == reference.hex()
                verify_inclusion(position - 1, size, leaves[position - 1], path, reference)
                reads = [(s, p) for s, p in seen if "policy_merkle" in s or "leaf_hash" in s]
                # At most the leaf, the path's nodes and the peaks: O(log n), never every leaf.
                assert len(reads) <= 2, reads
                assert all(" IN (" in s_.upper() for s_, _ in reads), reads  # no range scan
                assert sum(params_count(p) for _, p in reads) <= 3 * size.bit_length() + 2


def test_a_store_older_than_the_node_table_gets_it_filled_when_opened(db_url: str) -> None:
    store = migrated(db_url)
    try:
        weapons(store, 0, 45)
        expected = merkle.inclusion_path(20, leaf_hashes(store.engine))
        with store.engine.begin() as conn:
            conn.execute(text("DROP TABLE policy_merkle"))
    finally:
        store.close()
    again = migrated(db_url)
    try:
        with again.engine.connect() as conn:
            stored = conn.execute(text("SELECT count(*) FROM policy_merkle")).scalar_one()
            assert stored == 45 - bin(45).count("1")  # every complete subtree of level >= 1
        weapons(again, 45, 6)
        leaves = leaf_hashes(again.engine)
        from projections.eventlog import nodes

        with again.engine.connect() as conn:
            assert nodes.inclusion(conn, 20, 45)[2] == expected
            assert nodes.inclusion(conn, 47, 51)[2] == merkle.inclusion_path(47, leaves)
        assert nodes.check(again.engine) is None
    finally:
        again.close()


class Recording(io.BytesIO):
    """An output file that notes how many SELECTs had run when each line was written."""

    def __init__(self, seen: list[tuple[str, Any]]) -> None:
        super().__init__()
        self.seen = seen
        self.at: list[int] = []

    def write(self, data: Any) -> int:
        self.at.append(sum(1 for s, _ in self.seen if s.lstrip().upper().startswith("SELECT")))
        return super().write(data)


def test_export_streams_in_bounded_batches(store: Store) -> None:
    weapons(store, 0, 95)
    with statements(store) as seen:
        out = Recording(seen)
        count, head = write_export(store.app, store.engine, out, batch=10)
    assert (count, head) == (95, store.integrity().head_hash)
    selects = [s for s, _ in seen if s.lstrip().upper().startswith("SELECT")]
    reads_of_events = [s for s in selects if "state" in s]
    assert len(reads_of_events) == 10  # 95 events, 10 at a time: ten bounded reads
    assert all("LIMIT" in s.upper() for s in reads_of_events)
    # The first event line is written before the second batch is read: nothing is held
    # beyond one batch, however long the log.
    first_batch = out.at[1]
    assert out.at[11] > first_batch
    lines = out.getvalue().decode().splitlines()
    header = json.loads(lines[0])
    assert header["treeSize"] == 95 and header["headHash"] == head
    assert header["rootHash"] == merkle.root(leaf_hashes(store.engine)).hex()
