"""`verify`: the hash chain, positions, projection digests and checkpoints, one check each."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from projections.audit import status
from projections.audit.checkpoint import leaf_hashes, stored_checkpoints
from projections.audit.export import ExportCheck, read_export
from projections.audit.verifier import (
    ProofError,
    parse_checkpoint,
    verify_consistency,
)
from projections.audit.verifier import open_note as _open_note
from projections.eventlog import nodes
from projections.eventlog.entries import BATCH, chained_of, stored_log
from projections.eventlog.ledger import log
from projections.eventlog.merkle import consistency_proof, root
from projections.eventlog.recorder import Chained, events_table
from projections.readmodels.scratch import scratch_directory

if TYPE_CHECKING:
    # The facade composes what this module serves; it is only named here, never imported.
    from projections.service import Store

_EXPECTED = re.compile(r"expected (\w+), (?:stored|found) (\w+)")


@dataclass(frozen=True)
class Check:
    """One line of the report."""

    name: str
    ok: bool
    summary: str
    position: int | None = None
    expected: str | None = None
    actual: str | None = None

    def line(self) -> str:
        return f"{self.name}: {'ok' if self.ok else 'FAILED'} {self.summary}".rstrip()


@dataclass
class Report:
    """Every check of one verification, and the head it saw."""

    checks: list[Check] = field(default_factory=list)
    head_position: int = 0
    head_hash: str | None = None

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def first_bad_position(self) -> int | None:
        bad = [c.position for c in self.checks if not c.ok and c.position is not None]
        return min(bad, default=None)

    def lines(self) -> list[str]:
        return [c.line() for c in self.checks]

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "headPosition": self.head_position,
            "headHash": self.head_hash,
            "firstBadPosition": self.first_bad_position,
            "checks": [
                {
                    "name": c.name,
                    "ok": c.ok,
                    "message": c.summary,
                    "position": c.position,
                    "expected": c.expected,
                    "actual": c.actual,
                }
                for c in self.checks
            ],
        }


def _failed(name: str, position: int | None, detail: str) -> Check:
    found = _EXPECTED.search(detail)
    where = f"at position {position}: " if position is not None else ""
    return Check(
        name,
        False,
        f"{where}{detail}",
        position,
        found.group(1) if found else None,
        found.group(2) if found else None,
    )


def verify_store(store: Store, note: str | None = None, vkey: str | None = None) -> Report:
    """Check the store's chain, positions and projections (and a checkpoint if given)."""
    integrity = store.integrity()
    report = Report(head_position=integrity.head_position, head_hash=integrity.head_hash)
    if integrity.ok:
        report.checks.append(
            Check(
                "chain",
                True,
                f"({integrity.checked_up_to} events, head {integrity.head_hash})",
            )
        )
    else:
        detail = integrity.detail or "hashes disagree"
        report.checks.append(_failed("chain", integrity.first_bad_position, detail))
    report.checks.append(_positions(store))
    report.checks.append(
        _projections(store)
        if integrity.ok
        else Check("projections", True, "skipped (chain failed)")
    )
    report.checks.append(
        _tree(store) if integrity.ok else Check("tree", True, "skipped (chain failed)")
    )
    leaves = leaf_hashes(store.engine)
    report.checks.append(_kept_checkpoints(store, leaves))
    if note is not None:
        report.checks.append(check_checkpoint(note, leaves, vkey))
    return report


def verify_and_record(
    store: Store, by: str, note: str | None = None, vkey: str | None = None
) -> Report:
    """`verify_store`, with its start and result kept for `integrity` to answer from."""
    ident = status.started(store.engine, by)
    report = verify_store(store, note, vkey)
    failed = next((c for c in report.checks if not c.ok), None)
    status.finished(
        store.engine,
        ident,
        ok=report.ok,
        head_position=report.head_position,
        head_hash=report.head_hash,
        first_bad_position=report.first_bad_position,
        detail=None if failed is None else failed.line(),
    )
    return report


def _tree(store: Store) -> Check:
    """Every stored Merkle subtree hash (what proofs are built from) matches the leaves."""
    problem = nodes.check(store.engine)
    if problem is None:
        return Check("tree", True, "(every stored subtree hash matches the leaf hashes)")
    return Check("tree", False, f"at position {problem[0]}: {problem[1]}")


def _positions(store: Store) -> Check:
    """Positions run 1..N with no gap, and every stored event has its chain row."""
    events = events_table(store.app)
    with store.engine.connect() as conn:
        count, top = conn.execute(
            select(func.count(), func.coalesce(func.max(log.c.position), 0))
        ).one()
        unchained = conn.execute(
            select(events.c.id)
            .join(log, log.c.notification_id == events.c.id, isouter=True)
            .where(log.c.position.is_(None))
            .order_by(events.c.id)
            .limit(1)
        ).scalar()
        if unchained is not None:
            before = conn.execute(
                select(func.coalesce(func.max(log.c.position), 0)).where(
                    log.c.notification_id < unchained
                )
            ).scalar_one()
            return Check(
                "positions",
                False,
                f"at position {before + 1}: an event row (notification id {unchained}) "
                "has no chain row",
                before + 1,
            )
        if count != top:
            gap = conn.execute(
                select(func.min(log.c.position + 1)).where(
                    ~(log.c.position + 1).in_(select(log.c.position)), log.c.position < top
                )
            ).scalar()
            first = 1 if gap is None else int(gap)
            return Check("positions", False, f"at position {first}: missing (gap)", first)
    return Check("positions", True, f"(1..{top}, no gaps, duplicates or unchained events)")


