"""PostgreSQL: a write holds a lower log position while another waits; nothing is skipped."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from sqlalchemy import text

from domain.commands import parse_input
from projections.service import Store
from tests.conftest import migrated
from tests.graphql_support import DECISION, TREATY
from tests.reliability.support import assert_log_has_no_gaps, log_rows, reset_postgres

pytestmark = pytest.mark.reliability


def _waiting_on_a_lock(store: Store) -> bool:
    with store.engine.connect() as conn:
        waiting = conn.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        ).scalar_one()
    return int(waiting) > 0


def test_a_slow_lower_position_is_never_skipped_by_the_projection(pg_url: str) -> None:
    reset_postgres(pg_url)
    store = migrated(pg_url)
    store.execute("recordTreaty", TREATY)
    inserted, release, done = threading.Event(), threading.Event(), threading.Event()
    held: dict[str, Any] = {}

    def slow_writer() -> None:
        """Insert through the recorder, then keep the transaction open until released."""
        work = store.unit_of_work()
        applied = work.apply(
            "recordDecision", parse_input("recordDecision", {**DECISION, "id": "slow"})
        )
        stored = [store.app.mapper.to_stored_event(e) for e in applied.events]
        with store.recorder.transaction(commit=True) as session:
            held["positions"] = store.recorder._insert_stored_events(session, stored)
            inserted.set()
            release.wait(30)

    def fast_writer() -> None:
        held["fast"] = store.execute("recordDecision", {**DECISION, "id": "fast"})[1]
        done.set()

    slow = threading.Thread(target=slow_writer, daemon=True)
    slow.start()
    assert inserted.wait(30)
    fast = threading.Thread(target=fast_writer, daemon=True)
    fast.start()
    deadline = time.monotonic() + 30  # a bound against hanging, not a measured expectation
    while not _waiting_on_a_lock(store) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _waiting_on_a_lock(store), "the second writer should wait for the first"
    assert not done.is_set()

    store.projector.catch_up()  # runs while the lower position is still in flight
    assert store.projector.position() == store.head() == 1
    release.set()
    slow.join(30)
    fast.join(30)
    assert done.is_set()

    store.projector.catch_up()
    (slow_position,) = held["positions"]
    assert (slow_position, held["fast"]) == (2, 3)  # positions commit in the order given
    assert [p for p, _, _ in log_rows(store)] == [1, 2, 3]
    assert store.projector.position() == 3
    assert store.read.decision("slow") is not None and store.read.decision("fast") is not None
    applied = store.projector.digests()
    store.projector.rebuild()
    assert store.projector.digests() == applied
    assert_log_has_no_gaps(store)
    store.close()
