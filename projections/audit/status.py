"""What `integrity` answers without reading the log: its head and the last full verification."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    select,
)

from projections.eventlog.ledger import log, rfc3339

metadata = MetaData()

verifications = Table(
    "policy_verifications",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("started_at", String(40), nullable=False),
    Column("finished_at", String(40), nullable=True),
    Column("by", String(60), nullable=False),
    Column("ok", Boolean, nullable=True),
    Column("head_position", BigInteger, nullable=True),
    Column("head_hash", String(64), nullable=True),
    Column("first_bad_position", BigInteger, nullable=True),
    Column("detail", Text, nullable=True),
)


@dataclass(frozen=True)
class Verification:
    """One full verification: who ran it, when, what it covered and found."""

    started_at: str
    finished_at: str | None
    by: str
    ok: bool | None
    head_position: int | None
    head_hash: str | None
    first_bad_position: int | None
    detail: str | None


@dataclass(frozen=True)
class Status:
    """The log's head as stored, and the latest verification (None when none ran yet)."""

    head_position: int
    head_hash: str | None
    last: Verification | None


def create(engine: Engine) -> None:
    """Create the table if it does not exist."""
    metadata.create_all(engine)


def status(engine: Engine) -> Status:
    """Two indexed reads, whatever the log's length: the last log row and the last verification."""
    with engine.connect() as conn:
        head = conn.execute(
            select(log.c.position, log.c.chain_hash).order_by(log.c.position.desc()).limit(1)
        ).first()
        row = conn.execute(
            select(verifications).order_by(verifications.c.id.desc()).limit(1)
        ).first()
    last = None
    if row is not None:
        last = Verification(
            row.started_at,
            row.finished_at,
            row.by,
            row.ok,
            row.head_position,
            row.head_hash,
            row.first_bad_position,
            row.detail,
        )
    if head is None:
        return Status(0, None, last)
    return Status(int(head[0]), str(head[1]), last)


def now() -> str:
    """The current UTC time as stored."""
    return rfc3339(dt.datetime.now(dt.UTC))


def started(engine: Engine, by: str) -> int:
    """Record that a verification started; returns its id."""
    with engine.begin() as conn:
        result = conn.execute(verifications.insert().values(started_at=now(), by=by))
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])


def finished(
    engine: Engine,
    ident: int,
    *,
    ok: bool,
    head_position: int,
    head_hash: str | None,
    first_bad_position: int | None,
    detail: str | None,
) -> None:
    """Record a verification's result."""
    with engine.begin() as conn:
        conn.execute(
            verifications.update()
            .where(verifications.c.id == ident)
            .values(
                finished_at=now(),
                ok=ok,
                head_position=head_position,
                head_hash=head_hash,
                first_bad_position=first_bad_position,
                detail=None if detail is None else detail[:2000],
            )
        )


def last_started(engine: Engine) -> str | None:
    """When the latest verification started (None when none ever did)."""
    with engine.connect() as conn:
        return conn.execute(
            select(verifications.c.started_at).order_by(verifications.c.id.desc()).limit(1)
        ).scalar()
