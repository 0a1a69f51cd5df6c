"""API keys: only a hash is stored; the secret is shown once, when created."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import Column, DateTime, Engine, MetaData, String, Table, select, update

metadata = MetaData()

api_keys = Table(
    "pt_api_keys",
    metadata,
    Column("key_id", String(32), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("secret_hash", String(64), nullable=False),
    Column("label", String(200)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
)

ROLES = ("editor", "reader")
PREFIX = "pt"


@dataclass(frozen=True)
class ApiKey:
    """A key as the server knows it (never the secret)."""

    key_id: str
    role: str
    label: str | None
    created_at: dt.datetime
    revoked_at: dt.datetime | None


def _hash(secret: str) -> str:
    # The secret has 256 bits of entropy, so a plain SHA-256 is enough (no password stretching).
    return hashlib.sha256(secret.encode()).hexdigest()


class KeyRing:
    """Creates, lists, revokes and checks API keys in the store's database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        metadata.create_all(engine)

    def create(self, role: str, label: str | None = None) -> tuple[ApiKey, str]:
        """A new key and its token `pt_<id>_<secret>` (shown once)."""
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        key_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        now = dt.datetime.now(dt.UTC)
        with self.engine.begin() as conn:
            conn.execute(
                api_keys.insert().values(
                    key_id=key_id, role=role, secret_hash=_hash(secret), label=label, created_at=now
                )
            )
        return ApiKey(key_id, role, label, now, None), f"{PREFIX}_{key_id}_{secret}"

    def list(self) -> list[ApiKey]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(api_keys).order_by(api_keys.c.created_at)).all()
        return [ApiKey(r.key_id, r.role, r.label, r.created_at, r.revoked_at) for r in rows]

    def revoke(self, key_id: str) -> bool:
        with self.engine.begin() as conn:
            result = conn.execute(
                update(api_keys)
                .where(api_keys.c.key_id == key_id, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=dt.datetime.now(dt.UTC))
            )
        return result.rowcount == 1

    def check(self, token: str) -> ApiKey | None:
        """The live key a token belongs to, or None; compares hashes in constant time."""
        prefix, _, rest = token.partition("_")
        key_id, _, secret = rest.partition("_")
        with self.engine.connect() as conn:
            row = conn.execute(select(api_keys).where(api_keys.c.key_id == key_id)).first()
        # Compare even when the id is unknown, so timing does not reveal which ids exist.
        expected = row.secret_hash if row is not None else _hash("")
        matches = hmac.compare_digest(_hash(secret), expected) and prefix == PREFIX
        if row is None or not matches or row.revoked_at is not None:
            return None
        return ApiKey(row.key_id, row.role, row.label, row.created_at, row.revoked_at)
