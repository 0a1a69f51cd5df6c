"""A replay on two cores: the first projection in this process, the later ones in a second.

The later projections read the first one's rows as of each event's position (a timeline
entry or a decision version is found by `valid_from <= p < valid_to`), so they may run
behind it, never ahead: this process tells the second, after every batch it commits, the
position the first projection has reached, and the second applies the later projections up
to there. Each process reads and decodes the log itself.

On PostgreSQL both write into the same database at once. SQLite has one writer per file:
the second process writes the later projections' tables into a file of its own, with the
store attached for reading (SQLite resolves a table name in the process's own file first,
then in the attached store), and when both are done this process copies those rows into the
store in one transaction (`INSERT … SELECT`, inside SQLite).

The second process gets its settings on its standard input (never on its command line) and
then one line per committed batch; it ends with an error when its input ends before the last
line (this process died). This process stops it when anything fails, and a failure of the
second process raises `ReplayWorkerFailed` with its exit status and the end of its standard
error. Its files live in a scratch directory (`projections.readmodels.scratch`)."""

from __future__ import annotations

import base64
import json
import os
import pickle
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Engine, create_engine, event

from projections.eventlog import durability
from projections.eventlog.existence import StoreApplication
from projections.eventlog.recorder import ChainedRecorder
from projections.readmodels import tables
from projections.readmodels.projector import REBUILD_BATCH, Projection, Projector, analyze
from projections.readmodels.scratch import HELD, scratch_directory

MODULE = "projections.readmodels.parallel"
SIDE_FILE = "follower.sqlite3"
ERRORS_FILE = "follower.stderr"
ROLE = "the replay's second process (projections after the first)"
"""What an error names the second process as, unless `following` is told otherwise."""
STDERR_TAIL = 4000
"""Characters of the second process's standard error quoted in `ReplayWorkerFailed`."""


def rebuild(
    projector: Projector, until: int | None = None, jobs: int = 2, batch: int = REBUILD_BATCH
) -> int:
    """`Projector.rebuild` on `jobs` processes (1, or 2: see `replay`)."""
    projector.clear()
    applied = replay(projector, until, jobs, batch)
    analyze(projector.engine)
    return applied


def replay(
    projector: Projector, until: int | None = None, jobs: int = 1, batch: int = REBUILD_BATCH
) -> int:
    """Apply the log (up to `until`) to projections standing at position 0, `batch` events
    per transaction, on `jobs` processes: 1, or 2 when there are two or more projections
    (`replay_in_two`). Returns how many events were applied."""
    if jobs > 1 and len(projector.projections) > 1:
        return replay_in_two(projector, until, batch)
    with projector.replaying() as replayer:
        return replayer.catch_up(batch, until=until)


class ReplayWorkerFailed(RuntimeError):
    """The second process of a replay ended without finishing: its status and its stderr."""


def replay_in_two(projector: Projector, until: int | None, batch: int = REBUILD_BATCH) -> int:
    """Apply the log up to `until` to `projector`'s projections, which stand at position 0:
    the first here, the others in a second process, `batch` events per transaction in each.
    Returns the events applied."""
    first, later = projector.projections[0], projector.projections[1:]
    sqlite = projector.engine.dialect.name == "sqlite"
    if sqlite and projector.engine.url.database in (None, "", ":memory:"):
        return projector.catch_up(batch, until=until)  # no file a process can share
    with scratch_directory() as folder, projector.replaying([first]) as leader:
        side = folder / SIDE_FILE if sqlite else None
        with following(projector.engine, later, folder, batch, side) as follower:

            def committed(position: int) -> None:
                follower.at(position)

            applied = leader.catch_up(batch, until=until, committed=committed)
            follower.done(leader.position(first.name))
        if side is not None:
            _merge(projector.engine, side, later)
    return applied


class Follower:
    """The second process of `following`: told positions, it applies its projections."""

    def __init__(self, worker: subprocess.Popen[str], errors: IO[bytes], role: str) -> None:
        self.worker = worker
        self.errors = errors
        self.role = role

    def at(self, position: int) -> None:
        """Let it apply the log up to `position` (a position every earlier one has reached)."""
        _tell(self.worker, self.errors, f"at {position}", self.role)

    def done(self, position: int) -> None:
        """Let it apply the log up to `position`, then wait until it has and ended."""
        _tell(self.worker, self.errors, f"done {position}", self.role)
        assert self.worker.stdin is not None
        self.worker.stdin.close()
        if self.worker.wait() != 0:
            raise _failed(self.worker, self.errors, self.role)


