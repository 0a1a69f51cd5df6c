"""Export the log as canonical JSON Lines, read it back, and rebuild it in another store."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import IO, Any
from uuid import UUID

import rfc8785
from eventsourcing.persistence import StoredEvent
from sqlalchemy import Engine, select

from domain import jsontext
from domain.application import PolicyRecord
from projections.audit.checkpoint import stored_checkpoints
from projections.eventlog import nodes
from projections.eventlog.entries import BATCH, stored_log
from projections.eventlog.ledger import (
    GENESIS,
    SCHEMA_VERSION,
    Envelope,
    chain_hash,
    event_id,
    event_type,
    leaf_hash,
    log,
    payload_of,
)
from projections.eventlog.recorder import Chained

FORMAT = "policy-timeline-export"
VERSION = 1
FIELDS = (
    "position",
    "streamId",
    "version",
    "eventId",
    "eventType",
    "schemaVersion",
    "recordedAt",
    "payload",
    "topic",
    "state",
    "leafHash",
    "chainHash",
)


def write_export(
    app: PolicyRecord, engine: Engine, out: IO[bytes], batch: int = BATCH
) -> tuple[int, str | None]:
    """Write the header line and one canonical line per event; returns (events, head hash).

    Streams: the header comes from the stored head and subtree hashes, then the events
    up to that head are read `batch` at a time, so memory does not grow with the log."""
    with engine.connect() as conn:
        last = conn.execute(
            select(log.c.position, log.c.chain_hash).order_by(log.c.position.desc()).limit(1)
        ).first()
        size, head = (int(last[0]), str(last[1])) if last else (0, None)
        top = nodes.tree_root(conn, size)
    kept = [cp for cp in stored_checkpoints(engine) if cp.tree_size <= size]
    header: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "treeSize": size,
        "headHash": head,
        "rootHash": top.hex(),
        # The newest signed checkpoint it covers: what lets `import --trusted-key` accept it.
        "checkpoint": kept[-1].note if kept else None,
    }
    out.write(rfc8785.dumps(header) + b"\n")
    count = 0
    for entry in stored_log(app, engine, batch, upto=size):
        out.write(rfc8785.dumps(entry) + b"\n")
        count += 1
    return count, head


def is_export(first_line: str) -> bool:
    """Whether a file's first line is the header of an export."""
    try:
        header = jsontext.loads(first_line)
    except jsontext.JsonTextError:
        return False
    return isinstance(header, dict) and header.get("format") == FORMAT


@dataclass
class ExportCheck:
    """What reading an export found: its entries, and the first problem if any."""

    entries: list[Chained] = field(default_factory=list)
    leaves: list[str] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    """The file line of each entry."""
    header: dict[str, Any] = field(default_factory=dict)
    head_hash: str | None = None
    bad_line: int | None = None
    bad_position: int | None = None
    problem: str | None = None
    expected: str | None = None
    actual: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None

    def error(self) -> str:
        return f"line {self.bad_line}: {self.problem}"


def read_export(lines: Iterable[str]) -> ExportCheck:
    """Recompute every leaf and chain hash of an export; stop at the first bad line."""
    check = ExportCheck()
    previous, expected_position, header = GENESIS, 1, None
    for number, text in enumerate(lines, start=1):
        if number == 1:
            header = _header(text, check)
            if header is None:
                return check
            check.header = header
            continue
        if not text.strip():
            continue
        problem = _line(text, expected_position, previous, check)
        if problem is not None:
            check.bad_line, check.problem = number, problem
            check.bad_position = check.bad_position or expected_position
            return check
        previous = check.entries[-1].chain
        check.lines.append(number)
        expected_position += 1
    if header is None:
        check.bad_line, check.problem = 1, "the file is empty; expected an export header"
        return check
    check.head_hash = check.entries[-1].chain if check.entries else None
    size = len(check.entries)
    if header.get("treeSize") != size or header.get("headHash") != check.head_hash:
        check.bad_line, check.bad_position = 1, size + 1
        check.problem = (
            f"the header announces {header.get('treeSize')} events and head "
            f"{header.get('headHash')}; the file holds {size} events, head {check.head_hash}"
        )
        check.expected, check.actual = header.get("headHash"), check.head_hash
    return check


def _header(text: str, check: ExportCheck) -> dict[str, Any] | None:
    if not is_export(text):
        check.bad_line = 1
        check.problem = f'not an export: the first line must have "format": "{FORMAT}"'
        return None
    try:
        header: dict[str, Any] = jsontext.loads(text)
    except jsontext.JsonTextError as exc:
        check.bad_line, check.problem = 1, str(exc)
        return None
    if header.get("version") != VERSION:
        check.bad_line = 1
        check.problem = f"export version {header.get('version')} is not {VERSION}"
        return None
    return header


def _line(text: str, position: int, previous: str, check: ExportCheck) -> str | None:
    try:
        entry = jsontext.loads(text)
    except jsontext.JsonTextError as exc:
        return str(exc)
    if not isinstance(entry, dict) or set(entry) != set(FIELDS):
        return f"expected an object with exactly the fields {', '.join(FIELDS)}"
    if entry["schemaVersion"] != SCHEMA_VERSION or type(entry["schemaVersion"]) is not int:
        return f"position {position}: schemaVersion must be {SCHEMA_VERSION}"
    if not all(isinstance(entry[k], str) for k in ("streamId", "topic", "state", "recordedAt")):
        return f"position {position}: streamId, topic, state and recordedAt must be strings"
    if entry["position"] != position:
        check.bad_position = position
        return f"expected position {position}, found {entry['position']}"
    try:
        stored = StoredEvent(
            UUID(entry["streamId"]),
            int(entry["version"]),
            str(entry["topic"]),
            str(entry["state"]).encode("utf-8"),
        )
        payload = payload_of(stored.state)
    except (ValueError, TypeError, AttributeError) as exc:
        return f"position {position}: malformed event ({exc})"
    envelope = Envelope(
        position=position,
        stream_id=str(stored.originator_id),
        version=stored.originator_version,
        event_id=event_id(stored.originator_id, stored.originator_version),
        event_type=event_type(stored.topic),
        schema_version=int(entry["schemaVersion"]),
        recorded_at=str(entry["recordedAt"]),
        payload=payload,
    )
    described = (entry["eventId"], entry["eventType"], entry["payload"])
    if described != (envelope.event_id, envelope.event_type, payload):
        return f"position {position}: eventId, eventType or payload do not match the stored state"
    leaf = leaf_hash(envelope)
    if leaf != entry["leafHash"]:
        check.expected, check.actual = leaf, entry["leafHash"]
        return f"position {position}: leaf hash: expected {leaf}, found {entry['leafHash']}"
    chained = chain_hash(previous, leaf)
    if chained != entry["chainHash"]:
        check.expected, check.actual = chained, entry["chainHash"]
        return f"position {position}: chain hash: expected {chained}, found {entry['chainHash']}"
    check.entries.append(
        Chained(position, stored, envelope.recorded_at, envelope.schema_version, leaf, chained)
    )
    check.leaves.append(leaf)
    return None
