"""Durability settings checked when a store opens: an acknowledged write must survive a crash."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine, text

from projections import settings

SYNCHRONOUS_ENV = settings.env_name("sqlite_synchronous")
OK = "ok"

log = logging.getLogger("policy_timeline.durability")


def sqlite_synchronous() -> str:
    """FULL, or NORMAL when POLICY_TIMELINE_SQLITE_SYNCHRONOUS says so explicitly."""
    return settings.current().sqlite_synchronous


def tune_sqlite_connection(dbapi_connection: Any) -> None:
    """WAL and the chosen `synchronous`, set on every new SQLite connection."""
    cursor = dbapi_connection.cursor()
    # busy_timeout first: switching a file to WAL waits for other processes' locks.
    cursor.execute("PRAGMA busy_timeout = 30000")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute(f"PRAGMA synchronous = {sqlite_synchronous()}")
    cursor.close()


def judge_sqlite(settings: Mapping[str, str]) -> str:
    """'ok', or 'at risk: …' naming each setting that can lose an acknowledged write."""
    risks = []
    if settings.get("journal_mode", "").lower() not in ("wal", "memory"):
        risks.append(f"journal_mode={settings.get('journal_mode')} (expected wal)")
    if settings.get("journal_mode", "").lower() == "memory":
        risks.append("in-memory database (nothing survives the process)")
    # PRAGMA synchronous reads back 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA.
    if str(settings.get("synchronous")) not in ("2", "3", "FULL", "EXTRA"):
        name = {"0": "OFF", "1": "NORMAL"}.get(str(settings.get("synchronous")), "?")
        risks.append(f"synchronous={name} (a power loss can undo acknowledged writes)")
    return OK if not risks else "at risk: " + "; ".join(risks)


def judge_postgresql(settings: Mapping[str, str]) -> str:
    """'ok', or 'at risk: …' when fsync or synchronous_commit is off."""
    names = ("fsync", "synchronous_commit")
    risks = [f"{n} off" for n in names if str(settings.get(n, "")).lower() in ("off", "0")]
    return OK if not risks else "at risk: " + ", ".join(risks)


def read_settings(engine: Engine) -> dict[str, str]:
    """The durability settings as a new connection of `engine` sees them."""
    names = (
        ("journal_mode", "synchronous")
        if engine.dialect.name == "sqlite"
        else ("fsync", "synchronous_commit")
    )
    query = "PRAGMA {}" if engine.dialect.name == "sqlite" else "SHOW {}"
    with engine.connect() as conn:
        return {n: str(conn.execute(text(query.format(n))).scalar()) for n in names}


def check(engine: Engine) -> str:
    """Read and judge the settings; log a warning stating the risk when they can lose writes."""
    if engine.dialect.name not in ("sqlite", "postgresql"):
        return OK
    settings = read_settings(engine)
    judge = judge_sqlite if engine.dialect.name == "sqlite" else judge_postgresql
    verdict = judge(settings)
    if verdict != OK:
        log.warning(
            "DURABILITY AT RISK on %s: %s — a crash or power loss can lose writes that were "
            "already acknowledged",
            engine.dialect.name,
            verdict.removeprefix("at risk: "),
        )
    return verdict
