"""`import`: validate every line of a JSON Lines file, then store it in batches.

Memory stays flat in the file's length: what validation plans, and the records it has
seen, wait in a private temporary database on disk, not in lists.
"""

from __future__ import annotations

import itertools
import pickle
import sqlite3
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, MutableMapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

from api.importing.exported import import_export_lines
from api.importing.report import ImportReport
from domain import jsontext
from domain.application import write_attempts
from domain.commands import parse_input
from domain.decision import Decision
from domain.errors import ConcurrentWrite, PolicyRecordError
from domain.records import Observation, Statement, Treaty, Weapon
from domain.translation import Translation
from projections import settings
from projections.audit.export import is_export
from projections.eventlog.batching import gc_paused
from projections.readmodels import parallel
from projections.readmodels.projector import Applied, analyze
from projections.readmodels.scratch import scratch_directory
from projections.service import Store

BATCH_LINES = 500
PROJECT_APART_BATCH = 5_000
"""Events per transaction of that second process (at most: it applies what has been saved)."""
RECORD_CACHE = 5_000
"""Records kept in memory during an import's validation, beyond those of the current chunk."""
OP_KINDS = {
    "recordTreaty": Treaty.KIND,
    "recordWeapon": Weapon.KIND,
    "recordDecision": Decision.KIND,
    "correctDecision": Decision.KIND,
    "retractDecision": Decision.KIND,
    "recordStatement": Statement.KIND,
    "recordObservation": Observation.KIND,
    "translateRecord": Translation.KIND,
}
"""The kind of record each operation's `id` names."""
T = TypeVar("T")


@dataclass
class _Planned:
    line: int
    events: list[Any]
    op: str = ""
    raw: Any = None
    """The operation's input as read (parsed again only if the batch must be re-planned)."""


def read_operations(lines: Iterable[str]) -> Iterator[tuple[int, Any, str | None]]:
    """(line number, operation, error) for every non-blank line."""
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            operation = jsontext.loads(text)
        except jsontext.JsonTextError as exc:
            yield number, None, str(exc)
            continue
        if not isinstance(operation, dict) or set(operation) != {"op", "input"}:
            yield number, None, 'expected an object {"op": ..., "input": {...}}'
            continue
        yield number, operation, None


def _chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def import_lines(
    store: Store,
    lines: Iterable[str],
    *,
    batch_lines: int = BATCH_LINES,
    on_batch: Callable[[int, int], None] | None = None,
    record_cache: int = RECORD_CACHE,
    project_apart: int | None = None,
) -> ImportReport:
    """Validate all lines; if every line is valid, save them batch by batch.

    Nothing is stored when any line is invalid. Each batch is one transaction, and the
    projections catch up after it: in this process, or on PostgreSQL, when at least
    `project_apart` lines are new (0: never; None: POLICY_TIMELINE_IMPORT_PROJECT_APART), in
    a second process while this one saves the next batches (PostgreSQL takes both writers at
    once; below the threshold, starting that process costs more than it saves). The import
    returns once every saved event is projected. `on_batch(lines_done, lines_total)` reports
    progress.
    """
    report = ImportReport()
    spill = _Spill()
    try:
        _validate(store, lines, batch_lines, report, spill, record_cache)
        if report.errors:
            report.imported = report.unchanged = 0
            return report
        if project_apart is None:
            project_apart = settings.current().import_project_apart
        apart = store.dialect == "postgresql" and 0 < project_apart <= spill.count
        with _projecting(store, apart) as follower:
            done = last = 0
            for chunk in spill.planned(batch_lines):
                with gc_paused():
                    saved = _save(store, chunk, report)
                if follower is None:
                    store.projector.catch_up(recent=saved)
                elif saved:
                    last = saved[-1].position
                    follower.at(last)
                done += len(chunk)
                if on_batch is not None:
                    on_batch(done, spill.count)
            if follower is not None:
                follower.done(last)
        if follower is not None:
            store.projector.generation += 1  # rows written by the second process
            store.projector.catch_up()  # events another writer saved after the last batch
        if report.imported:
            analyze(store.engine)
        return report
    finally:
        spill.close()


