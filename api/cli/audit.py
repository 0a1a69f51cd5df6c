"""`export`, `verify` and `checkpoint`: the audit commands of `policy-timeline`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from api.cli.stopping import stoppable
from projections.audit.checkpoint import (
    SigningKeyError,
    create_checkpoint,
    key_path,
    load_key,
    origin_name,
    public_vkey,
)
from projections.audit.checks import Report, verify_and_record, verify_export
from projections.service import Store

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="SQLAlchemy URL of the store (default: POLICY_TIMELINE_DB or var/)"),
]
KeyOption = Annotated[
    Path | None,
    typer.Option(
        "--key", help="Ed25519 signing key (PEM; default POLICY_TIMELINE_SIGNING_KEY or var/)"
    ),
]


def export(
    file: Annotated[Path, typer.Argument(dir_okay=False, help="where to write the export")],
    db: DbOption = None,
) -> None:
    """Write the whole event log as canonical JSON Lines with positions and hashes."""
    from projections.audit.export import write_export

    store = Store(db)
    store.migrate()
    try:
        with file.open("wb") as out:
            count, head = write_export(store.app, store.engine, out)
    finally:
        store.close()
    typer.echo(f"exported {count} events, head {head}")


def verify(
    export_file: Annotated[
        Path | None,
        typer.Argument(exists=True, dir_okay=False, help="an export to check offline"),
    ] = None,
    json_: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
    checkpoint: Annotated[
        Path | None,
        typer.Option(exists=True, dir_okay=False, help="a signed checkpoint the log must extend"),
    ] = None,
    vkey: Annotated[
        str | None, typer.Option(help="verifier key of the checkpoint signer (default: from --key)")
    ] = None,
    key: KeyOption = None,
    db: DbOption = None,
) -> None:
    """Recompute the hash chain and projection digests, or check an export offline."""
    note = checkpoint.read_text(encoding="utf-8") if checkpoint is not None else None
    if note is not None and vkey is None and key_path(key).exists():
        try:
            vkey = public_vkey(load_key(key_path(key)), _origin_of(note))
        except SigningKeyError as exc:
            _fail(str(exc))
    if export_file is not None:
        with export_file.open(encoding="utf-8") as handle:
            report = verify_export(handle, note, vkey)
    else:
        store = Store(db)
        try:
            with stoppable("verify (rebuilding stale read models, replaying the log)"):
                store.migrate()
                store.rebuild_if_stale()
                report = verify_and_record(store, "verify", note, vkey)
        finally:
            store.close()
    _print(report, json_)
    if not report.ok:
        raise typer.Exit(1)


def checkpoint(
    key: KeyOption = None,
    create_key: Annotated[
        bool, typer.Option("--create-key", help="create the signing key if it does not exist")
    ] = False,
    origin: Annotated[
        str | None, typer.Option(help="the log's name (default POLICY_TIMELINE_ORIGIN)")
    ] = None,
    out: Annotated[
        Path | None, typer.Option(dir_okay=False, help="also write the note to this file")
    ] = None,
    db: DbOption = None,
) -> None:
    """Sign the current log head (RFC 6962 Merkle root), keep it and print the note."""
    try:
        signing = load_key(key_path(key), create=create_key)
    except SigningKeyError as exc:
        _fail(str(exc))
    store = Store(db)
    store.migrate()
    try:
        kept = create_checkpoint(store.engine, signing, origin_name(origin))
    finally:
        store.close()
    if out is not None:
        out.write_text(kept.note, encoding="utf-8")
    typer.echo(f"verifier key: {kept.verifier_key}", err=True)
    typer.echo(kept.note, nl=False)


def _origin_of(note: str) -> str:
    return note.split("\n", 1)[0]


def _print(report: Report, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(report.as_json(), sort_keys=True))
        return
    for line in report.lines():
        typer.echo(line)


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def register(app: typer.Typer) -> None:
    """Add the audit commands to the main command line."""
    app.command()(export)
    app.command()(verify)
    app.command()(checkpoint)
