"""Durability settings are set and judged when a store opens; unsafe ones are warned about."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from api.http.app import create_app
from projections.eventlog import durability
from projections.service import Store
from tests.conftest import migrated
from tests.graphql_support import serving

pytestmark = pytest.mark.reliability

WARNING_LOGGER = "policy_timeline.durability"


def _pragmas(store: Store) -> tuple[str, int]:
    with store.engine.connect() as conn:
        mode = conn.execute(text("PRAGMA journal_mode")).scalar()
        sync = conn.execute(text("PRAGMA synchronous")).scalar()
    return str(mode), int(sync or 0)


def test_every_sqlite_connection_is_in_wal_mode_with_synchronous_full(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger=WARNING_LOGGER):
        store = migrated(f"sqlite:///{tmp_path / 'd.sqlite3'}")
    try:
        # Several connections at once: each was tuned by the connect listener, none predates it.
        with store.engine.connect() as a, store.engine.connect() as b:
            for conn in (a, b):
                assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
                assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
                assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 30000
        assert store.durability == "ok"
        assert not [r for r in caplog.records if r.name == WARNING_LOGGER]
    finally:
        store.close()


def test_sqlite_synchronous_normal_must_be_chosen_explicitly_and_is_warned_about(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv(durability.SYNCHRONOUS_ENV, "NORMAL")
    with caplog.at_level(logging.WARNING, logger=WARNING_LOGGER):
        store = migrated(f"sqlite:///{tmp_path / 'd.sqlite3'}")
    try:
        assert _pragmas(store) == ("wal", 1)
        assert store.durability.startswith("at risk: synchronous=NORMAL")
        warnings = [r for r in caplog.records if r.name == WARNING_LOGGER]
        assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING
        assert "acknowledged" in warnings[0].getMessage()
        with serving(create_app(store)) as client:
            assert client.get("/healthz").json()["durability"] == store.durability
    finally:
        store.close()


def test_an_unknown_sqlite_synchronous_setting_is_refused_naming_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(durability.SYNCHRONOUS_ENV, "OFF")
    with pytest.raises(ValueError, match=durability.SYNCHRONOUS_ENV):
        migrated(f"sqlite:///{tmp_path / 'd.sqlite3'}")


@pytest.mark.parametrize(
    ("settings", "verdict"),
    [
        ({"fsync": "on", "synchronous_commit": "on"}, "ok"),
        ({"fsync": "on", "synchronous_commit": "remote_apply"}, "ok"),
        ({"fsync": "on", "synchronous_commit": "local"}, "ok"),
        ({"fsync": "off", "synchronous_commit": "on"}, "at risk: fsync off"),
        ({"fsync": "on", "synchronous_commit": "off"}, "at risk: synchronous_commit off"),
        (
            {"fsync": "off", "synchronous_commit": "off"},
            "at risk: fsync off, synchronous_commit off",
        ),
    ],
)
def test_postgresql_settings_are_judged_by_fsync_and_synchronous_commit(
    settings: dict[str, str], verdict: str
) -> None:
    assert durability.judge_postgresql(settings) == verdict


def test_the_judgement_of_sqlite_settings_names_what_is_unsafe() -> None:
    assert durability.judge_sqlite({"journal_mode": "wal", "synchronous": "2"}) == "ok"
    assert durability.judge_sqlite({"journal_mode": "delete", "synchronous": "0"}) == (
        "at risk: journal_mode=delete (expected wal); "
        "synchronous=OFF (a power loss can undo acknowledged writes)"
    )


def test_the_durability_of_a_store_is_read_from_its_database_and_shown_in_healthz(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger=WARNING_LOGGER):
        store = migrated(db_url)
    try:
        settings = durability.read_settings(store.engine)
        if store.dialect == "postgresql":
            assert set(settings) == {"fsync", "synchronous_commit"}
            # This server runs with both on, as production must.
            assert settings == {"fsync": "on", "synchronous_commit": "on"}
        else:
            assert settings == {"journal_mode": "wal", "synchronous": "2"}
        assert store.durability == "ok"
        assert not [r for r in caplog.records if r.name == WARNING_LOGGER]
        with serving(create_app(store)) as client:
            health = client.get("/healthz").json()
        assert health["ok"] is True and health["durability"] == "ok"
    finally:
        store.close()


def test_a_postgresql_database_with_synchronous_commit_off_is_warned_about_at_start(
    pg_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    # A database-level setting reaches every new session of the store, unlike a session SET.
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    name = pg_url.rsplit("/", 1)[1]
    with admin.connect() as conn:
        conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    admin.dispose()
    try:
        with caplog.at_level(logging.WARNING, logger=WARNING_LOGGER):
            store = migrated(pg_url)
        try:
            assert store.durability == "at risk: synchronous_commit off"
            warnings = [r for r in caplog.records if r.name == WARNING_LOGGER]
            assert len(warnings) == 1 and "synchronous_commit off" in warnings[0].getMessage()
        finally:
            store.close()
    finally:
        admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" RESET synchronous_commit'))
        admin.dispose()
