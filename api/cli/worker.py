"""`policy-timeline worker`: keeps the projections caught up on PostgreSQL."""

from __future__ import annotations

import logging
import signal
import threading
from typing import Annotated

import typer

from api.cli.stopping import stoppable
from projections.readmodels.worker import ProjectionWorker
from projections.service import Store


def worker(
    db: Annotated[
        str | None, typer.Option("--db", help="SQLAlchemy URL of the store (PostgreSQL)")
    ] = None,
    poll: Annotated[float, typer.Option(help="seconds between re-polls without NOTIFY")] = 1.0,
) -> None:
    """Keep every projection caught up; one worker is active, others wait as hot standby."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    store = Store(db, project_inline=False)
    if store.dialect != "postgresql":
        typer.echo(
            "worker: needs PostgreSQL; on SQLite `serve` and `import` project inline", err=True
        )
        raise typer.Exit(2)
    with stoppable("start-up (migrating, rebuilding stale read models)"):
        store.migrate()
        store.rebuild_if_stale()
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    typer.echo("worker: waiting for the projection lock (hot standby until it is free)")
    ProjectionWorker(store, poll_seconds=poll).run(stop)
    store.close()
    typer.echo("worker: stopped")


def register(app: typer.Typer) -> None:
    """Add the `worker` command to the CLI."""
    app.command("worker")(worker)
