"""`policy-timeline keys`: create prints the key once, list never shows secrets, revoke works."""

from __future__ import annotations

from typer.testing import CliRunner

from api.cli.main import app
from api.http.keys import KeyRing
from projections.service import Store
from tests.conftest import migrated

runner = CliRunner()


def test_a_created_key_is_printed_alone_on_the_last_line_and_only_its_hash_is_stored(
    db_url: str,
) -> None:
    result = runner.invoke(
        app, ["keys", "create", "--role", "editor", "--label", "desk", "--db", db_url]
    )
    assert result.exit_code == 0, result.output
    token = result.stdout.strip().splitlines()[-1]
    assert token.startswith("pt_") and " " not in token
    store = migrated(db_url)
    ring = KeyRing(store.engine)
    key = ring.check(token)
    assert key is not None and key.role == "editor" and key.label == "desk"
    with store.engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT * FROM pt_api_keys").all()
    store.close()
    assert token.split("_", 2)[2] not in str(stored)


def test_keys_list_shows_ids_and_roles_but_never_secrets(db_url: str) -> None:
    created = runner.invoke(app, ["keys", "create", "--role", "reader", "--db", db_url])
    token = created.stdout.strip().splitlines()[-1]
    listed = runner.invoke(app, ["keys", "list", "--db", db_url])
    assert listed.exit_code == 0
    key_id = token.split("_")[1]
    assert f"{key_id}\treader" in listed.stdout and "active" in listed.stdout
    assert token.split("_", 2)[2] not in listed.stdout


def test_a_revoked_key_no_longer_checks_and_is_listed_as_revoked(db_url: str) -> None:
    created = runner.invoke(app, ["keys", "create", "--role", "editor", "--db", db_url])
    token = created.stdout.strip().splitlines()[-1]
    key_id = token.split("_")[1]
    revoked = runner.invoke(app, ["keys", "revoke", key_id, "--db", db_url])
    assert revoked.exit_code == 0 and f"revoked {key_id}" in revoked.stdout
    store = migrated(db_url)
    assert KeyRing(store.engine).check(token) is None
    store.close()
    assert "revoked" in runner.invoke(app, ["keys", "list", "--db", db_url]).stdout
    again = runner.invoke(app, ["keys", "revoke", key_id, "--db", db_url])
    assert again.exit_code == 1 and f"no active key with id {key_id}" in again.stderr


def test_an_unknown_role_is_refused_naming_the_option(db_url: str) -> None:
    result = runner.invoke(app, ["keys", "create", "--role", "admin", "--db", db_url])
    assert result.exit_code == 2
    assert "--role" in result.stderr and "editor, reader" in result.stderr


def test_a_tampered_secret_or_unknown_id_does_not_check(store: Store) -> None:
    ring = KeyRing(store.engine)
    _, token = ring.create("editor")
    assert ring.check(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert ring.check("pt_ffffffffffff_" + token.split("_", 2)[2]) is None
    assert ring.check("garbage") is None
