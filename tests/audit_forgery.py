"""Crafting exports as an attacker would: change events, then recompute every hash and sign."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from projections.audit.checkpoint import public_vkey, sign_note
from projections.eventlog.ledger import GENESIS, chain_hash, envelope_of, leaf_hash, payload_of
from projections.eventlog.merkle import root

ORIGIN = "policy-timeline"


def read(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The header and the event lines of an export."""
    lines = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
    return lines[0], lines[1:]


def rehash(entries: list[dict[str, Any]]) -> None:
    """Recompute payload, ids, leaf and chain hashes so the chain looks valid again."""
    previous = GENESIS
    for position, entry in enumerate(entries, start=1):
        entry["position"] = position
        envelope = envelope_of(
            position,
            entry["streamId"],
            entry["version"],
            entry["topic"],
            entry["state"].encode("utf-8", "surrogatepass"),
            entry["recordedAt"],
            entry["schemaVersion"],
        )
        entry["payload"] = payload_of(entry["state"].encode("utf-8", "surrogatepass"))
        entry["eventId"], entry["eventType"] = envelope.event_id, envelope.event_type
        entry["leafHash"] = leaf_hash(envelope)
        previous = entry["chainHash"] = chain_hash(previous, entry["leafHash"])


def write(
    path: Path,
    header: dict[str, Any],
    entries: list[dict[str, Any]],
    key: Ed25519PrivateKey | None,
) -> None:
    """Write an export whose header (and checkpoint, signed by `key`) match `entries`."""
    leaves = [bytes.fromhex(e["leafHash"]) for e in entries]
    header = {
        **header,
        "treeSize": len(entries),
        "headHash": entries[-1]["chainHash"] if entries else None,
        "rootHash": root(leaves).hex(),
        "checkpoint": None if key is None else sign_note(key, ORIGIN, len(leaves), root(leaves)),
    }
    text = b"".join(rfc8785.dumps(x) + b"\n" for x in [header, *entries])
    path.write_bytes(text)


def forge(
    source: Path,
    target: Path,
    key: Ed25519PrivateKey | None,
    change: Callable[[list[dict[str, Any]]], None],
) -> None:
    """Copy an export, let `change` edit its event lines, rehash and re-sign it."""
    header, entries = read(source)
    change(entries)
    rehash(entries)
    write(target, header, entries, key)


def vkey(key: Ed25519PrivateKey) -> str:
    return public_vkey(key, ORIGIN)


def state(entry: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(entry["state"])
    return data


def set_state(entry: dict[str, Any], data: dict[str, Any]) -> None:
    entry["state"] = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
