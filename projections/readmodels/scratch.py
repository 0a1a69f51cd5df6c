"""Scratch directories for replays (rebuild, verify), and removing the ones left behind.

A replay writes a whole SQLite copy of the log and its projections into a directory of the
system's temporary folder (`TMPDIR`). The directory is named `policy-timeline-scratch-<pid>-…`
and holds `owner.lock`, which its process keeps locked (`flock`) while the directory lives.
The operating system drops that lock when the process ends in any way, so a directory whose
lock can be taken has no owner left: it was left by a process killed outright (SIGKILL, power
loss) and `sweep` removes it. A directory whose lock is held belongs to a live process and is
never touched."""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path

PREFIX = "policy-timeline-scratch-"
LOCK = "owner.lock"
HELD = {signal.SIGTERM, signal.SIGINT}
"""Held back while a directory is created or removed: a handler that raises (the command line
installs one around long steps) then runs where the directory's cleanup covers it."""


@contextlib.contextmanager
def scratch_directory() -> Iterator[Path]:
    """A new scratch directory, locked by this process until the block ends, then removed.

    Ones left behind by processes that are gone are removed first."""
    sweep(temporary_folder())
    held = signal.pthread_sigmask(signal.SIG_BLOCK, HELD)
    try:
        # Created under a name `sweep` ignores, renamed once its lock is held: no window in
        # which a live directory looks abandoned.
        staging = Path(tempfile.mkdtemp(prefix=f".{PREFIX}{os.getpid()}-"))
        try:
            lock = os.open(staging / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(lock, fcntl.LOCK_EX)
            os.write(lock, f"{os.getpid()}\n".encode())
            folder = staging.with_name(staging.name[1:])
            staging.rename(folder)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        try:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)  # a stop from here is cleaned up
            yield folder
        finally:
            signal.pthread_sigmask(signal.SIG_BLOCK, HELD)
            shutil.rmtree(folder, ignore_errors=True)  # the lock is held until it is gone
            os.close(lock)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


def temporary_folder() -> Path:
    """The system's temporary folder, found with a stop held back.

    The first call in a process probes the folder by creating and removing a file there; a
    stop that raised between the two (the command line's handler does) would leave that file
    behind."""
    held = signal.pthread_sigmask(signal.SIG_BLOCK, HELD)
    try:
        return Path(tempfile.gettempdir())
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


def sweep(parent: Path | None = None) -> list[Path]:
    """Remove the scratch directories in `parent` (the temporary folder) whose owner is gone."""
    root = parent or temporary_folder()
    removed: list[Path] = []
    try:
        candidates = [e for e in os.scandir(root) if e.name.startswith(PREFIX) and e.is_dir()]
    except OSError:
        return removed
    for entry in candidates:
        folder = Path(entry.path)
        try:
            lock = os.open(folder / LOCK, os.O_RDWR)
        except FileNotFoundError:  # being removed, by its owner or by a sweep cut short
            _remove(folder, removed)
            continue
        except OSError:
            continue  # not ours to judge: not readable by this user
        try:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue  # its process is alive
            _remove(folder, removed)
        finally:
            os.close(lock)
    return removed


def _remove(folder: Path, removed: list[Path]) -> None:
    held = signal.pthread_sigmask(signal.SIG_BLOCK, HELD)
    try:
        shutil.rmtree(folder, ignore_errors=True)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)
    if not folder.exists():
        removed.append(folder)
