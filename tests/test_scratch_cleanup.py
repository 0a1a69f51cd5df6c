"""A stop during a replay leaves no scratch store behind; a later start removes those that
processes killed outright left, never a live process's. Real processes, both backends."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from sqlalchemy import text, update

from api.cli.main import BUNDLED
from api.importing.commands import import_file
from bench.generator import lines
from projections.readmodels import tables
from projections.readmodels.scratch import PREFIX
from projections.readmodels.timelines import TimelineProjection
from projections.service import Store
from tests.conftest import _reset_pg, migrated
from tests.test_rebuild import stored_versions

WAIT = 120  # generous: the machine is shared; only arrival is asserted, never a duration


GENERATED = 4000
"""Generated operations added to the bundled ones, so that a replay lasts long enough (about
5,600 events) for the stop to land inside it even when this process waits for a core."""


def stale_store(url: str, tmp_path: Path) -> Store:
    """A store holding what `serve --seed` loads and generated operations, whose timelines
    were built by an older version of their code: the next start rebuilds them."""
    store = migrated(url)
    generated = tmp_path / "generated.jsonl"
    generated.write_text("\n".join(lines(GENERATED)) + "\n", encoding="utf-8")
    for path in (*BUNDLED, generated):
        assert import_file(store, path).errors == []
    v = tables.projection_versions
    with store.engine.begin() as conn:
        conn.execute(update(v).where(v.c.projection == "timelines").values(version=0))
    return store


def env_with_tmpdir(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLICY_TIMELINE_")}
    env["TMPDIR"] = str(tmp)
    return env


def stop_once_scratch_appears(process: subprocess.Popen[str], tmp: Path) -> tuple[str, str]:
    """SIGTERM `process` as soon as anything appears in its temporary folder (its replay has
    begun); its output once it has ended."""
    deadline = time.monotonic() + WAIT
    while not os.listdir(tmp):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "no scratch directory appeared"
        time.sleep(0.002)
    process.send_signal(signal.SIGTERM)
    return process.communicate(timeout=WAIT)


def test_sigterm_during_serves_rebuild_leaves_no_scratch_and_the_read_models_as_they_were(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = stale_store(db_url, tmp_path)
    before = store.projector.digests()
    head = store.head()
    store.close()
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    command = [sys.executable, "-m", "api.cli", "serve", "--db", db_url, "--port", "0"]
    with subprocess.Popen(
        command, env=env_with_tmpdir(tmp), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as server:
        out, err = stop_once_scratch_appears(server, tmp)
    assert server.returncode == 128 + signal.SIGTERM, err
    assert "stopped by SIGTERM during start-up" in err
    assert "Traceback" not in err
    assert "GraphQL:" not in out  # it never served
    assert os.listdir(tmp) == []
    after = Store(db_url)
    assert after.head() == head
    assert after.projector.digests() == before  # the live read models untouched
    assert stored_versions(after)["timelines"] == 0  # still stale: the next start rebuilds
    after.close()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    restarted = migrated(db_url)  # what the next start does first
    assert stored_versions(restarted)["timelines"] == TimelineProjection.version
    assert restarted.head() == head
    restarted.close()
    assert os.listdir(tmp) == []


def test_sigterm_during_verifys_replay_leaves_no_scratch(db_url: str, tmp_path: Path) -> None:
    store = stale_store(db_url, tmp_path)
    store.rebuild_if_stale()
    head = store.head()
    store.close()
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    command = [sys.executable, "-m", "api.cli", "verify", "--db", db_url]
    with subprocess.Popen(
        command, env=env_with_tmpdir(tmp), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as verifying:
        _, err = stop_once_scratch_appears(verifying, tmp)
    assert verifying.returncode == 128 + signal.SIGTERM, err
    assert "stopped by SIGTERM during verify" in err
    assert "Traceback" not in err
    assert os.listdir(tmp) == []
    after = Store(db_url)
    assert after.head() == head
    after.close()


HOLD = """
import os, signal, sys
from projections.readmodels.scratch import scratch_directory
with scratch_directory() as folder:
    (folder / "rebuild.sqlite3").write_bytes(b"x" * 4096)
    print(folder, flush=True)
    if sys.argv[1] == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    sys.stdin.readline()
"""


def holding(how: str, tmp: Path) -> tuple[subprocess.Popen[str], Path]:
    """A process inside a scratch directory: killed there outright, or waiting for a line."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD, how],
        env=env_with_tmpdir(tmp),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    return process, Path(process.stdout.readline().strip())


def test_a_start_removes_scratch_whose_process_was_killed_and_keeps_a_live_ones(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    live, kept = holding("wait", tmp)
    try:
        killed, left = holding("kill", tmp)  # its own start swept, leaving the live one
        killed.communicate(timeout=WAIT)
        assert killed.returncode == -signal.SIGKILL
        assert left.name.startswith(PREFIX) and kept.name.startswith(PREFIX)
        assert left.is_dir() and kept.is_dir()  # SIGKILL runs no cleanup
        unrelated = tmp / "someone-elses"
        unrelated.mkdir()
        monkeypatch.setattr(tempfile, "tempdir", str(tmp))
        migrated(db_url).close()  # a start: nothing is stale, the sweep runs all the same
        assert not left.exists()
        assert (kept / "rebuild.sqlite3").is_file()  # its process is alive: untouched
        assert unrelated.is_dir()
    finally:
        live.communicate("\n", timeout=WAIT)
    assert live.returncode == 0
    assert not kept.exists()  # its owner removed it on the way out


def test_sigterm_while_the_swap_waits_rolls_it_back_on_postgresql(
    pg_url: str, tmp_path: Path
) -> None:
    """The swap into the live tables waits for a lock held here: the stop lands inside it."""
    _reset_pg(pg_url)
    store = stale_store(pg_url, tmp_path)
    before = store.projector.digests()
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    command = [sys.executable, "-m", "api.cli", "serve", "--db", pg_url, "--port", "0"]
    with store.engine.connect() as holder:
        holder.execute(text(f"LOCK TABLE {tables.tracking.name} IN SHARE MODE"))
        with subprocess.Popen(
            command,
            env=env_with_tmpdir(tmp),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        ) as server:
            deadline = time.monotonic() + WAIT
            while not swap_waits_for_the_lock(store):
                assert server.poll() is None, server.communicate()
                assert time.monotonic() < deadline, "the swap never waited for the lock"
                time.sleep(0.01)
            assert [p.name[: len(PREFIX)] for p in tmp.iterdir()] == [PREFIX]  # mid-rebuild
            server.send_signal(signal.SIGTERM)
            _, err = server.communicate(timeout=WAIT)
        holder.rollback()
    assert server.returncode == 128 + signal.SIGTERM, err
    assert "stopped by SIGTERM during start-up" in err
    assert "Traceback" not in err
    assert os.listdir(tmp) == []
    assert store.projector.digests() == before
    assert stored_versions(store)["timelines"] == 0
    store.close()


def swap_waits_for_the_lock(store: Store) -> bool:
    """Whether a session on this test's database waits to lock a table."""
    with store.engine.connect() as conn:
        waiting = conn.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND datname = current_database() AND query ILIKE 'LOCK TABLE%'"
            )
        ).scalar_one()
    return bool(waiting)
