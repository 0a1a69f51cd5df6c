"""Tampering with the store's tables by raw SQL is caught by `verify`, at the exact position."""

from __future__ import annotations

import uuid
from pathlib import Path

from sqlalchemy import Connection, Table, select, text
from typer.testing import CliRunner

from api.cli.main import app as cli
from api.importing.commands import import_lines
from projections.audit.checkpoint import Stored, create_checkpoint, load_key
from projections.audit.checks import verify_store
from projections.eventlog import nodes
from projections.eventlog.ledger import (
    GENESIS,
    chain_hash,
    envelope_for,
    envelope_of,
    leaf_hash,
    log,
)
from projections.service import Store
from tests.conftest import seed_lines

EVENTS = "policyrecord_events"


def seeded(store: Store) -> int:
    import_lines(store, seed_lines())
    return store.head()


def verify_cli(db_url: str, *args: str) -> tuple[int, str]:
    """`policy-timeline verify` run in this process: exit code and output."""
    done = CliRunner().invoke(cli, ["verify", "--db", db_url, *args])
    return done.exit_code, done.output


def assert_caught_at(db_url: str, position: int) -> str:
    code, output = verify_cli(db_url)
    assert code == 1, output
    assert f"FAILED at position {position}:" in output, output
    code, output_json = verify_cli(db_url, "--json")
    assert code == 1 and f'"firstBadPosition": {position},' in output_json
    return output


def event_of(conn: Connection, position: int) -> int:
    return int(
        conn.execute(
            text("SELECT notification_id FROM policy_log WHERE position = :p"), {"p": position}
        ).scalar_one()
    )


def state_of(conn: Connection, position: int) -> bytes:
    return bytes(
        conn.execute(
            text(f"SELECT state FROM {EVENTS} WHERE id = :i"), {"i": event_of(conn, position)}
        ).scalar_one()
    )


def set_state(conn: Connection, position: int, state: bytes) -> None:
    conn.execute(
        text(f"UPDATE {EVENTS} SET state = :s WHERE id = :i"),
        {"s": state, "i": event_of(conn, position)},
    )


def flip(state: bytes, index: int) -> bytes:
    return state[:index] + bytes([state[index] ^ 0x01]) + state[index + 1 :]


def test_a_flipped_byte_inside_a_payload_value_is_caught_at_its_position(
    store: Store, db_url: str
) -> None:
    seeded(store)
    with store.engine.begin() as conn:
        state = state_of(conn, 6)
        set_state(conn, 6, flip(state, state.index(b'"slug":"') + 9))
    output = assert_caught_at(db_url, 6)
    assert "chain: FAILED at position 6: leaf hash: expected" in output


def test_a_flipped_byte_that_breaks_the_payload_json_is_caught_at_its_position(
    store: Store, db_url: str
) -> None:
    seeded(store)
    with store.engine.begin() as conn:
        set_state(conn, 4, flip(state_of(conn, 4), 0))  # "{" becomes "z"
    output = assert_caught_at(db_url, 4)
    assert "chain: FAILED at position 4: the stored event is not valid JSON" in output


def test_a_deleted_event_row_is_caught_at_its_position(store: Store, db_url: str) -> None:
    seeded(store)
    with store.engine.begin() as conn:
        conn.execute(text(f"DELETE FROM {EVENTS} WHERE id = :i"), {"i": event_of(conn, 7)})
    assert "chain: FAILED at position 7: the event row is missing" in assert_caught_at(db_url, 7)


def test_a_deleted_chain_row_is_caught_at_its_position(store: Store, db_url: str) -> None:
    seeded(store)
    with store.engine.begin() as conn:
        conn.execute(text("DELETE FROM policy_log WHERE position = 5"))
    output = assert_caught_at(db_url, 5)
    assert "positions: FAILED at position 5: an event row (notification id" in output
    assert "chain: FAILED at position 5: expected position 5, found 6" in output


def test_two_swapped_event_rows_are_caught_at_the_first_of_them(store: Store, db_url: str) -> None:
    seeded(store)
    with store.engine.begin() as conn:
        rows = {
            p: conn.execute(
                text(f"SELECT topic, state FROM {EVENTS} WHERE id = :i"), {"i": event_of(conn, p)}
            ).one()
            for p in (3, 9)
        }
        for here, there in ((3, 9), (9, 3)):
            conn.execute(
                text(f"UPDATE {EVENTS} SET topic = :t, state = :s WHERE id = :i"),
                {"t": rows[there].topic, "s": rows[there].state, "i": event_of(conn, here)},
            )
    output = assert_caught_at(db_url, 3)
    assert "chain: FAILED at position 3: the chain row does not describe its event" in output


def test_two_swapped_chain_rows_are_caught_at_the_first_of_them(store: Store, db_url: str) -> None:
    seeded(store)
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE policy_log SET position = -1 WHERE position = 8"))
        conn.execute(text("UPDATE policy_log SET position = 8 WHERE position = 9"))
        conn.execute(text("UPDATE policy_log SET position = 9 WHERE position = -1"))
    assert "chain: FAILED at position 8: leaf hash" in assert_caught_at(db_url, 8)


