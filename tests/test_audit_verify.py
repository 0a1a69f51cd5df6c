"""`verify`, `export`/`import` and checkpoints catch tampering on both backends."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import text

from api.importing.commands import import_file, import_lines
from projections.audit.checkpoint import create_checkpoint, load_key
from projections.audit.checks import verify_export, verify_store
from projections.service import Store
from tests.conftest import SOURCE, Ran, cli, line, migrated, seed_lines


def run(*args: str) -> Ran:
    return cli(*args)


def seeded(store: Store) -> int:
    import_lines(store, seed_lines())
    return store.head()


def notification_id(store: Store, position: int) -> int:
    with store.engine.connect() as conn:
        return int(
            conn.execute(
                text("SELECT notification_id FROM policy_log WHERE position = :p"), {"p": position}
            ).scalar_one()
        )


def test_verify_passes_on_an_untouched_store_with_one_line_per_check(
    store: Store, db_url: str
) -> None:
    head = seeded(store)
    done = run("verify", "--db", db_url)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"chain: ok ({head} events, head {store.integrity().head_hash})"
    assert [x.split(":")[0] for x in lines] == [
        "chain",
        "positions",
        "projections",
        "tree",
        "checkpoints",
    ]
    assert all(": ok" in x for x in lines)


def test_a_changed_event_state_is_named_by_position_with_expected_and_actual_hash(
    store: Store, db_url: str
) -> None:
    seeded(store)
    with store.engine.begin() as conn:
        conn.execute(
            text("UPDATE policyrecord_events SET state = :s WHERE id = :i"),
            {"s": b'{"forged": true}', "i": notification_id(store, 5)},
        )
    report = verify_store(store)
    assert not report.ok and report.first_bad_position == 5
    chain = report.checks[0]
    assert chain.expected and chain.actual and chain.expected != chain.actual
    done = run("verify", "--json", "--db", db_url)
    assert done.returncode == 1
    answer = json.loads(done.stdout)
    assert answer["firstBadPosition"] == 5 and answer["ok"] is False
    assert (
        "chain: FAILED at position 5: leaf hash: expected" in run("verify", "--db", db_url).stdout
    )


def test_a_rewritten_chain_row_is_named_by_position(store: Store) -> None:
    seeded(store)
    with store.engine.begin() as conn:
        conn.execute(
            text("UPDATE policy_log SET chain_hash = :h WHERE position = 3"), {"h": "0" * 64}
        )
    report = verify_store(store)
    assert report.first_bad_position == 3
    assert report.checks[0].actual == "0" * 64


def test_an_event_row_without_a_chain_row_is_caught(store: Store) -> None:
    head = seeded(store)
    with store.engine.begin() as conn:
        conn.execute(text("DELETE FROM policy_log WHERE position = :p"), {"p": head})
    report = verify_store(store)
    positions = next(c for c in report.checks if c.name == "positions")
    assert not positions.ok and positions.position == head


def test_an_export_imported_into_an_empty_store_has_the_same_log_and_head_hash(
    store: Store, tmp_path: Path
) -> None:
    head = seeded(store)
    # The operator signs the head: the export carries the note, the restore trusts its key.
    kept = create_checkpoint(store.engine, load_key(tmp_path / "k.pem", create=True), "log")
    export = tmp_path / "log.jsonl"
    assert run("export", str(export), "--db", store.url).returncode == 0
    header = json.loads(export.read_text().splitlines()[0])
    assert header["format"] == "policy-timeline-export" and header["checkpoint"] == kept.note
    copy = migrated(f"sqlite:///{tmp_path / 'copy.sqlite3'}")
    try:
        restored = import_file(copy, export, [kept.verifier_key])
        assert restored.summary() == f"imported {head}, unchanged 0, rejected 0"
        assert copy.integrity().head_hash == store.integrity().head_hash
        assert copy.read.audit_log(first=1000) == store.read.audit_log(first=1000)
        assert copy.projector.digests() == store.projector.digests()
        again = import_file(copy, export)
        assert again.summary() == f"imported 0, unchanged {head}, rejected 0"
        assert verify_store(copy).ok
    finally:
        copy.close()


def test_an_export_is_refused_by_a_store_holding_another_log(store: Store, tmp_path: Path) -> None:
    seeded(store)
    export = tmp_path / "log.jsonl"
    run("export", str(export), "--db", store.url)
    other = tmp_path / "other.sqlite3"
    migrated(f"sqlite:///{other}").close()
    weapon = line(
        "recordWeapon",
        id="atacms",
        name="ATACMS",
        category="short-range-ballistic-missile",
        sources=SOURCE,
    )
    (tmp_path / "one.jsonl").write_text(weapon + "\n")
    assert run("import", str(tmp_path / "one.jsonl"), "--db", f"sqlite:///{other}").returncode == 0
    done = run("import", str(export), "--db", f"sqlite:///{other}")
    assert done.returncode == 2
    assert "the store is not empty" in done.stderr


def test_an_export_verifies_offline_and_a_tampered_line_is_named(
    store: Store, tmp_path: Path
) -> None:
    head = seeded(store)
    export = tmp_path / "log.jsonl"
    run("export", str(export), "--db", store.url)
    offline = run("verify", str(export), "--db", "sqlite:///nonexistent/never-opened.sqlite3")
    assert offline.returncode == 0, offline.stderr
    assert offline.stdout.splitlines()[0].startswith(f"chain: ok ({head} events")
    lines = export.read_text().splitlines()
    entry = json.loads(lines[4])
    entry["recordedAt"] = "2020-01-01T00:00:00.000000Z"
    lines[4] = json.dumps(entry)
    report = verify_export(lines)
    assert not report.ok and report.first_bad_position == 4
    assert "line 5: position 4: leaf hash: expected" in report.lines()[0]
    export.write_text("\n".join(lines) + "\n")
    assert run("verify", str(export)).returncode == 1
    target = tmp_path / "target.sqlite3"
    refused = run("import", str(export), "--db", f"sqlite:///{target}")
    assert refused.returncode == 2 and "line 5:" in refused.stderr


def test_a_checkpoint_is_extended_by_later_writes_and_a_consistent_rewrite_is_caught(
    store: Store, tmp_path: Path
) -> None:
    seeded(store)
    key = load_key(tmp_path / "k.pem", create=True)
    kept = create_checkpoint(store.engine, key, "test-log")
    (tmp_path / "cp.txt").write_text(kept.note)
    weapon = line(
        "recordWeapon",
        id="atacms",
        name="ATACMS",
        category="short-range-ballistic-missile",
        sources=SOURCE,
    )
    import_lines(store, [weapon])
    done = run(
        "verify",
        "--checkpoint",
        str(tmp_path / "cp.txt"),
        "--vkey",
        kept.verifier_key,
        "--db",
        store.url,
    )
    assert done.returncode == 0, done.stdout
    assert (
        f"checkpoint: ok (size {kept.tree_size} is a prefix of size {store.head()}, signature ok)"
        in done.stdout
    )
    # A consistent rewrite: change event 2 and recompute every hash after it.
    from projections.eventlog.ledger import GENESIS, chain_hash

    with store.engine.begin() as conn:
        rows = conn.execute(
            text("SELECT position, leaf_hash FROM policy_log ORDER BY position")
        ).all()
        previous = GENESIS
        for position, leaf in rows:
            if position == 2:
                leaf = "ab" * 32
            previous = chain_hash(previous, leaf)
            conn.execute(
                text("UPDATE policy_log SET leaf_hash = :l, chain_hash = :c WHERE position = :p"),
                {"l": leaf, "c": previous, "p": position},
            )
    report = verify_store(store, kept.note, kept.verifier_key)
    by_name = {c.name: c for c in report.checks}
    assert not by_name["checkpoint"].ok and not by_name["checkpoints"].ok