def _projections(store: Store) -> Check:
    """Decode every event, replay the whole log into a scratch SQLite store, and compare
    every projection digest: a store that `serve` or `replay` could not apply fails here."""
    upto = store.projector.position()
    with scratch_directory() as tmp:
        scratch = type(store)(f"sqlite:///{tmp / 'replay.sqlite3'}")
        scratch.migrate()
        try:
            batch: list[Chained] = []
            for entry in stored_log(store.app, store.engine):
                chained = chained_of(entry)
                try:
                    store.app.mapper.to_domain_event(chained.stored)
                except Exception as exc:  # whatever breaks decoding is reported
                    return _unservable(entry["position"], "does not decode", exc)
                batch.append(chained)
                if len(batch) == BATCH:
                    scratch.recorder.append_chained(batch)
                    batch = []
            scratch.recorder.append_chained(batch)
            failed = _replay(scratch, upto)
            if failed is not None:
                return failed
            fresh = scratch.projector.digests()
            failed = _replay(scratch, None)
            if failed is not None:
                return failed
        finally:
            scratch.close()
    ours = store.projector.digests()
    differ = sorted(name for name in fresh if ours.get(name) != fresh[name])
    if differ:
        table = differ[0]
        return Check(
            "projections",
            False,
            f"{', '.join(differ)} differ from a fresh replay up to position {upto} "
            f"(expected {fresh[table]}, found {ours.get(table)})",
            None,
            fresh[table],
            ours.get(table),
        )
    return Check(
        "projections", True, f"({len(fresh)} tables match a fresh replay up to position {upto})"
    )


def _replay(scratch: Store, until: int | None) -> Check | None:
    """Project the scratch store up to `until` (or its head); a failure names its event."""
    try:
        scratch.projector.catch_up(until=until)
        return None
    except Exception:  # find the event: one at a time from the last commit
        pass
    while True:
        position = scratch.projector.position() + 1
        try:
            scratch.projector.catch_up(until=position)
        except Exception as exc:
            return _unservable(position, "does not replay", exc)
        if scratch.projector.position() < position:  # nothing left to apply
            return None


def _unservable(position: int, what: str, exc: Exception) -> Check:
    detail = f"{type(exc).__name__}: {str(exc)[:200]}"
    return Check(
        "projections",
        False,
        f"at position {position}: the event {what} ({detail}); serve and replay would fail",
        position,
    )


def _kept_checkpoints(store: Store, leaves: list[bytes]) -> Check:
    """Every checkpoint kept in the store still matches the log's first leaves."""
    kept = stored_checkpoints(store.engine)
    for cp in kept:
        if cp.tree_size > len(leaves):
            return Check(
                "checkpoints",
                False,
                f"at position {len(leaves) + 1}: a kept checkpoint has {cp.tree_size} events, "
                f"the log {len(leaves)} (truncated)",
                len(leaves) + 1,
            )
        computed = root(leaves[: cp.tree_size]).hex()
        if computed != cp.root_hash:
            return Check(
                "checkpoints",
                False,
                f"the first {cp.tree_size} events have root {computed}, "
                f"the kept checkpoint says {cp.root_hash} (the log was rewritten)",
                None,
                cp.root_hash,
                computed,
            )
    return Check("checkpoints", True, f"(every kept checkpoint matches the log: {len(kept)})")


def check_checkpoint(note: str, leaves: list[bytes], vkey: str | None) -> Check:
    """Prove with an RFC 6962 consistency proof that the log extends a checkpoint."""
    try:
        if vkey is not None:
            cp = _open_note(note, vkey)
            signed = "signature ok"
        else:
            cp = parse_checkpoint(note.partition("\n\n")[0] + "\n")
            signed = "signature not checked: no verifier key"
    except ProofError as exc:
        return Check("checkpoint", False, str(exc))
    size = len(leaves)
    if cp.size > size:
        return Check(
            "checkpoint",
            False,
            f"at position {size + 1}: the checkpoint has {cp.size} events, the log {size}",
            size + 1,
        )
    if cp.size == 0:
        return Check("checkpoint", True, f"(empty checkpoint, {signed})")
    new_root = root(leaves)
    try:
        verify_consistency(cp.size, size, cp.root, new_root, consistency_proof(cp.size, leaves))
    except ProofError as exc:
        return Check(
            "checkpoint",
            False,
            f"the log does not extend the checkpoint of size {cp.size}: {exc}",
            None,
            cp.root.hex(),
            root(leaves[: cp.size]).hex(),
        )
    return Check("checkpoint", True, f"(size {cp.size} is a prefix of size {size}, {signed})")


def verify_export(lines: Iterable[str], note: str | None = None, vkey: str | None = None) -> Report:
    """Check an export file offline: header, positions, leaf and chain hashes, checkpoint."""
    check: ExportCheck = read_export(lines)
    size = len(check.entries)
    report = Report(head_position=size, head_hash=check.entries[-1].chain if size else None)
    if check.ok:
        report.checks.append(Check("chain", True, f"({size} events, head {report.head_hash})"))
        report.checks.append(Check("positions", True, f"(1..{size}, no gaps or duplicates)"))
    else:
        name = "positions" if "expected position" in (check.problem or "") else "chain"
        check_line = f"line {check.bad_line}: {check.problem}"
        report.checks.append(
            Check(name, False, check_line, check.bad_position, check.expected, check.actual)
        )
    leaves = [bytes.fromhex(h) for h in check.leaves]
    if note is not None:
        report.checks.append(check_checkpoint(note, leaves, vkey))
    return report