def test_a_forged_row_with_correct_hashes_inserted_in_the_middle_is_caught_at_its_position(
    store: Store, db_url: str
) -> None:
    seeded(store)
    events: Table = store.app.recorder.events_record_cls.__table__  # type: ignore[attr-defined]
    with store.engine.begin() as conn:
        model = conn.execute(
            text(f"SELECT topic, state FROM {EVENTS} WHERE id = :i"), {"i": event_of(conn, 3)}
        ).one()
        forged_state = bytes(model.state).replace(b'"slug":"', b'"slug":"forged-')
        stream = uuid.uuid4()
        forged_id = conn.execute(
            events.insert()
            .values(
                originator_id=stream, originator_version=1, topic=model.topic, state=forged_state
            )
            .returning(events.c.id)
        ).scalar_one()
        # Make room after position 4 (two steps: PostgreSQL checks the key row by row).
        conn.execute(text("UPDATE policy_log SET position = -position - 1 WHERE position > 4"))
        conn.execute(text("UPDATE policy_log SET position = -position WHERE position < 0"))
        before = conn.execute(
            text("SELECT chain_hash, recorded_at FROM policy_log WHERE position = 4")
        ).one()
        envelope = envelope_of(5, stream, 1, model.topic, forged_state, before.recorded_at)
        leaf = leaf_hash(envelope)
        conn.execute(
            text(
                "INSERT INTO policy_log (position, notification_id, event_id, stream_id, "
                "version, event_type, schema_version, recorded_at, leaf_hash, chain_hash) "
                "VALUES (5, :n, :e, :s, 1, :t, 1, :r, :l, :c)"
            ),
            {
                "n": forged_id,
                "e": envelope.event_id,
                "s": envelope.stream_id,
                "t": envelope.event_type,
                "r": envelope.recorded_at,
                "l": leaf,
                "c": chain_hash(before.chain_hash, leaf),
            },
        )
    output = assert_caught_at(db_url, 5)
    assert "was inserted" in output


def checkpointed(store: Store, tmp_path: Path) -> tuple[Stored, Path]:
    kept = create_checkpoint(store.engine, load_key(tmp_path / "k.pem", create=True), "test-log")
    note = tmp_path / "checkpoint.txt"
    note.write_text(kept.note, encoding="utf-8")
    return kept, note


def test_a_truncated_tail_passes_the_chain_but_not_a_checkpoint_it_no_longer_extends(
    store: Store, db_url: str, tmp_path: Path
) -> None:
    head = seeded(store)
    kept, note = checkpointed(store, tmp_path)
    with store.engine.begin() as conn:
        doomed = [event_of(conn, p) for p in range(head - 2, head + 1)]
        conn.execute(text("DELETE FROM policy_log WHERE position > :p"), {"p": head - 3})
        for ident in doomed:
            conn.execute(text(f"DELETE FROM {EVENTS} WHERE id = :i"), {"i": ident})
        # A careful attacker also removes the checkpoints the store keeps.
        conn.execute(text("DELETE FROM policy_checkpoints"))
        conn.execute(text("DELETE FROM policy_merkle"))  # and the stored subtree hashes
        nodes.backfill(conn)
    store.projector.rebuild()  # and makes the read models agree with the shortened log
    assert verify_store(store).ok  # the chain alone cannot tell
    code, output = verify_cli(db_url, "--checkpoint", str(note), "--vkey", kept.verifier_key)
    assert code == 1
    assert (
        f"checkpoint: FAILED at position {head - 2}: the checkpoint has {head} events, "
        f"the log {head - 3}" in output
    )


def test_a_consistently_rewritten_chain_is_caught_only_by_an_older_checkpoint(
    store: Store, db_url: str, tmp_path: Path
) -> None:
    seeded(store)
    kept, note = checkpointed(store, tmp_path)
    with store.engine.begin() as conn:
        set_state(conn, 2, state_of(conn, 2).replace(b"Convention", b"Kanvention", 1))
        events: Table = store.app.recorder.events_record_cls.__table__  # type: ignore[attr-defined]
        rows = conn.execute(
            select(
                log.c.position,
                events.c.originator_id,
                events.c.originator_version,
                events.c.topic,
                events.c.state,
                log.c.recorded_at,
            )
            .join(events, events.c.id == log.c.notification_id)
            .order_by(log.c.position)
        ).all()
        previous = GENESIS
        for r in rows:
            envelope = envelope_for(r.position, r, r.recorded_at)
            leaf = leaf_hash(envelope)
            previous = chain_hash(previous, leaf)
            conn.execute(
                text("UPDATE policy_log SET leaf_hash = :l, chain_hash = :c WHERE position = :p"),
                {"l": leaf, "c": previous, "p": r.position},
            )
        conn.execute(text("DELETE FROM policy_checkpoints"))
        conn.execute(text("DELETE FROM policy_merkle"))  # and the stored subtree hashes
        nodes.backfill(conn)
    store.projector.rebuild()
    assert verify_store(store).ok  # the chain alone cannot tell
    code, output = verify_cli(db_url, "--checkpoint", str(note), "--vkey", kept.verifier_key)
    assert code == 1
    assert (
        f"checkpoint: FAILED the log does not extend the checkpoint of size {kept.tree_size}"
        in (output)
    )
