"""Restoring an export trusts no file: forged exports with recomputed hashes are refused."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text

from api.importing.commands import import_lines
from projections.audit.checkpoint import create_checkpoint
from projections.eventlog.entries import chained_of
from projections.service import Store
from tests.audit_forgery import ORIGIN, forge, read, rehash, set_state, state, vkey, write
from tests.conftest import SOURCE, Ran, _reset_pg, cli, migrated, seed_lines


def run(*args: str) -> Ran:
    return cli(*args)


@pytest.fixture
def trusted() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def exported(store: Store, tmp_path: Path, trusted: Ed25519PrivateKey) -> Path:
    """The seed story's export, carrying a checkpoint signed by the trusted key."""
    import_lines(store, seed_lines())
    create_checkpoint(store.engine, trusted, ORIGIN)
    path = tmp_path / "log.jsonl"
    assert run("export", str(path), "--db", store.url).returncode == 0
    return path


@pytest.fixture(scope="module")
def signer() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def seed_export(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    signer: Ed25519PrivateKey,
) -> Path:
    """`exported`, made once per backend for the tests that only read it (each export imports
    the seed story and runs the CLI: made for every test, they were most of this module's time)."""
    directory = tmp_path_factory.mktemp("export")
    url = f"sqlite:///{directory / 'source.sqlite3'}"
    if request.param == "postgresql":
        url = request.getfixturevalue("pg_url")
        _reset_pg(url)
    store = migrated(url)
    try:
        import_lines(store, seed_lines())
        create_checkpoint(store.engine, signer, ORIGIN)
        path = directory / "log.jsonl"
        assert run("export", str(path), "--db", store.url).returncode == 0
    finally:
        store.close()
        store.engine.dispose()
    return path


def empty(tmp_path: Path, name: str = "copy") -> str:
    url = f"sqlite:///{tmp_path / (name + '.sqlite3')}"
    migrated(url).close()
    return url


def head(url: str) -> int:
    store = migrated(url)
    try:
        return store.head()
    finally:
        store.close()


def refused(url: str, path: Path, *args: str) -> str:
    """Import must answer exit 2 with `line N:` and store nothing."""
    before = head(url)
    done = run("import", str(path), "--db", url, *args)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr and done.stderr.startswith("line "), done.stderr
    assert head(url) == before
    return done.stderr


def test_an_export_restores_under_its_trusted_checkpoint_and_not_without(
    store: Store, exported: Path, tmp_path: Path, trusted: Ed25519PrivateKey
) -> None:
    url = empty(tmp_path)
    size = len(read(exported)[1])
    assert "position 1 is not covered by a trusted checkpoint" in refused(url, exported)
    other = vkey(Ed25519PrivateKey.generate())
    assert "not signed by a --trusted-key key" in refused(url, exported, "--trusted-key", other)
    done = run("import", str(exported), "--db", url, "--trusted-key", vkey(trusted))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith(f"imported {size}, unchanged 0, rejected 0")
    copy = migrated(url)
    try:
        assert copy.integrity().head_hash == store.integrity().head_hash
        assert copy.projector.digests() == store.projector.digests()
    finally:
        copy.close()
    again = run("import", str(exported), "--db", url)  # nothing beyond the head: no key needed
    assert again.stdout.strip().endswith(f"imported 0, unchanged {size}, rejected 0")


def test_a_store_takes_only_an_export_that_begins_with_its_own_log(
    seed_export: Path, tmp_path: Path, signer: Ed25519PrivateKey
) -> None:
    header, entries = read(seed_export)
    url = empty(tmp_path)
    prefix = tmp_path / "prefix.jsonl"
    write(prefix, header, entries[:5], signer)
    assert run("import", str(prefix), "--db", url, "--trusted-key", vkey(signer)).returncode == 0
    # The same store continues with the whole log: its five events are the export's first.
    done = run("import", str(seed_export), "--db", url, "--trusted-key", vkey(signer))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith(f"imported {len(entries) - 5}, unchanged 5, rejected 0")
    # A store holding another first event takes nothing of it.
    other = empty(tmp_path, "other")
    forged = tmp_path / "other.jsonl"
    forge(seed_export, forged, signer, lambda e: _edit(e[0], name="Another Treaty"))
    assert run("import", str(forged), "--db", other, "--trusted-key", vkey(signer)).returncode == 0
    message = refused(other, seed_export, "--trusted-key", vkey(signer))
    assert message.startswith("line 2: position 1 differs from the store's log")


def test_an_event_appended_to_a_live_store_needs_a_trusted_signature(
    seed_export: Path, tmp_path: Path, signer: Ed25519PrivateKey
) -> None:
    url = empty(tmp_path)
    assert (
        run("import", str(seed_export), "--db", url, "--trusted-key", vkey(signer)).returncode == 0
    )
    size = head(url)
    attacker = Ed25519PrivateKey.generate()
    forged = tmp_path / "forged.jsonl"

    def append(entries: list[dict[str, Any]]) -> None:
        extra = dict(entries[2])  # a copy of a weapon, under a new id
        data = state(extra)
        data["slug"] = data["content"]["id"] = "forged-weapon"
        set_state(extra, data)
        extra["streamId"] = "8f6d3c1e-0000-5000-8000-000000000001"
        entries.append(extra)

    forge(seed_export, forged, attacker, append)
    message = refused(url, forged, "--trusted-key", vkey(signer))
    assert message.startswith(f"line {size + 2}: position {size + 1} is not covered")


