"""`inclusionProof`: an RFC 6962 audit path to a Merkle root; `diff`: changes between positions."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from typing import Annotated

import strawberry
from strawberry.types import Info

from api.graphql.context import Context
from api.graphql.errors import coded, user_error
from api.graphql.sources import Source, sources_of
from api.graphql.types import Integrity
from domain.errors import InvalidInput
from projections import settings
from projections.audit.checkpoint import stored_checkpoints
from projections.audit.checks import verify_and_record
from projections.audit.diff import MAX_CHANGES
from projections.audit.diff import diff as log_diff
from projections.audit.status import Status
from projections.eventlog import nodes
from projections.eventlog.recorder import events_table
from projections.service import Store


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


async def resolve_inclusion_proof(
    info: Info[Context, None], position: int, tree_size: int | None = None
) -> InclusionProof | None:
    """Audit path for `position` against the latest checkpoint (or `treeSize`, or the head)."""
    return await asyncio.to_thread(_inclusion_proof, info.context.store, position, tree_size)


def _inclusion_proof(store: Store, position: int, tree_size: int | None) -> InclusionProof | None:
    engine = store.engine
    kept = {cp.tree_size: cp for cp in stored_checkpoints(engine)}
    if tree_size is None:
        covering = [size for size in kept if size >= position]
        tree_size = max(covering) if covering else store.head()
    if tree_size < 1 or tree_size > store.head():
        raise coded(f"treeSize {tree_size} is not between 1 and the log head", "BAD_USER_INPUT")
    if not 1 <= position <= tree_size:
        return None
    with engine.connect() as conn:  # O(log n) stored subtree hashes, never every leaf
        leaf, top, path = nodes.inclusion(conn, position - 1, tree_size)
    note = kept[tree_size].note if tree_size in kept else None
    return InclusionProof(
        leaf_index=position - 1,
        tree_size=tree_size,
        leaf_hash=leaf.hex(),
        root_hash=top.hex(),
        audit_path=[h.hex() for h in path],
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


async def resolve_diff(
    info: Info[Context, None],
    from_: Annotated[int, strawberry.argument(name="from")],
    to: int,
    first: int | None = MAX_CHANGES,
) -> list[LogChange]:
    """Events after position `from` up to `to` (inclusive), oldest first."""
    store = info.context.store
    events = events_table(store.app)
    limit = MAX_CHANGES if first is None else first
    try:
        changes = await asyncio.to_thread(log_diff, events, store.engine, from_, to, limit)
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


INTERVAL_ENV = settings.env_name("verify_interval")
"""Seconds between two full verifications started through the API (any process)."""
_RUNNING = threading.Lock()
"""One full verification at a time in this process."""


def integrity_of(state: Status) -> Integrity:
    """The GraphQL answer from stored state."""
    last = state.last
    if last is None or last.finished_at is None:  # none finished yet: nothing found wrong
        return Integrity(
            ok=True,
            head_position=state.head_position,
            head_hash=state.head_hash,
            checked_up_to=0,
            first_bad_position=None,
            verifying=_RUNNING.locked(),
        )
    return Integrity(
        ok=bool(last.ok),
        head_position=state.head_position,
        head_hash=state.head_hash,
        checked_up_to=last.head_position or 0,
        first_bad_position=last.first_bad_position,
        verified_at=_at(last.finished_at),
        detail=last.detail,
        verifying=_RUNNING.locked(),
    )


def _at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


async def resolve_integrity(info: Info[Context, None]) -> Integrity:
    """The stored head and the last full verification: two indexed reads, no hashing."""
    return integrity_of(await asyncio.to_thread(info.context.store.integrity_status))


integrity = strawberry.field(
    resolver=resolve_integrity,
    description="The log head and the last full verification's result, from stored state.",
)


def _interval() -> float:
    return settings.current().verify_interval


async def resolve_verify_integrity(info: Info[Context, None]) -> Integrity:
    """Re-hash the whole log off the event loop (editor key; one at a time, rate-limited)."""
    ctx = info.context
    key = ctx.editor("this API key may not start a verification")
    store = ctx.store
    last = (await asyncio.to_thread(store.integrity_status)).last
    if last is not None:
        since = dt.datetime.now(dt.UTC) - _at(last.started_at)
        wait = _interval() - since.total_seconds()
        if wait > 0:
            raise coded(
                f"a full verification started at {last.started_at}; "
                f"the next may start in {int(wait) + 1} s",
                "RATE_LIMITED",
            )
    if not _RUNNING.acquire(blocking=False):
        raise coded("a full verification is already running", "RATE_LIMITED")
    try:
        # In a thread: re-hashing a long log must never hold the event loop.
        await asyncio.to_thread(verify_and_record, store, f"key {key.key_id}")
    finally:
        _RUNNING.release()
    return integrity_of(await asyncio.to_thread(store.integrity_status))


verify_integrity = strawberry.mutation(
    resolver=resolve_verify_integrity,
    description=(
        "Recompute every hash of the log, the Merkle tree and the projections (editor key); "
        "one at a time, at most once per interval; `integrity` answers with its result."
    ),
)