@contextmanager
def following(
    engine: Engine,
    projections: list[Projection],
    folder: Path,
    batch: int,
    side: Path | None = None,
    role: str = ROLE,
) -> Iterator[Follower]:
    """A second process applying `projections` to `engine`'s store, `batch` events per
    transaction, up to the positions it is told (into `side` on SQLite, a file of its own).

    Its standard error goes to `folder` (a scratch directory). When the block fails or is
    stopped, the second process is killed (its open transaction is rolled back). Its failure
    raises `ReplayWorkerFailed`, naming it as `role`."""
    with (folder / ERRORS_FILE).open("w+b") as errors:
        # It unpickles the projections: it imports them from where this process does.
        path = os.pathsep.join(os.path.abspath(p) if p else os.getcwd() for p in sys.path)
        # A stop raising inside `Popen` (after the second process has started, before
        # `worker` is known) would leave that process behind: a stop is held back until
        # the block that ends it on failure is entered.
        held = signal.pthread_sigmask(signal.SIG_BLOCK, HELD)
        try:
            worker = subprocess.Popen(
                [sys.executable, "-m", MODULE],
                env={**os.environ, "PYTHONPATH": path},
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=errors,
                text=True,
            )
        except BaseException:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)
            raise
        try:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)
            settings = {
                "url": engine.url.render_as_string(hide_password=False),
                "side": str(side) if side else None,
                "projections": base64.b64encode(pickle.dumps(projections)).decode(),
                "batch": batch,
            }
            _tell(worker, errors, json.dumps(settings), role)
            yield Follower(worker, errors, role)
        finally:
            if worker.poll() is None:  # this process failed or was stopped: so does it
                worker.kill()
                worker.wait()


def _tell(worker: subprocess.Popen[str], errors: IO[bytes], line: str, role: str = ROLE) -> None:
    """Send one line to the second process; its failure if it has ended."""
    if worker.poll() is not None:
        raise _failed(worker, errors, role)
    assert worker.stdin is not None
    try:
        worker.stdin.write(line + "\n")
        worker.stdin.flush()
    except BrokenPipeError:
        worker.wait()
        raise _failed(worker, errors, role) from None


def _failed(
    worker: subprocess.Popen[str], errors: IO[bytes], role: str = ROLE
) -> ReplayWorkerFailed:
    errors.flush()
    errors.seek(0)
    text = errors.read().decode(errors="replace")[-STDERR_TAIL:].strip()
    return ReplayWorkerFailed(
        f"{role} ended with exit status {worker.returncode}"
        + (f":\n{text}" if text else " and wrote nothing to stderr")
    )


def _merge(engine: Engine, side: Path, later: list[Projection]) -> None:
    """Copy the later projections' rows and tracking rows from `side` into the store."""
    with engine.connect() as conn:
        conn.exec_driver_sql("ATTACH DATABASE ? AS follower", (str(side),))
        conn.commit()
        try:
            with conn.begin():
                for table in [t for p in later for t in p.writes]:
                    columns = ", ".join(f'"{c.name}"' for c in table.columns)
                    conn.exec_driver_sql(
                        f'INSERT INTO main."{table.name}" ({columns}) '
                        f'SELECT {columns} FROM follower."{table.name}"'
                    )
                names = ", ".join(f"'{p.name}'" for p in later)
                t = tables.tracking.name
                conn.exec_driver_sql(f'DELETE FROM main."{t}" WHERE projection IN ({names})')
                conn.exec_driver_sql(
                    f'INSERT INTO main."{t}" (projection, position) '
                    f'SELECT projection, position FROM follower."{t}"'
                )
        finally:
            conn.exec_driver_sql("DETACH DATABASE follower")
            conn.commit()


def _side_engine(side: str, store: str) -> Engine:
    """The second process's SQLite file for its tables, with the store attached to read."""
    engine = create_engine(f"sqlite:///{side}")

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        durability.tune_sqlite_connection(dbapi_connection)
        cursor = dbapi_connection.cursor()
        # A scratch file: copied into the store once complete, deleted if anything fails.
        cursor.execute("PRAGMA synchronous = OFF")
        cursor.execute("ATTACH DATABASE ? AS store", (store,))
        cursor.close()

    return engine


def follow(source: IO[str]) -> int:
    """The second process: apply the projections it is given up to the positions it is told.

    Exit status 0 once the last position is applied; 3 when the input ends before it."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, HELD)  # held back by the first while it started
    settings = json.loads(source.readline())
    projections: list[Projection] = pickle.loads(base64.b64decode(settings["projections"]))
    app = StoreApplication(
        env={
            "PERSISTENCE_MODULE": "projections.eventlog.recorder:Factory",
            "SQLALCHEMY_URL": settings["url"],
            "CREATE_TABLE": "false",
        }
    )
    recorder = app.recorder
    assert isinstance(recorder, ChainedRecorder)
    engine = recorder.datastore.engine
    assert isinstance(engine, Engine)
    if settings["side"]:
        engine = _side_engine(settings["side"], str(engine.url.database))
        for table in [tables.tracking, *(t for p in projections for t in p.writes)]:
            table.create(engine)
    projector = Projector(app, projections, engine)
    try:
        ceiling, last = 0, False
        while True:
            projector.catch_up(settings["batch"], until=ceiling)
            if last:
                return 0
            line = source.readline()
            if not line:
                print("the replay's first process ended before the last position", file=sys.stderr)
                return 3
            kind, position = line.split()
            ceiling, last = int(position), kind == "done"
    finally:
        app.close()
        engine.dispose()


if __name__ == "__main__":
    sys.exit(follow(sys.stdin))