def _edit(entry: dict[str, Any], **content: Any) -> None:
    data = state(entry)
    data["content"] = {**data["content"], **content}
    set_state(entry, data)


def _set(entry: dict[str, Any], **fields: Any) -> None:
    data = state(entry)
    data.update(fields)
    set_state(entry, data)


def _source_url(entries: list[dict[str, Any]]) -> None:
    data = state(entries[0])
    data["content"]["sources"] = [{"publisher": "P", "url": "javascript:alert(1)"}]
    set_state(entries[0], data)


def _replace_first(
    entries: list[dict[str, Any]], topic: str, version: int, fields: dict[str, Any]
) -> None:
    """The first event becomes one of `topic`, with these fields, on a stream of its own."""
    first = entries[0]
    data = {"timestamp": state(first)["timestamp"], **fields}
    entries[0] = {**first, "topic": topic, "version": version, "streamId": str(uuid4())}
    set_state(entries[0], data)


FORGERIES: dict[str, tuple[Callable[[list[dict[str, Any]]], None], str]] = {
    "a key id no key has": (lambda e: _set(e[0], key_id="admin' OR 1=1"), "keyId"),
    "a javascript: URL": (_source_url, "url"),
    "a NUL in a name": (lambda e: _edit(e[0], name="Ottawa\u0000"), "NUL"),
    "a field no operation records": (lambda e: _edit(e[0], injected="x"), "injected"),
    "a recordedAt in the future": (
        lambda e: e[0].update(recordedAt="2999-01-01T00:00:00.000000Z"),
        "in the future",
    ),
    "a recordedAt before the previous event": (
        lambda e: e[1].update(recordedAt="1990-01-01T00:00:00.000000Z"),
        "before the previous event",
    ),
    "a recordedAt in another form": (
        lambda e: e[0].update(recordedAt="yesterday"),
        "is not YYYY-MM-DD",
    ),
    "a topic outside the record": (
        lambda e: e[0].update(topic="os:system"),
        "is not an event topic of this record",
    ),
    "content that is not an object (would crash replay)": (
        lambda e: _set(e[0], content="x"),
        "position 1:",
    ),
    "a correction of a decision that does not exist": (
        lambda e: _replace_first(
            e,
            "domain.decision:Decision.Corrected",
            2,
            {"changes": {"headline": "x"}, "reason": "r", "sources": SOURCE, "key_id": None},
        ),
        "it changes a decision that is not recorded",
    ),
    "a category added on its own": (
        lambda e: _replace_first(
            e,
            "domain.vocabulary:Category.Added",
            1,
            {"originator_topic": "domain.vocabulary:Category", "slug": "c", "introduced_by": "w"},
        ),
        "cannot come on its own",
    ),
}


@pytest.mark.parametrize("name", sorted(FORGERIES))
def test_a_forged_event_signed_by_the_trusted_key_is_still_validated(
    name: str, seed_export: Path, tmp_path: Path, signer: Ed25519PrivateKey
) -> None:
    change, message = FORGERIES[name]
    forged = tmp_path / "forged.jsonl"
    forge(seed_export, forged, signer, change)
    url = empty(tmp_path)
    answer = refused(url, forged, "--trusted-key", vkey(signer))
    assert message in answer, answer


def test_verify_fails_a_store_holding_an_event_that_cannot_be_served(
    db_url: str, exported: Path, tmp_path: Path
) -> None:
    _, entries = read(exported)
    _set(entries[2], content="x")  # a weapon whose content is not an object
    rehash(entries)
    target = migrated(db_url)
    try:
        with target.engine.begin() as conn:  # start from an empty log on this backend
            for table in ("policy_merkle", "policy_log", "policyrecord_events"):
                conn.execute(text(f"DELETE FROM {table}"))
        # Written as someone with database access would: no validation, consistent hashes.
        target.recorder.append_chained([chained_of(e) for e in entries])
    finally:
        target.close()
    done = run("verify", "--db", db_url)
    assert done.returncode == 1, done.stdout
    assert "projections: FAILED at position 3: the event does not" in done.stdout, done.stdout
    assert "serve and replay would fail" in done.stdout


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (b'{"position": 1, "state": "\xff"}', "not valid UTF-8"),
        (b"[" * 1000 + b"]" * 1000, "nested more than"),
        (b'{"position": ' + b"9" * 5000 + b"}", "a number of 5000 characters"),
        (b'{"position": 1, "position": 2}', "duplicate key 'position'"),
    ],
)
def test_hostile_json_in_an_export_is_named_by_line(
    bad: bytes, message: str, seed_export: Path, tmp_path: Path, signer: Ed25519PrivateKey
) -> None:
    lines = seed_export.read_bytes().splitlines()
    lines[3] = bad
    hostile = tmp_path / "hostile.jsonl"
    hostile.write_bytes(b"\n".join(lines) + b"\n")
    answer = refused(empty(tmp_path), hostile, "--trusted-key", vkey(signer))
    assert answer.startswith("line 4:") and message in answer, answer
