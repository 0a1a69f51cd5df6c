"""Fixtures: every storage test runs on SQLite and, when configured, on PostgreSQL."""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

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


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A throw-away PostgreSQL database for this test run."""
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"{PG_ENV} is not set")
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    name = f"pt_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # configured but unreachable: fail, never skip
        pytest.fail(f"{PG_ENV} is set but PostgreSQL is unreachable: {exc}")
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


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


def seed_lines() -> list[str]:
    return SEED.read_text(encoding="utf-8").splitlines()


def line(op: str, **data: Any) -> str:
    """One import line."""
    return json.dumps({"op": op, "input": data})


SOURCE = [{"publisher": "Test Gazette", "quote": "it happened"}]
