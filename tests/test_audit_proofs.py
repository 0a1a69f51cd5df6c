"""RFC 6962 Merkle proofs, signed checkpoints and the standalone verifier."""

from __future__ import annotations

import asyncio
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.graphql.build import build_schema
from api.graphql.context import Context
from api.importing.commands import import_lines
from projections.audit.checkpoint import create_checkpoint, load_key
from projections.audit.verifier import (
    ProofError,
    node_hash,
    open_note,
    verify_consistency,
    verify_inclusion,
)
from projections.eventlog import merkle
from projections.service import Store
from tests.conftest import ROOT, seed_lines

VERIFIER = ROOT / "projections" / "audit" / "verifier.py"
PROOF = """
query Proof($position: Int!, $treeSize: Int) {
  inclusionProof(position: $position, treeSize: $treeSize) {
    leafIndex treeSize leafHash rootHash auditPath checkpoint
  }
}"""


def leaves(n: int) -> list[bytes]:
    return [hashlib.sha256(b"\x00" + i.to_bytes(4, "big")).digest() for i in range(n)]


def definition_root(d: list[bytes]) -> bytes:
    """MTH exactly as RFC 6962 section 2.1 states it, split at the largest power of two < n."""
    if len(d) == 1:
        return d[0]
    k = 1
    while k * 2 < len(d):
        k *= 2
    return node_hash(definition_root(d[:k]), definition_root(d[k:]))


def test_the_empty_tree_root_is_the_hash_of_nothing() -> None:
    assert merkle.root([]).hex() == hashlib.sha256(b"").hexdigest()


@given(st.integers(min_value=1, max_value=70), st.data())
def test_every_inclusion_and_consistency_proof_checks_out(n: int, data: st.DataObject) -> None:
    d = leaves(n)
    top = merkle.root(d)
    assert top == definition_root(d)
    i = data.draw(st.integers(min_value=0, max_value=n - 1))
    verify_inclusion(i, n, d[i], merkle.inclusion_path(i, d), top)
    m = data.draw(st.integers(min_value=1, max_value=n))
    verify_consistency(m, n, merkle.root(d[:m]), top, merkle.consistency_proof(m, d))


@given(st.integers(min_value=2, max_value=40), st.data())
def test_a_proof_for_another_leaf_or_a_rewritten_prefix_fails(n: int, data: st.DataObject) -> None:
    d = leaves(n)
    i = data.draw(st.integers(min_value=0, max_value=n - 1))
    with pytest.raises(ProofError):
        verify_inclusion(i, n, b"\x07" * 32, merkle.inclusion_path(i, d), merkle.root(d))
    m = data.draw(st.integers(min_value=1, max_value=n - 1))
    forged = [b"\x09" * 32, *d[1:]]
    with pytest.raises(ProofError):
        verify_consistency(
            m, n, merkle.root(forged[:m]), merkle.root(d), merkle.consistency_proof(m, d)
        )


def test_a_graphql_inclusion_proof_checks_out_with_the_standalone_verifier(
    store: Store, tmp_path: Path
) -> None:
    import_lines(store, seed_lines())
    key = load_key(tmp_path / "k.pem", create=True)
    kept = create_checkpoint(store.engine, key, "test-log")
    result = asyncio.run(
        build_schema().execute(
            PROOF, variable_values={"position": 3}, context_value=Context(store=store)
        )
    )
    assert result.errors is None, result.errors
    proof = result.data["inclusionProof"]
    assert proof["treeSize"] == kept.tree_size and proof["checkpoint"] == kept.note
    assert proof["leafHash"] == store.read.audit_log(after=2, first=1)[0]["leafHash"]
    saved = tmp_path / "proof.json"
    saved.write_text(json.dumps({"data": result.data}))
    done = subprocess.run(
        [sys.executable, str(VERIFIER), str(saved), "--vkey", kept.verifier_key],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"inclusion: ok (leaf 2 of {kept.tree_size}, root {kept.root_hash})",
        "checkpoint: ok (signed by test-log)",
    ]
    proof["leafHash"] = "00" * 32
    saved.write_text(json.dumps(proof))
    forged = subprocess.run(
        [sys.executable, str(VERIFIER), str(saved)], capture_output=True, text=True, check=False
    )
    assert forged.returncode == 1 and "FAILED: inclusion" in forged.stderr


def test_a_checkpoint_note_with_a_changed_size_fails_its_signature(tmp_path: Path) -> None:
    key = load_key(tmp_path / "k.pem", create=True)
    from projections.audit.checkpoint import public_vkey, sign_note

    note = sign_note(key, "test-log", 5, merkle.root(leaves(5)))
    vkey = public_vkey(key, "test-log")
    assert open_note(note, vkey).size == 5
    with pytest.raises(ProofError, match="invalid"):
        open_note(note.replace("\n5\n", "\n6\n", 1), vkey)
    assert (tmp_path / "k.pem").stat().st_mode & 0o077 == 0


def test_the_standalone_verifier_imports_nothing_from_the_project() -> None:
    source = VERIFIER.read_text()
    assert "from projections" not in source and "from api" not in source
    assert "from domain" not in source
