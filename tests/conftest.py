"""Fixtures: every storage test runs on SQLite and, when configured, on PostgreSQL."""

from __future__ import annotations

import json
import os
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
    s = Store(db_url)
    yield s
    s.close()
    s.engine.dispose()


def seed_lines() -> list[str]:
    return SEED.read_text(encoding="utf-8").splitlines()


def line(op: str, **data: Any) -> str:
    """One import line."""
    return json.dumps({"op": op, "input": data})


SOURCE = [{"publisher": "Test Gazette", "quote": "it happened"}]
