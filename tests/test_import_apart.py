"""An import projected by a second process (PostgreSQL): the rows a rebuild writes, a clear
error when that process fails, and a stop or a kill leaves a store that catches up to a
rebuild's rows, with no process or scratch file behind. SQLite has one writer per file: its
import projects in its own process, which the same tests check. Both backends, real processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from api.importing.commands import import_file, import_lines
from bench.generator import lines
from projections.eventlog.ledger import log
from projections.readmodels import tables
from projections.readmodels.history import HistoryProjection
from projections.readmodels.parallel import ReplayWorkerFailed
from projections.readmodels.timelines import TimelineProjection
from projections.service import Store
from tests.conftest import ROOT, _reset_pg, migrated
from tests.reliability.support import assert_log_has_no_gaps
from tests.test_parallel_rebuild import BrokenMembership, followers
from tests.test_scratch_cleanup import WAIT, env_with_tmpdir


def postgresql(store: Store) -> bool:
    return store.dialect == "postgresql"


def count(store: Store, table: object) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def equal_to_a_rebuild(store: Store) -> None:
    """Every saved event projected, into exactly the rows a rebuild writes."""
    assert store.projector.position() == store.head()
    incremental = store.projector.digests()
    store.projector.rebuild()
    assert store.projector.digests() == incremental


def test_an_import_projected_apart_writes_the_rows_of_a_rebuild(store: Store) -> None:
    seen: list[list[int]] = []
    generation = store.projector.generation
    report = import_lines(
        store,
        lines(600, seed=3, treaty_share=0.5),
        batch_lines=37,  # many batches, ending mid-way through corrections and treaty actions
        project_apart=1,
        on_batch=lambda done, total: seen.append(followers(parent=os.getpid())),
    )
    assert report.errors == [] and report.imported == 600
    if postgresql(store):
        assert all(seen), "a second process projected during the whole import"
    else:
        assert not any(seen), "SQLite projects in the importing process"
    assert followers(parent=os.getpid()) == []
    # What this process held of the read models (cached pages) is known to be out of date.
    assert store.projector.generation > generation
    assert count(store, tables.membership) > 0 and count(store, tables.compliance_flags) > 0
    equal_to_a_rebuild(store)
    again = import_lines(store, lines(600, seed=3, treaty_share=0.5), project_apart=1)
    assert (again.imported, again.unchanged) == (0, 600)


def test_an_import_below_the_threshold_projects_in_its_own_process(store: Store) -> None:
    seen: list[list[int]] = []
    import_lines(
        store,
        lines(200, seed=5),
        batch_lines=50,
        project_apart=201,
        on_batch=lambda done, total: seen.append(followers(parent=os.getpid())),
    )
    assert not any(seen)
    assert store.projector.position() == store.head()


@pytest.fixture
def pg_store(pg_url: str) -> Iterator[Store]:
    """A store on PostgreSQL only: SQLite projects in the importing process (one writer per
    file), so it has no second process to fail or to outlive the import."""
    _reset_pg(pg_url)
    s = migrated(pg_url)
    yield s
    s.close()
    s.engine.dispose()


def test_a_failing_projecting_process_fails_the_import_and_keeps_what_was_saved(
    pg_store: Store,
) -> None:
    store = pg_store
    broken = Store(
        store.url, projections=[TimelineProjection(), BrokenMembership(), HistoryProjection()]
    )
    try:
        with pytest.raises(ReplayWorkerFailed) as raised:
            import_lines(broken, lines(300, seed=6, treaty_share=0.5), project_apart=1)
    finally:
        broken.close()
    message = str(raised.value)
    assert "the import's projecting process ended with exit status 1" in message
    assert "ValueError: membership cannot apply position" in message
    assert followers(parent=os.getpid()) == []
    saved = store.head()
    assert saved > 0 and store.projector.position() < saved  # nothing half-projected shows
    store.projector.catch_up()  # as the next import, `serve` or a worker does
    equal_to_a_rebuild(store)
    assert_log_has_no_gaps(store)


def start_import(db_url: str, path: Path, tmp: Path) -> subprocess.Popen[str]:
    """`policy-timeline import PATH` with TMPDIR=`tmp`, projecting apart from the first line."""
    env = {**env_with_tmpdir(tmp), "POLICY_TIMELINE_IMPORT_PROJECT_APART": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "api.cli", "import", str(path), "--db", db_url],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_until_storing(process: subprocess.Popen[str], store: Store, tmp: Path) -> None:
    """Until the import has committed a batch (and, on PostgreSQL, its second process runs)."""
    deadline = time.monotonic() + WAIT
    while count(store, log) == 0 or (postgresql(store) and not followers(tmp)):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the import stored nothing"
        time.sleep(0.005)


GENERATED = 3000
"""Lines of the file a stop or a kill lands in: several batches, so that it lands mid-import."""


@pytest.fixture
def big_file(tmp_path: Path) -> Path:
    path = tmp_path / "operations.jsonl"
    path.write_text("".join(f"{line}\n" for line in lines(GENERATED, seed=8)), encoding="utf-8")
    return path


@pytest.mark.slow
@pytest.mark.reliability
def test_sigterm_during_an_import_stops_both_processes_and_leaves_a_consistent_store(
    db_url: str, tmp_path: Path, big_file: Path
) -> None:
    store = migrated(db_url)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    with start_import(db_url, big_file, tmp) as importing:
        wait_until_storing(importing, store, tmp)
        importing.send_signal(signal.SIGTERM)
        _, err = importing.communicate(timeout=WAIT)
    assert importing.returncode == 128 + signal.SIGTERM, err
    assert "stopped by SIGTERM during the import" in err
    assert "Traceback" not in err
    assert followers(tmp) == []
    assert os.listdir(tmp) == []
    assert 0 < store.head() < GENERATED, "stopped mid-import"
    store.projector.catch_up()
    equal_to_a_rebuild(store)
    assert_log_has_no_gaps(store)
    assert store.integrity().ok
    report = import_file(store, big_file)  # the rest of the file, once more
    assert (report.imported + report.unchanged, report.errors) == (GENERATED, [])
    equal_to_a_rebuild(store)
    store.close()


@pytest.mark.slow
@pytest.mark.reliability
def test_the_projecting_process_ends_when_the_import_is_killed_outright(
    pg_store: Store, tmp_path: Path, big_file: Path
) -> None:
    store = pg_store
    db_url = store.url
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    with start_import(db_url, big_file, tmp) as importing:
        wait_until_storing(importing, store, tmp)
        importing.send_signal(signal.SIGKILL)
        importing.communicate(timeout=WAIT)
    deadline = time.monotonic() + WAIT
    while followers(tmp):  # its input ended: it applies what it was told, then stops
        assert time.monotonic() < deadline, "the projecting process outlived the import"
        time.sleep(0.05)
    assert 0 < store.head() < GENERATED, "killed mid-import"
    store.projector.catch_up()
    equal_to_a_rebuild(store)
    assert_log_has_no_gaps(store)
    assert store.integrity().ok
