"""The `policy-timeline` command line."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from api.cli_audit import register as register_audit
from api.cli_bench import register as register_bench
from api.cli_keys import app as keys_app
from api.cli_worker import register as register_worker
from api.importing import import_file
from projections.rebuild import rebuild
from projections.service import Store

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)
err = Console(stderr=True)

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="SQLAlchemy URL of the store (default: POLICY_TIMELINE_DB or var/)"),
]
DATA = Path(__file__).resolve().parent.parent / "data"
SEED = DATA / "seed.jsonl"
SEED_TRANSLATIONS = DATA / "seed.translations.jsonl"
BUNDLED = (SEED, DATA / "membership.jsonl", SEED_TRANSLATIONS)
"""What `serve --seed` loads into an empty store: the story, both treaties' membership, then
the story's French and Ukrainian translations."""


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    db: DbOption = None,
    trusted_key: Annotated[
        list[str] | None,
        typer.Option(
            "--trusted-key",
            help="verifier key whose signed checkpoint may vouch for an export's new events",
        ),
    ] = None,
) -> None:
    """Load a JSON Lines file of operations; nothing is stored if any line is invalid."""
    store = Store(db)
    progress = Progress(
        TextColumn("storing"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        disable=not err.is_terminal,
    )
    with progress:
        task = progress.add_task("import", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        report = import_file(store, file, trusted_key or (), on_batch=advance)
    store.close()
    for line in report.errors:
        typer.echo(line, err=True)
    typer.echo(report.summary())
    if report.errors:
        raise typer.Exit(2)


@app.command()
def replay(
    until: Annotated[int | None, typer.Option(help="stop at this log position")] = None,
    db: DbOption = None,
) -> None:
    """Rebuild every projection from the log into fresh tables, swap them in, print digests."""
    store = Store(db)
    rebuilt = rebuild(store, until=until)
    typer.echo(f"replayed {rebuilt.events} events up to position {rebuilt.position}")
    for table, digest in rebuilt.digests.items():
        typer.echo(f"{table}: {digest}")
    store.close()


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    seed: Annotated[
        bool, typer.Option(help="load the bundled seed data if the store is empty")
    ] = False,
    production: Annotated[bool, typer.Option(help="no GraphiQL, no introspection")] = False,
    persisted_only: Annotated[
        bool, typer.Option(help="run only the queries registered in --persisted-queries")
    ] = False,
    persisted_queries: Annotated[
        Path | None, typer.Option(help="JSON file {sha256: query}", exists=True, dir_okay=False)
    ] = None,
    workers: Annotated[
        int, typer.Option(help="API processes (PostgreSQL); each keeps a standby projector")
    ] = 1,
    worker: Annotated[
        bool,
        typer.Option(help="run a projection worker in each API process (PostgreSQL only)"),
    ] = True,
    read_db: Annotated[
        str | None, typer.Option("--read-db", help="SQLAlchemy URL of a read replica")
    ] = None,
    public_url: Annotated[
        str | None,
        typer.Option(
            "--public-url",
            envvar="POLICY_TIMELINE_PUBLIC_URL",
            help="base of every absolute URL served (https://host[:port]); other Hosts get 400",
        ),
    ] = None,
    metrics_addr: Annotated[
        str | None,
        typer.Option(
            "--metrics-addr",
            envvar="POLICY_TIMELINE_METRICS_ADDR",
            help="HOST:PORT serving /metrics apart from the public port (private interface)",
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """Serve GraphQL at /graphql, the embeds, /healthz and /metrics."""
    import uvicorn

    from api.limits import MAX_BODY_BYTES, load_persisted
    from api.metrics_listener import parse_metrics_addr
    from api.public_url import parse_public_url
    from api.server import create_app

    try:
        public = parse_public_url(public_url) if public_url else None
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--public-url") from None
    try:
        metrics_at = parse_metrics_addr(metrics_addr) if metrics_addr else None
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--metrics-addr") from None

    if persisted_only and persisted_queries is None:
        raise typer.BadParameter("needs --persisted-queries FILE", param_hint="--persisted-only")
    persisted = load_persisted(persisted_queries) if persisted_only and persisted_queries else None
    store = Store(db)
    server_db = store.dialect == "postgresql"
    if (workers > 1 or read_db) and not server_db:
        raise typer.BadParameter("several API processes and replicas need PostgreSQL")
    if seed and store.head() == 0:
        for path in BUNDLED:
            typer.echo(f"{path.name}: {import_file(store, path).summary()}")
    store.projector.catch_up()
    base = str(public) if public else f"http://{host}:{port}"
    typer.echo(f"GraphQL: {base}/graphql")
    typer.echo(f"Embed:   {base}/embed/timeline?country=UKR")
    if metrics_at is not None:
        typer.echo(f"Metrics: http://{metrics_addr}/metrics")
    elif production:
        typer.echo("Metrics: off (--production serves them only on --metrics-addr)")
    if workers > 1:
        store.close()
        os.environ.update(
            POLICY_TIMELINE_DB=store.url,
            POLICY_TIMELINE_READ_DB=read_db or "",
            POLICY_TIMELINE_PRODUCTION="1" if production else "0",
            POLICY_TIMELINE_PERSISTED_QUERIES=str(persisted_queries) if persisted else "",
            POLICY_TIMELINE_EMBEDDED_WORKER="1" if worker else "0",
            POLICY_TIMELINE_PUBLIC_URL=str(public) if public else "",
            POLICY_TIMELINE_METRICS_ADDR=metrics_addr or "",
        )
        uvicorn.run(
            "api.server:app_from_env",
            factory=True,
            workers=workers,
            host=host,
            port=port,
            log_level="info",
            timeout_graceful_shutdown=10,
            ws_max_size=MAX_BODY_BYTES,  # a WebSocket message is capped like a request body
        )
        return
    if server_db:
        store.close()
        store = Store(db, project_inline=False, read_url=read_db)
    application = create_app(
        store,
        production=production,
        persisted=persisted,
        run_worker=server_db and worker,
        public_url=public,
        metrics_addr=metrics_at,
    )
    uvicorn.run(
        application,
        host=host,
        port=port,
        log_level="info",
        timeout_graceful_shutdown=10,
        ws_max_size=MAX_BODY_BYTES,  # a WebSocket message is capped like a request body
    )


app.add_typer(keys_app, name="keys")

register_audit(app)
register_bench(app)
register_worker(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
