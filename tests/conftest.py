"""Fixtures: every storage test runs on SQLite and, when configured, on PostgreSQL."""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from api.cli.main import BUNDLED, app
from api.importing.commands import import_file
from projections.service import Store

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "data" / "seed.jsonl"
PG_ENV = "POLICY_TIMELINE_TEST_PG"
# Load tests write hundreds of mutations with one key; the rate limit has tests of its own.
os.environ.setdefault("POLICY_TIMELINE_WRITE_RATE", "100000/minute")
# Chromium (`make browser`) and node (`make node`) drive some tests. Without them those tests
# skip and say why, unless this variable names them: `make test` and CI set it, so a missing
# browser fails there instead of passing unnoticed.
REQUIRE_ENV = "POLICY_TIMELINE_TEST_REQUIRE"
CHROMIUM_ENV = "POLICY_TIMELINE_CHROMIUM"
CHROMIUM = os.environ.get(CHROMIUM_ENV) or "/usr/lib/chromium/chromium"
"""Debian's Chromium binary (its /usr/bin/chromium is a wrapper script Playwright cannot use)."""


def _chromium_missing() -> str | None:
    if os.access(CHROMIUM, os.X_OK):
        return None
    return (
        f"Chromium is missing: {CHROMIUM} is not an executable "
        f"(`make browser` installs Debian's; {CHROMIUM_ENV} names another)"
    )


def _node_missing() -> str | None:
    for program in ("node", "npm"):
        if shutil.which(program) is None:
            return f"{program} is missing from PATH (`make node` installs it and the clients)"
    return None


MISSING = {"browser": _chromium_missing, "node": _node_missing}


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip a test whose browser or node is missing, or fail it when they are required."""
    required = os.environ.get(REQUIRE_ENV, "").split()
    for marker, missing in MISSING.items():
        if item.get_closest_marker(marker) is None:
            continue
        why = missing()
        if why is not None and marker in required:
            pytest.fail(f"{why}; {REQUIRE_ENV} requires it", pytrace=False)
        if why is not None:
            pytest.skip(why)


def migrated(url: str | None = None, **kwargs: Any) -> Store:
    """A store opened, migrated and rebuilt where stale: what `serve` and `import` do first."""
    store = Store(url, **kwargs)
    store.migrate()
    store.rebuild_if_stale()
    return store


def _create_pg_database(base: str) -> str:
    """A new, empty PostgreSQL database on the server `base` names; its URL."""
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    name = f"pt_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # configured but unreachable: fail, never skip
        pytest.fail(f"{PG_ENV} is set but PostgreSQL is unreachable: {exc}")
    finally:
        admin.dispose()
    return make_url(base).set(database=name).render_as_string(hide_password=False)


def _drop_pg_database(base: str, url: str) -> None:
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A throw-away PostgreSQL database for this test run."""
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"{PG_ENV} is not set")
    url = _create_pg_database(base)
    yield url
    _drop_pg_database(base, url)


def _reset_pg(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty store URL on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite3'}"
    url: str = request.getfixturevalue("pg_url")
    _reset_pg(url)
    return url


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = migrated(db_url)
    yield s
    s.close()
    s.engine.dispose()


@contextmanager
def _own_url(request: pytest.FixtureRequest, tmp: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh, empty store URL on the backend `request.param` names, for a fixture wider than
    one test: on PostgreSQL a database of its own, which the `db_url` resets leave alone."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp.mktemp('shared') / 'store.sqlite3'}"
        return
    request.getfixturevalue("pg_url")  # skips, or fails, as every PostgreSQL test does
    url = _create_pg_database(os.environ[PG_ENV])
    try:
        yield url
    finally:
        _drop_pg_database(os.environ[PG_ENV], url)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def module_db_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A fresh, empty store URL on each backend, shared by the tests of one module (tests
    that only read what a module fixture wrote, so that it is written once per backend)."""
    with _own_url(request, tmp_path_factory) as url:
        yield url


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def bundled_load(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Store, int]]:
    """One store per backend holding everything `serve --seed` loads, and the log position
    after the seed story: shared by the tests that only read it, since loading the treaties'
    membership and the translations takes seconds."""
    with _own_url(request, tmp_path_factory) as url:
        store = migrated(url)
        reports = [import_file(store, path) for path in BUNDLED]
        assert all(r.errors == [] for r in reports), [r.errors for r in reports]
        yield store, reports[0].imported
        store.close()
        store.engine.dispose()


@contextmanager
def statements(store: Store) -> Iterator[list[str]]:
    """Every SQL statement sent to the database the read models query, while the block runs."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(store.read_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(store.read_engine, "before_cursor_execute", record)


@dataclass(frozen=True)
class Ran:
    """What a run of the command line gave: its exit status and its two streams."""

    returncode: int
    stdout: str
    stderr: str


def cli(*args: str) -> Ran:
    """`policy-timeline ARGS`, run in this process: the same command, without the seconds a new
    Python process spends starting. A crash raises here, with its traceback."""
    result = CliRunner().invoke(app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Ran(result.exit_code, result.stdout, result.stderr)


def seed_lines() -> list[str]:
    return SEED.read_text(encoding="utf-8").splitlines()


def line(op: str, **data: Any) -> str:
    """One import line."""
    return json.dumps({"op": op, "input": data})


SOURCE = [{"publisher": "Test Gazette", "quote": "it happened"}]
