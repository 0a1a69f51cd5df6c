"""kill -9 while importing and projecting: after each restart the projections equal a rebuild."""

from __future__ import annotations

import json
import os
import random
import signal
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, exc, func, select

from projections.eventlog.ledger import log
from tests.conftest import SOURCE, migrated
from tests.reliability.support import assert_log_has_no_gaps, cli, cli_process

pytestmark = [pytest.mark.reliability, pytest.mark.slow]

# Sized for a 2-core machine: events, kills, and how long after storing starts a kill may fall.
# The first kill falls as soon as storing starts, so that one kill lands mid-import however fast
# the machine is (on an idle one, the smaller files were all stored before a later kill fell).
PLAN = {"sqlite": (1500, 5, 0.3), "postgresql": (600, 2, 0.3)}
COUNTRIES = ["UKR", "USA", "FRA", "DEU", "POL", "FIN", "EST", "LTU", "LVA", "ROU"]


def _operations(count: int) -> list[dict[str, object]]:
    lines = [
        {
            "op": "recordTreaty",
            "input": {"id": "ccm", "name": "Cluster Munitions Convention", "sources": SOURCE},
        }
    ]
    for i in range(count - 1):
        action = "RATIFY" if i % 50 == 0 else "ADOPT_POLICY"
        decision = {
            "id": f"crash-{i}",
            "actor": COUNTRIES[i % len(COUNTRIES)],
            "action": action,
            "decidedOn": f"{1990 + i % 30}-{1 + i % 12:02d}-{1 + i % 28:02d}",
            "headline": f"decision {i}",
            "sources": SOURCE,
        }
        if action == "RATIFY":
            decision["treaty"] = "ccm"
        else:
            decision["weapons"] = [{"category": "cluster-munition"}]
        lines.append({"op": "recordDecision", "input": decision})
    return lines


def _write(path: Path, lines: list[dict[str, object]]) -> Path:
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    return path


def _head(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(log)).scalar_one())
    except exc.DBAPIError:  # the importer has not created the tables yet
        return 0
    finally:
        engine.dispose()


def _kill_while_storing(url: str, path: Path, rng: random.Random, window: float) -> bool:
    """Start an import, wait until it stores, kill -9 it a random moment (up to `window`
    seconds) later."""
    before = _head(url)
    process = cli_process("import", str(path), db=url)
    while process.poll() is None and _head(url) == before:
        time.sleep(0.005)
    time.sleep(rng.uniform(0, window))
    landed = process.poll() is None
    if landed:
        os.kill(process.pid, signal.SIGKILL)
    process.communicate(timeout=60)
    return landed


def _check_after_restart(url: str) -> tuple[int, int]:
    """Resume projecting as a restarted process would; compare with a fresh rebuild."""
    store = migrated(url)
    try:
        interrupted_at = store.projector.position()
        store.projector.catch_up()
        head = store.head()
        assert store.projector.position() == head
        resumed = store.projector.digests()
        store.projector.rebuild()
        assert store.projector.digests() == resumed  # nothing lost, nothing applied twice
        assert store.projector.position() == head
        assert_log_has_no_gaps(store)
        assert store.integrity().ok
        return interrupted_at, head
    finally:
        store.close()


def test_kill_9_while_importing_leaves_projections_equal_to_a_fresh_rebuild(
    db_url: str, tmp_path: Path
) -> None:
    backend = "sqlite" if db_url.startswith("sqlite") else "postgresql"
    events, kills, window = PLAN[backend]
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    operations = _operations(events)
    landed, states = 0, []
    for round_ in range(kills):
        # Each round's file adds new events to the last one's, so every kill meets new work.
        upto = len(operations) * (round_ + 1) // (kills + 1)
        path = _write(tmp_path / f"operations-{round_}.jsonl", operations[:upto])
        landed += _kill_while_storing(db_url, path, rng, window if round_ else 0.0)
        states.append(_check_after_restart(db_url))
    path = _write(tmp_path / "operations.jsonl", operations)
    done = cli("import", str(path), db=db_url)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().splitlines()[-1].endswith("rejected 0")
    assert _check_after_restart(db_url)[1] == events, f"seed {seed}"
    mid_projection = sum(projected < head for projected, head in states)
    assert landed >= 1, f"no kill landed mid-import (seed {seed}, states {states})"
    print(
        f"{backend}: {events} events, {landed} of {kills} kills landed, {mid_projection} "
        f"mid-projection; (projected, head) after each: {states}"
    )
