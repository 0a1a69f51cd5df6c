"""`import` of a file written by `export`: the same events, positions, times and hashes.

Nothing in the file is trusted because its hashes agree: hashes only prove that the file
is consistent with itself. The events the store already holds must be exactly the file's
first events; each event beyond them must be covered by a checkpoint signed by a key given
with `--trusted-key`, and must be what the live operation it stands for records today.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic

from api.importing.report import ImportReport
from domain.commands import parse_input
from domain.decision import Decision
from domain.errors import PolicyRecordError
from domain.restore import FOLLOWERS, operation_of
from projections.audit.export import ExportCheck, read_export
from projections.audit.verifier import ProofError, open_note
from projections.eventlog.entries import BATCH, stored_log
from projections.eventlog.merkle import root
from projections.eventlog.recorder import ChainMismatch
from projections.service import Store

RECORDED_AT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z\Z", re.ASCII)
CLOCK_SKEW = dt.timedelta(seconds=60)
"""How far an event's times may run ahead of this machine's clock (or its own recordedAt)."""


class Refused(Exception):
    """The export cannot be restored; the message starts with `line N:`."""


def import_export_lines(
    store: Store, lines: Iterable[str], trusted_keys: Sequence[str] = ()
) -> ImportReport:
    """Check every line of an export, then append what the store lacks; all or nothing."""
    check = read_export(lines)
    report = ImportReport()
    if not check.ok:
        report.errors.append(check.error())
        return report
    try:
        head = _same_beginning(store, check)
        _covered(check, head, trusted_keys)
        _validate(store, check, head)
        todo = check.entries[head:]
        for start in range(0, len(todo), BATCH):
            store.recorder.append_chained(todo[start : start + BATCH])
    except Refused as exc:
        report.errors.append(str(exc))
        return report
    except ChainMismatch as exc:  # another writer appended meanwhile
        report.errors.append(str(exc))
        return report
    report.imported, report.unchanged = len(todo), head
    store.projector.catch_up()
    return report


def _line(check: ExportCheck, position: int) -> int:
    return check.lines[position - 1] if 0 < position <= len(check.lines) else 1


def _same_beginning(store: Store, check: ExportCheck) -> int:
    """The store's head, after checking its log is exactly the export's first events."""
    have = 0
    for have, stored in enumerate(stored_log(store.app, store.engine), start=1):
        if have > len(check.entries):
            raise Refused(
                f"line 1: the store holds more events than the export ({len(check.entries)}); "
                "an export restores only into an empty store or one holding its beginning"
            )
        if stored["chainHash"] != check.entries[have - 1].chain:
            raise Refused(
                f"line {_line(check, have)}: position {have} differs from the store's log: the "
                "store is not empty and its log differs from the export; an export restores "
                "only into an empty store or one holding exactly its beginning"
            )
    return have


def _covered(check: ExportCheck, head: int, trusted_keys: Sequence[str]) -> None:
    """Events beyond `head` need the export's checkpoint, signed by a trusted key, to cover them."""
    size = len(check.entries)
    if size <= head:
        return
    covered = 0
    note = check.header.get("checkpoint")
    why = "the export carries no signed checkpoint"
    if isinstance(note, str) and not trusted_keys:
        why = "no --trusted-key was given to check its checkpoint with"
    elif isinstance(note, str):
        why = "its checkpoint is not signed by a --trusted-key key"
        for vkey in trusted_keys:
            try:
                checkpoint = open_note(note, vkey)
            except ProofError:
                continue
            if checkpoint.size > size:
                why = f"its checkpoint has {checkpoint.size} events, the export {size}"
                continue
            leaves = [bytes.fromhex(h) for h in check.leaves[: checkpoint.size]]
            if root(leaves) != checkpoint.root:
                why = "its events do not have the root its signed checkpoint states"
                continue
            covered = checkpoint.size
            why = f"the signed checkpoint covers positions 1..{covered} only"
            break
    if covered < size:
        first = max(head, covered) + 1
        raise Refused(
            f"line {_line(check, first)}: position {first} is not covered by a trusted "
            f"checkpoint ({why}); events beyond the store's head (position {head}) are "
            "restored only under a checkpoint signed by a key given with --trusted-key"
        )


