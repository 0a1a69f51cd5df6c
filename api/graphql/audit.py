"""`inclusionProof`: an RFC 6962 audit path to a Merkle root; `diff`: changes between positions."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry
from strawberry.types import Info

from api.graphql.context import Context
from api.graphql.errors import coded, user_error
from api.graphql.types import Source, sources_of
from domain.errors import InvalidInput
from projections.audit.checkpoint import leaf_hashes, stored_checkpoints
from projections.audit.diff import MAX_CHANGES
from projections.audit.diff import diff as log_diff
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


@strawberry.type(description="One event of the log: what it did to which record.")
class LogChange:
    position: int
    recorded_at: dt.datetime
    event_type: str = strawberry.field(description="Recorded, Corrected, Retracted or Added")
    kind: str = strawberry.field(
        description="decision, treaty, weapon, statement, observation or category"
    )
    record_id: strawberry.ID = strawberry.field(description="the record's id (slug)")
    fields: list[str] | None = strawberry.field(description="the fields a correction changed")
    reason: str | None = strawberry.field(description="why it was corrected or retracted")
    key_id: str | None = strawberry.field(description="the API key that made the change")
    sources: list[Source] = strawberry.field(
        description="a correction's or retraction's own sources, or those of the record"
    )


def resolve_diff(
    info: Info[Context, None],
    from_: Annotated[int, strawberry.argument(name="from")],
    to: int,
    first: int | None = MAX_CHANGES,
) -> list[LogChange]:
    """Events after position `from` up to `to` (inclusive), oldest first."""
    store = info.context.store
    events = store.app.recorder.events_record_cls.__table__  # type: ignore[attr-defined]
    try:
        changes = log_diff(events, store.engine, from_, to, MAX_CHANGES if first is None else first)
    except InvalidInput as exc:
        raise user_error(exc) from None
    return [
        LogChange(
            position=c.position,
            recorded_at=dt.datetime.fromisoformat(c.recorded_at.replace("Z", "+00:00")),
            event_type=c.event_type,
            kind=c.kind,
            record_id=strawberry.ID(c.record_id),
            fields=c.fields,
            reason=c.reason,
            key_id=c.key_id,
            sources=sources_of(c.sources),
        )
        for c in changes
    ]


diff = strawberry.field(
    resolver=resolve_diff,
    description=(
        f"What changed after log position `from` up to `to` (inclusive), oldest first; at most "
        f"`first` (<= {MAX_CHANGES}) events: page on with `from` set to the last position."
    ),
)
