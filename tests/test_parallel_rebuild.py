"""A rebuild on two processes: the same rows as on one, a clear error when the second process
fails, and no process or scratch store left behind by a stop. Both backends, real processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from api.importing.commands import import_lines
from bench.generator import lines
from projections.readmodels.history import HistoryProjection
from projections.readmodels.membership import MembershipProjection
from projections.readmodels.parallel import ERRORS_FILE, MODULE, ReplayWorkerFailed, rebuild
from projections.readmodels.projector import Applied
from projections.readmodels.timelines import TimelineProjection
from projections.service import Store
from tests.conftest import cli, migrated
from tests.test_scratch_cleanup import WAIT, env_with_tmpdir, stale_store

BATCH = 150
"""Events per transaction in these tests: many batches, so the second process runs behind
the first across batch boundaries as it does in a rebuild of a large store."""


@pytest.fixture
def busy(store: Store) -> Store:
    """A store of 2,000 generated operations, a third of the decisions treaty actions (many
    membership changes and compliance flags), with corrections and retractions."""
    import_lines(store, list(lines(2000, seed=7, treaty_share=0.3)))
    return store


def test_two_processes_write_byte_identical_rows_to_one_process(busy: Store) -> None:
    incremental = busy.projector.digests()
    head = busy.head()
    assert rebuild(busy.projector, jobs=1, batch=BATCH) == head
    sequential = busy.projector.digests()
    assert rebuild(busy.projector, jobs=2, batch=BATCH) == head
    assert busy.projector.digests() == sequential == incremental
    assert busy.projector.positions() == {"timelines": head, "membership": head, "history": head}


def test_two_processes_up_to_a_position_equal_one_process_up_to_it(busy: Store) -> None:
    until = busy.head() - 777
    rebuild(busy.projector, until, jobs=1, batch=BATCH)
    sequential = busy.projector.digests()
    rebuild(busy.projector, until, jobs=2, batch=BATCH)
    assert busy.projector.digests() == sequential
    assert busy.projector.positions() == {
        "timelines": until,
        "membership": until,
        "history": until,
    }
    busy.projector.catch_up()  # and it goes on from there
    assert busy.projector.position() == busy.head()


def test_replay_jobs_2_swaps_in_the_digests_of_the_incremental_projections(busy: Store) -> None:
    incremental = busy.projector.digests()
    ran = cli("replay", "--jobs", "2", "--db", busy.url)
    assert ran.returncode == 0, ran.stderr
    printed = dict(entry.split(": ") for entry in ran.stdout.splitlines()[1:])
    assert printed == incremental == busy.projector.digests()


class BrokenMembership(MembershipProjection):
    """Fails on the first decision it applies: in the second process of a parallel replay."""

    def decision_changed(self, conn: object, item: Applied) -> None:
        raise ValueError(f"membership cannot apply position {item.position}")


def test_a_failing_second_process_is_an_error_naming_its_status_and_stderr(
    busy: Store,
) -> None:
    broken = Store(
        busy.url, projections=[TimelineProjection(), BrokenMembership(), HistoryProjection()]
    )
    try:
        with pytest.raises(ReplayWorkerFailed) as raised:
            rebuild(broken.projector, jobs=2, batch=BATCH)
    finally:
        broken.close()
    message = str(raised.value)
    assert "ended with exit status 1" in message
    assert "ValueError: membership cannot apply position" in message
    assert followers(parent=os.getpid()) == []


def test_replay_jobs_2_stopped_by_sigterm_leaves_no_process_no_scratch_and_the_models(
    db_url: str, tmp_path: Path
) -> None:
    store = stale_store(db_url, tmp_path)
    before = store.projector.digests()
    store.close()
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    command = [sys.executable, "-m", "api.cli", "replay", "--jobs", "2", "--db", db_url]
    with subprocess.Popen(
        command, env=env_with_tmpdir(tmp), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as replaying:
        wait_for_second_process(replaying, tmp)
        replaying.send_signal(signal.SIGTERM)
        _, err = replaying.communicate(timeout=WAIT)
    assert replaying.returncode == 128 + signal.SIGTERM, err
    assert "stopped by SIGTERM during the replay" in err
    assert "Traceback" not in err
    assert os.listdir(tmp) == []
    assert followers(tmp) == []
    after = migrated(db_url)
    assert after.projector.digests() == before
    after.close()


def test_the_second_process_ends_when_the_first_is_killed_outright(
    db_url: str, tmp_path: Path
) -> None:
    stale_store(db_url, tmp_path).close()
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    command = [sys.executable, "-m", "api.cli", "replay", "--jobs", "2", "--db", db_url]
    with subprocess.Popen(
        command, env=env_with_tmpdir(tmp), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as replaying:
        wait_for_second_process(replaying, tmp)
        assert followers(tmp) != []
        replaying.send_signal(signal.SIGKILL)
        replaying.communicate(timeout=WAIT)
    deadline = time.monotonic() + WAIT
    while followers(tmp):  # its input ended: it stops (no orphan keeps working)
        assert time.monotonic() < deadline, "the second process outlived the first"
        time.sleep(0.05)


def wait_for_second_process(process: subprocess.Popen[str], tmp: Path) -> None:
    """Until the replay's second process has been started (its stderr file exists)."""
    deadline = time.monotonic() + WAIT
    while not list(tmp.glob(f"*/{ERRORS_FILE}")):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "no second process started"
        time.sleep(0.002)
    while not followers(tmp):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "no second process started"
        time.sleep(0.002)


def followers(tmp: Path | None = None, parent: int | None = None) -> list[int]:
    """Live second processes of a replay: started with TMPDIR=`tmp`, or by `parent`."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            command = Path(entry.path, "cmdline").read_bytes().split(b"\0")
            environment = Path(entry.path, "environ").read_bytes().split(b"\0")
            state, ppid = Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()[:2]
        except OSError:
            continue
        if MODULE.encode() not in command or state == "Z":
            continue
        if f"TMPDIR={tmp}".encode() in environment or int(ppid) == parent:
            found.append(int(entry.name))
    return found