def _validate(store: Store, check: ExportCheck, head: int) -> None:
    """Each event beyond `head`: decoded, well-timed, and what its live operation records."""
    work = store.unit_of_work()
    mapper = store.app.mapper
    allowed = _allowed_topics()
    previous = check.entries[head - 1].recorded_at if head else ""
    position = head + 1
    size = len(check.entries)
    while position <= size:
        entry = check.entries[position - 1]
        where = f"line {_line(check, position)}: position {position}:"
        event = _decoded(mapper, entry.stored, allowed, where)
        previous = _check_time(entry.recorded_at, previous, event, where)
        if type(event) in FOLLOWERS:
            raise Refused(f"{where} a {type(event).__qualname__} event cannot come on its own")
        slug = _decision_slug(work, store, event.originator_id)
        try:
            op, data, key_id = operation_of(event, slug)
            applied = work.apply(op, parse_input(op, data), key_id)
        except PolicyRecordError as exc:
            raise Refused(f"{where} {exc}") from None
        if applied.outcome == "unchanged":
            raise Refused(f"{where} it records nothing new (the same {op} is already recorded)")
        for offset, produced in enumerate(applied.events):
            at = position + offset
            if at > size:
                raise Refused(f"{where} {op} also records a next event, missing from the export")
            if offset:
                follower = check.entries[at - 1]
                _decoded(mapper, follower.stored, allowed, f"line {_line(check, at)}:")
                previous = _check_time(follower.recorded_at, previous, None, where)
            _same_event(mapper.to_stored_event(produced), check.entries[at - 1].stored, at, check)
        position += len(applied.events)


def _allowed_topics() -> set[str]:
    from domain.restore import _RECORDED_BY_CONTENT

    classes = [*_RECORDED_BY_CONTENT, Decision.Recorded, Decision.Corrected, Decision.Retracted]
    return {get_topic(c) for c in [*classes, *FOLLOWERS]}


def _decoded(mapper: Any, stored: StoredEvent, allowed: set[str], where: str) -> Any:
    if stored.topic not in allowed:
        raise Refused(f"{where} {stored.topic[:100]!r} is not an event topic of this record")
    try:
        return mapper.to_domain_event(stored)
    except Exception as exc:  # any failure to decode is the file's fault
        raise Refused(f"{where} the event does not decode ({type(exc).__name__}: {exc})") from None


def _check_time(recorded_at: str, previous: str, event: Any, where: str) -> str:
    """recordedAt in the log's form, never before the previous one nor in the future."""
    if not RECORDED_AT.match(recorded_at):
        raise Refused(f"{where} recordedAt {recorded_at[:40]!r} is not YYYY-MM-DDThh:mm:ss.ffffffZ")
    try:
        moment = dt.datetime.fromisoformat(recorded_at.replace("Z", "+00:00"))
    except ValueError:
        raise Refused(f"{where} recordedAt {recorded_at!r} is not a valid time") from None
    if recorded_at < previous:
        raise Refused(f"{where} recordedAt {recorded_at} is before the previous event's {previous}")
    if moment > dt.datetime.now(dt.UTC) + CLOCK_SKEW:
        raise Refused(f"{where} recordedAt {recorded_at} is in the future")
    stamp = getattr(event, "timestamp", None)
    if isinstance(stamp, dt.datetime):
        aware = stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC)
        if aware > moment + CLOCK_SKEW:
            raise Refused(f"{where} the event's timestamp {stamp} is after its recordedAt")
    return recorded_at


def _decision_slug(work: Any, store: Store, originator: UUID) -> str | None:
    """The id of the decision whose stream `originator` is, when it is one."""
    record = work.loaded.get(originator)
    if record is None and originator not in work.loaded:
        try:
            record = store.app.repository.get(originator)
        except AggregateNotFoundError:
            record = None
        work.loaded[originator] = record
    return record.slug if isinstance(record, Decision) else None


def _same_event(made: StoredEvent, given: StoredEvent, position: int, check: ExportCheck) -> None:
    """The export's event is the one the live operation records (its timestamp aside)."""
    where = f"line {_line(check, position)}: position {position}:"
    if (made.topic, made.originator_id, made.originator_version) != (
        given.topic,
        given.originator_id,
        given.originator_version,
    ):
        raise Refused(
            f"{where} the operation records {made.topic} version {made.originator_version} "
            f"of stream {made.originator_id}, the export {given.topic} version "
            f"{given.originator_version} of stream {given.originator_id}"
        )
    ours, theirs = _without_time(made.state), _without_time(given.state)
    differ = _not_within(theirs, ours)
    if differ is not None:
        raise Refused(f"{where} the event differs from what its operation records ({differ})")


def _not_within(given: Any, made: Any, path: str = "") -> str | None:
    """Where `given` says something `made` does not (None: nothing). An older event may
    lack fields that today's operation adds with their defaults, but never add or change one."""
    if isinstance(given, dict) and isinstance(made, dict):
        for key, value in given.items():
            if key not in made:
                return f"{path}{key}: not recorded by the operation"
            found = _not_within(value, made[key], f"{path}{key}.")
            if found is not None:
                return found
        return None
    return None if given == made else (path.rstrip(".") or "the event")


def _without_time(state: bytes) -> dict[str, Any]:
    data = json.loads(state)
    if not isinstance(data, dict):
        return {"": data}
    data.pop("timestamp", None)
    return data
