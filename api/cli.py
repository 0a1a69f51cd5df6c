"""The `policy-timeline` command line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from api.cli_audit import register as register_audit
from api.cli_bench import register as register_bench
from api.cli_keys import app as keys_app
from api.importing import import_file
from projections.service import Store

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)
err = Console(stderr=True)

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="SQLAlchemy URL of the store (default: POLICY_TIMELINE_DB or var/)"),
]
SEED = Path(__file__).resolve().parent.parent / "data" / "seed.jsonl"


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    db: DbOption = None,
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

        report = import_file(store, file, on_batch=advance)
    store.close()
    for line in report.errors:
        err.print(line, markup=False, highlight=False)
    typer.echo(report.summary())
    if report.errors:
        raise typer.Exit(2)


@app.command()
def replay(
    until: Annotated[int | None, typer.Option(help="stop at this log position")] = None,
    db: DbOption = None,
) -> None:
    """Rebuild every projection from the log and print the positions applied."""
    store = Store(db)
    applied = store.projector.rebuild(until=until)
    typer.echo(f"replayed {applied} events up to position {store.projector.position()}")
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
    db: DbOption = None,
) -> None:
    """Serve GraphQL at /graphql, the embeds and /healthz."""
    import uvicorn

    from api.limits import load_persisted
    from api.server import create_app

    if persisted_only and persisted_queries is None:
        raise typer.BadParameter("needs --persisted-queries FILE", param_hint="--persisted-only")
    persisted = load_persisted(persisted_queries) if persisted_only and persisted_queries else None
    store = Store(db)
    if seed and store.head() == 0:
        report = import_file(store, SEED)
        typer.echo(f"seed: {report.summary()}")
    store.projector.catch_up()
    typer.echo(f"GraphQL: http://{host}:{port}/graphql")
    typer.echo(f"Embed:   http://{host}:{port}/embed/timeline?country=UKR")
    application = create_app(store, production=production, persisted=persisted)
    uvicorn.run(application, host=host, port=port, log_level="info")


app.add_typer(keys_app, name="keys")

register_audit(app)
register_bench(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