@contextmanager
def _projecting(store: Store, apart: bool) -> Iterator[parallel.Follower | None]:
    """A second process that projects what this one saves (None: this one projects)."""
    if not apart:
        yield None
        return
    with (
        scratch_directory() as folder,
        parallel.following(
            store.engine,
            store.projector.projections,
            folder,
            PROJECT_APART_BATCH,
            role="the import's projecting process",
        ) as follower,
    ):
        yield follower


def _validate(
    store: Store,
    lines: Iterable[str],
    batch_lines: int,
    report: ImportReport,
    spill: _Spill,
    record_cache: int,
) -> None:
    """Pass 1: apply every line to a unit of work without saving; spill what it plans."""
    work = store.unit_of_work()
    records = _SpilledRecords(spill.db, record_cache)
    work.loaded = records  # a mapping that keeps to disk
    for chunk in _chunks(read_operations(lines), batch_lines):
        with gc_paused():  # a chunk's short-lived objects, collected after it
            _validate_chunk(work, chunk, report, spill)
            records.flush()


def _validate_chunk(
    work: Any, chunk: list[tuple[int, Any, str | None]], report: ImportReport, spill: _Spill
) -> None:
    """Apply one chunk of lines to the unit of work; spill its plan while all lines are valid."""
    parsed: list[tuple[int, str, Any, str | None, Any]] = []
    for number, operation, error in chunk:
        op, inp = "", None
        if error is None:
            op = str(operation["op"])
            try:
                inp = parse_input(op, operation["input"])
            except PolicyRecordError as exc:
                error = str(exc)
        parsed.append((number, op, inp, error, operation))
    # One look-up tells which ids of the chunk are new, instead of one load per id.
    work.prefetch(
        (OP_KINDS[op], inp.id) for _, op, inp, _, _ in parsed if op in OP_KINDS and inp is not None
    )
    planned: list[_Planned] = []
    for number, op, inp, error, operation in parsed:
        if error is None:
            try:
                applied = work.apply(op, inp)
            except PolicyRecordError as exc:
                error = str(exc)
            else:
                if applied.outcome == "unchanged":
                    report.unchanged += 1
                else:
                    report.imported += 1
                    planned.append(_Planned(number, applied.events, op, operation["input"]))
        if error is not None:
            report.errors.append(f"line {number}: {error}")
    if not report.errors:  # once a line is rejected nothing is stored: stop spilling
        spill.plan(planned)


class _Spill:
    """A private temporary database on disk for the planned lines and the records seen."""

    def __init__(self) -> None:
        # "" opens a private on-disk database that SQLite deletes when it is closed.
        self.db = sqlite3.connect("")
        self.db.execute("CREATE TABLE planned (seq INTEGER PRIMARY KEY, item BLOB NOT NULL)")
        self.db.execute("CREATE TABLE records (id TEXT PRIMARY KEY, item BLOB NOT NULL)")
        self.count = 0

    def plan(self, items: list[_Planned]) -> None:
        self.db.executemany(
            "INSERT INTO planned (item) VALUES (?)",
            [(pickle.dumps(item, pickle.HIGHEST_PROTOCOL),) for item in items],
        )
        self.count += len(items)

    def planned(self, size: int) -> Iterator[list[_Planned]]:
        """The planned lines in file order, `size` at a time."""
        cursor = self.db.execute("SELECT item FROM planned ORDER BY seq")
        while rows := cursor.fetchmany(size):
            yield [pickle.loads(row[0]) for row in rows]

    def close(self) -> None:
        self.db.close()


