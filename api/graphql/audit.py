"""`inclusionProof`: an RFC 6962 audit path from one log position to a Merkle root."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from api.graphql.context import Context
from api.graphql.errors import coded
from projections.audit.checkpoint import leaf_hashes, stored_checkpoints
from projections.audit.merkle import inclusion_path, root


@strawberry.type(description="Proof that one event is leaf `leafIndex` of a Merkle tree.")
class InclusionProof:
    leaf_index: int = strawberry.field(description="position - 1")
    tree_size: int
    leaf_hash: str
    root_hash: str
    audit_path: list[str]
    checkpoint: str | None = strawberry.field(
        description="the signed checkpoint note for this tree size, when one was kept"
    )


def resolve_inclusion_proof(
    info: Info[Context, None], position: int, tree_size: int | None = None
) -> InclusionProof | None:
    """Audit path for `position` against the latest checkpoint (or `treeSize`, or the head)."""
    engine = info.context.store.engine
    kept = {cp.tree_size: cp for cp in stored_checkpoints(engine)}
    if tree_size is None:
        covering = [size for size in kept if size >= position]
        tree_size = max(covering) if covering else info.context.store.head()
    if tree_size < 1 or tree_size > info.context.store.head():
        raise coded(f"treeSize {tree_size} is not between 1 and the log head", "BAD_USER_INPUT")
    if not 1 <= position <= tree_size:
        return None
    leaves = leaf_hashes(engine, tree_size)
    note = kept[tree_size].note if tree_size in kept else None
    return InclusionProof(
        leaf_index=position - 1,
        tree_size=tree_size,
        leaf_hash=leaves[position - 1].hex(),
        root_hash=root(leaves).hex(),
        audit_path=[h.hex() for h in inclusion_path(position - 1, leaves)],
        checkpoint=note,
    )


inclusion_proof = strawberry.field(
    resolver=resolve_inclusion_proof,
    description="An RFC 6962 inclusion proof for the event at `position`.",
)
