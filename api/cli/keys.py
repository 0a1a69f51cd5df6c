"""`policy-timeline keys`: create, list and revoke API keys."""

from __future__ import annotations

from typing import Annotated

import typer

from api.http.keys import ROLES, KeyRing
from projections.service import Store

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="SQLAlchemy URL of the store (default: POLICY_TIMELINE_DB or var/)"),
]


def _ring(db: str | None) -> tuple[Store, KeyRing]:
    store = Store(db)
    store.migrate()
    return store, KeyRing(store.engine)


@app.command()
def create(
    role: Annotated[str, typer.Option(help="editor (may write) or reader")],
    label: Annotated[str | None, typer.Option(help="who or what the key is for")] = None,
    db: DbOption = None,
) -> None:
    """Create a key; the key is printed once, alone on the last line."""
    if role not in ROLES:
        raise typer.BadParameter(f"must be one of {', '.join(ROLES)}", param_hint="--role")
    store, ring = _ring(db)
    key, token = ring.create(role, label)
    store.close()
    typer.echo(f"created {key.role} key {key.key_id}; store the key now, it is not shown again:")
    typer.echo(token)


@app.command("list")
def list_(db: DbOption = None) -> None:
    """List keys (id, role, created, revoked, label); never the secrets."""
    store, ring = _ring(db)
    keys = ring.list()
    store.close()
    for key in keys:
        revoked = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "active"
        typer.echo(
            f"{key.key_id}\t{key.role}\t{key.created_at:%Y-%m-%d}\t{revoked}\t{key.label or ''}"
        )


@app.command()
def revoke(
    key_id: Annotated[str, typer.Argument(help="the id shown by `keys list`")], db: DbOption = None
) -> None:
    """Revoke a key; requests using it are refused from now on."""
    store, ring = _ring(db)
    done = ring.revoke(key_id)
    store.close()
    if not done:
        typer.echo(f"no active key with id {key_id}", err=True)
        raise typer.Exit(1)
    typer.echo(f"revoked {key_id}")