class _SpilledRecords(MutableMapping[UUID, Any]):
    """A unit of work's loaded records: those of the current chunk in memory, others on disk.

    A record stays in memory until `flush`, so changes an operation makes to it are kept.
    The most recently used records also stay in a bounded cache, so the ones every line
    names (weapons, treaties, busy decisions) are not read back from disk again and again.
    """

    def __init__(self, db: sqlite3.Connection, cache_size: int = RECORD_CACHE) -> None:
        self.db = db
        self.hot: dict[UUID, Any] = {}
        self.stored: dict[UUID, Any] = {}
        """Version of each hot record as it is on disk: unchanged ones need no write back."""
        self.cache: OrderedDict[UUID, Any] = OrderedDict()
        self.cache_size = cache_size

    def __contains__(self, key: object) -> bool:
        return key in self.hot or key in self.cache or self._row(key) is not None

    def __getitem__(self, key: UUID) -> Any:
        if key not in self.hot:
            if key in self.cache:
                value = self.cache.pop(key)
            else:
                row = self._row(key)
                if row is None:
                    raise KeyError(key)
                value = pickle.loads(row[0])
            self.hot[key] = value
            self.stored[key] = _version(value)
        return self.hot[key]

    def __setitem__(self, key: UUID, value: Any) -> None:
        self.hot[key] = value
        self.cache.pop(key, None)

    def __delitem__(self, key: UUID) -> None:
        self.hot.pop(key, None)
        self.cache.pop(key, None)
        self.stored.pop(key, None)
        self.db.execute("DELETE FROM records WHERE id = ?", (str(key),))

    def __iter__(self) -> Iterator[UUID]:
        self.flush()
        return (UUID(row[0]) for row in self.db.execute("SELECT id FROM records").fetchall())

    def __len__(self) -> int:
        self.flush()
        return int(self.db.execute("SELECT count(*) FROM records").fetchone()[0])

    def flush(self) -> None:
        """Write the new and changed records to disk; keep the latest in the cache."""
        self.db.executemany(
            "INSERT OR REPLACE INTO records (id, item) VALUES (?, ?)",
            [
                (str(k), pickle.dumps(v, pickle.HIGHEST_PROTOCOL))
                for k, v in self.hot.items()
                if k not in self.stored or self.stored[k] != _version(v)
            ],
        )
        self.cache.update(self.hot)
        while len(self.cache) > self.cache_size:
            self.cache.popitem(last=False)
        self.hot.clear()
        self.stored.clear()

    def _row(self, key: object) -> Any:
        return self.db.execute("SELECT item FROM records WHERE id = ?", (str(key),)).fetchone()


def _version(record: Any) -> Any:
    """What tells whether a record changed: its version (None for a known absence)."""
    return None if record is None else (type(record), record.version)


def _save(store: Store, chunk: list[_Planned], report: ImportReport) -> list[Applied]:
    """Save one batch; when another writer recorded some of its records first, apply it again."""
    lines = f"{chunk[0].line}-{chunk[-1].line}"
    for attempt in write_attempts():
        with attempt:
            if attempt.retry_state.attempt_number > 1:
                # Nothing of the batch was stored: re-plan it on top of what the other writer saved.
                chunk = _replan(store, chunk, report)
            return store.save_applied([e for p in chunk for e in p.events])
    raise ConcurrentWrite("batch of lines", lines)


def _replan(store: Store, chunk: list[_Planned], report: ImportReport) -> list[_Planned]:
    work = store.unit_of_work()
    kept = []
    for planned in chunk:
        try:
            applied = work.apply(planned.op, parse_input(planned.op, planned.raw))
        except PolicyRecordError as exc:
            report.imported -= 1
            report.errors.append(
                f"line {planned.line}: {exc} (recorded meanwhile by another writer)"
            )
            continue
        if applied.outcome == "unchanged":  # the other writer recorded the very same thing
            report.imported -= 1
            report.unchanged += 1
            continue
        kept.append(_Planned(planned.line, applied.events, planned.op, planned.raw))
    return kept


def import_file(
    store: Store, path: Path, trusted_keys: Sequence[str] = (), **kwargs: Any
) -> ImportReport:
    """Import a file of operations, or restore an export; bytes that are not UTF-8 are refused
    line by line (they reach the JSON reader as surrogates, which it names)."""
    with path.open(encoding="utf-8", errors="surrogateescape") as handle:
        if is_export(handle.readline()):
            # A file written by `export`: rebuild the identical log instead.
            handle.seek(0)
            return import_export_lines(store, handle, trusted_keys)
        handle.seek(0)
        return import_lines(store, handle, **kwargs)
