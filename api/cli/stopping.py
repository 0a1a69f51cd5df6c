"""SIGTERM during a long step (a rebuild at start, verify's replay) ends the command cleanly.

Python's default for SIGTERM ends the process at once, skipping every `finally`: a replay's
scratch directory (a SQLite copy of the whole log and its read models) would stay in the
temporary folder.
Around such a step SIGTERM raises instead, so the step unwinds as an error does: transactions
roll back, the scratch store is closed and its directory removed. The previous handler is put
back afterwards (uvicorn installs its own for serving)."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

import typer


class Terminated(BaseException):
    """SIGTERM arrived during a long step. A BaseException, so that no `except Exception`
    (verify reports what fails while replaying) mistakes it for a failure of the step."""


def _raise(signum: int, _frame: FrameType | None) -> None:
    raise Terminated(signum)


@contextlib.contextmanager
def stoppable(step: str) -> Iterator[None]:
    """Run the block with SIGTERM raising `Terminated`; on it, say so and exit with 143."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers belong to the main thread; elsewhere the default stays
        return
    previous = signal.signal(signal.SIGTERM, _raise)
    try:
        yield
    except Terminated:
        signal.signal(signal.SIGTERM, previous)
        typer.echo(
            f"policy-timeline: stopped by SIGTERM during {step}; its scratch files were removed",
            err=True,
        )
        raise typer.Exit(128 + signal.SIGTERM) from None
    finally:
        signal.signal(signal.SIGTERM, previous)
