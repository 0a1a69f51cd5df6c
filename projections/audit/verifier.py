"""Standalone verifier for inclusion proofs, consistency proofs and signed checkpoints.

This file imports only the standard library and `cryptography`, so an auditor can copy it
alone and check what the server hands out without trusting (or running) the server:

    python verifier.py proof.json --vkey 'policy-timeline+1a2b3c4d+AW...'

Merkle trees follow RFC 6962 section 2.1 (RFC 9162 section 2.1.3 and 2.1.4 for checking);
checkpoints are signed notes (origin, tree size, base64 root) with an Ed25519 signature.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

ED25519 = b"\x01"
SIGNATURE_PREFIX = "\u2014 "


class ProofError(ValueError):
    """A proof, note or key that does not check out."""


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 6962 interior node: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def root_from_inclusion(index: int, size: int, leaf: bytes, path: list[bytes]) -> bytes:
    """The root implied by a leaf at `index` of a tree of `size` leaves and its audit path."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of size {size}")
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            raise ProofError("the audit path is longer than the tree allows")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            # A right edge node: climb until this subtree is a left child again.
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("the audit path is shorter than the tree needs")
    return r


def verify_inclusion(index: int, size: int, leaf: bytes, path: list[bytes], root: bytes) -> None:
    """Raise ProofError unless `leaf` sits at `index` of the tree with `root`."""
    computed = root_from_inclusion(index, size, leaf, path)
    if computed != root:
        raise ProofError(f"inclusion: computed root {computed.hex()}, expected {root.hex()}")


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: list[bytes]
) -> None:
    """Raise ProofError unless the tree of `new_size` leaves extends the one of `old_size`."""
    if not 0 < old_size <= new_size:
        raise ProofError(f"cannot prove size {old_size} against size {new_size}")
    if old_size == new_size:
        if proof or old_root != new_root:
            raise ProofError("equal sizes need an empty proof and equal roots")
        return
    if old_size & (old_size - 1) == 0:
        # The old tree is a complete subtree: its root starts the path.
        proof = [old_root, *proof]
    if not proof:
        raise ProofError("the consistency proof is empty")
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            raise ProofError("the consistency proof is longer than the trees allow")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("the consistency proof is shorter than the trees need")
    if fr != old_root:
        raise ProofError(f"consistency: old root computed {fr.hex()}, expected {old_root.hex()}")
    if sr != new_root:
        raise ProofError(f"consistency: new root computed {sr.hex()}, expected {new_root.hex()}")


@dataclass(frozen=True)
class Checkpoint:
    """The signed statement: this origin's log had `size` leaves with this Merkle `root`."""

    origin: str
    size: int
    root: bytes
    body: str


def key_hash(name: str, public: bytes) -> bytes:
    """The 4-byte key id of a signed note: SHA-256(name || 0x0A || 0x01 || key)[:4]."""
    return hashlib.sha256(name.encode() + b"\n" + ED25519 + public).digest()[:4]


def verifier_key(name: str, public: bytes) -> str:
    """The public verifier key as text: `<name>+<key id hex>+<base64(0x01 || key)>`."""
    encoded = base64.b64encode(ED25519 + public).decode()
    return f"{name}+{key_hash(name, public).hex()}+{encoded}"


def parse_verifier_key(vkey: str) -> tuple[str, bytes]:
    """(name, raw Ed25519 public key) from a verifier key string."""
    try:
        name, hash_hex, encoded = vkey.strip().split("+", 2)
        raw = base64.b64decode(encoded, validate=True)
    except (ValueError, binascii.Error):
        raise ProofError("verifier key: expected <name>+<hex id>+<base64 key>") from None
    if raw[:1] != ED25519 or len(raw) != 33:
        raise ProofError("verifier key: not an Ed25519 key")
    if key_hash(name, raw[1:]).hex() != hash_hex:
        raise ProofError("verifier key: the key id does not match the name and key")
    return name, raw[1:]


def parse_checkpoint(body: str) -> Checkpoint:
    """The origin, size and root of a checkpoint body (without signatures)."""
    lines = body.split("\n")
    if len(lines) < 4 or lines[-1] != "":
        raise ProofError("checkpoint: expected origin, tree size and root, one per line")
    origin, size_text, root_text = lines[0], lines[1], lines[2]
    if not size_text.isdigit():
        raise ProofError(f"checkpoint: tree size {size_text!r} is not a number")
    try:
        root = base64.b64decode(root_text, validate=True)
    except binascii.Error:
        raise ProofError("checkpoint: the root hash is not base64") from None
    if len(root) != 32:
        raise ProofError("checkpoint: the root hash is not 32 bytes")
    return Checkpoint(origin, int(size_text), root, body)


def open_note(note: str, vkey: str) -> Checkpoint:
    """Check a signed checkpoint note against a verifier key; return what it states."""
    name, public = parse_verifier_key(vkey)
    body, sep, signatures = note.partition("\n\n")
    if not sep:
        raise ProofError("note: no blank line between the text and its signatures")
    body += "\n"
    wanted = key_hash(name, public)
    for line in signatures.splitlines():
        if not line.startswith(SIGNATURE_PREFIX):
            raise ProofError(f"note: malformed signature line {line!r}")
        signer, _, encoded = line[len(SIGNATURE_PREFIX) :].rpartition(" ")
        try:
            raw = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            raise ProofError(f"note: signature of {signer} is not base64") from None
        if signer != name or raw[:4] != wanted:
            continue
        try:
            Ed25519PublicKey.from_public_bytes(public).verify(raw[4:], body.encode())
        except InvalidSignature:
            raise ProofError(f"note: the signature of {name} is invalid") from None
        return parse_checkpoint(body)
    raise ProofError(f"note: no signature by {name}")


def check_proof(proof: dict[str, Any], vkey: str | None = None) -> str:
    """Check an `inclusionProof` answer (and its checkpoint note when a key is given)."""
    try:
        index, size = int(proof["leafIndex"]), int(proof["treeSize"])
        leaf, root = bytes.fromhex(proof["leafHash"]), bytes.fromhex(proof["rootHash"])
        path = [bytes.fromhex(h) for h in proof["auditPath"]]
    except (KeyError, TypeError, ValueError) as exc:
        raise ProofError(f"proof: missing or malformed field ({exc})") from None
    verify_inclusion(index, size, leaf, path, root)
    message = f"inclusion: ok (leaf {index} of {size}, root {root.hex()})"
    if vkey is not None:
        note = proof.get("checkpoint")
        if not note:
            raise ProofError("proof: no checkpoint note to check the signature of")
        checkpoint = open_note(note, vkey)
        if (checkpoint.size, checkpoint.root) != (size, root):
            raise ProofError("checkpoint: it signs a different tree size or root")
        message += f"\ncheckpoint: ok (signed by {checkpoint.origin})"
    return message


def main(argv: list[str] | None = None) -> int:
    """Command line: check a saved inclusion proof (JSON) and optionally its signed note."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("proof", type=Path, help="JSON of an inclusionProof answer")
    parser.add_argument("--vkey", help="the log's verifier key, to check the checkpoint")
    args = parser.parse_args(argv)
    data = json.loads(args.proof.read_text(encoding="utf-8"))
    data = data.get("data", {}).get("inclusionProof", data) if isinstance(data, dict) else data
    try:
        print(check_proof(data, args.vkey))
    except ProofError as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
