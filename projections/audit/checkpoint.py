"""Signed checkpoints: origin, tree size and Merkle root, signed with an Ed25519 key."""

from __future__ import annotations

import base64
import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import BigInteger, Column, Engine, MetaData, String, Table, Text, inspect, select

from projections import settings
from projections.audit.verifier import SIGNATURE_PREFIX, key_hash, verifier_key
from projections.eventlog.ledger import log, rfc3339
from projections.eventlog.merkle import root

KEY_ENV = settings.env_name("signing_key")

metadata = MetaData()

checkpoints = Table(
    "policy_checkpoints",
    metadata,
    Column("tree_size", BigInteger, primary_key=True, autoincrement=False),
    Column("root_hash", String(64), nullable=False),
    Column("origin", String(200), nullable=False),
    Column("verifier_key", String(300), nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("note", Text, nullable=False),
)


class SigningKeyError(ValueError):
    """The signing key is missing or unreadable."""


def key_path(path: str | Path | None = None) -> Path:
    """The signing key file: the argument, else POLICY_TIMELINE_SIGNING_KEY, else var/."""
    return Path(path) if path else settings.current().signing_key


def origin_name(origin: str | None = None) -> str:
    """The log's name in its checkpoints: the argument, else POLICY_TIMELINE_ORIGIN."""
    return origin or settings.current().origin


def load_key(path: Path, *, create: bool = False) -> Ed25519PrivateKey:
    """Read the PEM Ed25519 key at `path`, creating it (mode 0600) when asked and absent."""
    if not path.exists():
        if not create:
            raise SigningKeyError(f"no signing key at {path}; pass --create-key to create one")
        path.parent.mkdir(parents=True, exist_ok=True)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        # Created private from the start: never world-readable, even for an instant.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
        return key
    try:
        loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except ValueError as exc:
        raise SigningKeyError(f"{path} is not a PEM private key ({exc})") from None
    if not isinstance(loaded, Ed25519PrivateKey):
        raise SigningKeyError(f"{path} is not an Ed25519 key")
    return loaded


def public_vkey(key: Ed25519PrivateKey, origin: str) -> str:
    """The verifier key that auditors use to check this key's signatures."""
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return verifier_key(origin, raw)


def sign_note(key: Ed25519PrivateKey, origin: str, size: int, root_hash: bytes) -> str:
    """The checkpoint text and its signature line, as a signed note."""
    body = f"{origin}\n{size}\n{base64.b64encode(root_hash).decode()}\n"
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    signature = key_hash(origin, raw) + key.sign(body.encode())
    return f"{body}\n{SIGNATURE_PREFIX}{origin} {base64.b64encode(signature).decode()}\n"


def leaf_hashes(engine: Engine, size: int | None = None) -> list[bytes]:
    """The stored leaf hashes in position order (the first `size` of them)."""
    query = select(log.c.leaf_hash).order_by(log.c.position)
    if size is not None:
        query = query.limit(size)
    with engine.connect() as conn:
        return [bytes.fromhex(h) for h in conn.execute(query).scalars()]


@dataclass(frozen=True)
class Stored:
    """A checkpoint as kept in the store."""

    tree_size: int
    root_hash: str
    note: str
    verifier_key: str


def create_checkpoint(engine: Engine, key: Ed25519PrivateKey, origin: str) -> Stored:
    """Sign the current log head and keep the note (the same size is kept once)."""
    metadata.create_all(engine)
    leaves = leaf_hashes(engine)
    root_hash = root(leaves)
    note = sign_note(key, origin, len(leaves), root_hash)
    vkey = public_vkey(key, origin)
    with engine.begin() as conn:
        existing = conn.execute(
            select(checkpoints.c.note).where(checkpoints.c.tree_size == len(leaves))
        ).scalar()
        if existing is None:
            conn.execute(
                checkpoints.insert().values(
                    tree_size=len(leaves),
                    root_hash=root_hash.hex(),
                    origin=origin,
                    verifier_key=vkey,
                    created_at=rfc3339(dt.datetime.now(dt.UTC)),
                    note=note,
                )
            )
    return Stored(len(leaves), root_hash.hex(), note, vkey)


def stored_checkpoints(engine: Engine) -> list[Stored]:
    """Every kept checkpoint, oldest first (none when the table does not exist yet)."""
    if not inspect(engine).has_table(checkpoints.name):
        return []
    with engine.connect() as conn:
        rows = conn.execute(select(checkpoints).order_by(checkpoints.c.tree_size)).all()
    return [Stored(r.tree_size, r.root_hash, r.note, r.verifier_key) for r in rows]
