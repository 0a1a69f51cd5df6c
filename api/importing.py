"""`import`: validate every line of a JSON Lines file, then store it in batches."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from domain.commands import parse_input
from domain.errors import PolicyRecordError
from projections.audit.export import is_export
from projections.service import Store

BATCH_LINES = 500


@dataclass
class ImportReport:
    """What an import did, line by line."""

    imported: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        return len(self.errors)

    def summary(self) -> str:
        return f"imported {self.imported}, unchanged {self.unchanged}, rejected {self.rejected}"


@dataclass
class _Planned:
    line: int
    events: list[Any]


def read_operations(lines: Iterable[str]) -> Iterator[tuple[int, Any, str | None]]:
    """(line number, operation, error) for every non-blank line."""
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            operation = json.loads(text)
        except json.JSONDecodeError as exc:
            yield number, None, f"not valid JSON ({exc.msg} at column {exc.colno})"
            continue
        if not isinstance(operation, dict) or set(operation) != {"op", "input"}:
            yield number, None, 'expected an object {"op": ..., "input": {...}}'
            continue
        yield number, operation, None


def import_lines(
    store: Store,
    lines: Iterable[str],
    *,
    batch_lines: int = BATCH_LINES,
    on_batch: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Validate all lines; if every line is valid, save them batch by batch.

    Nothing is stored when any line is invalid. Each batch is one transaction, and the
    projections catch up after it; `on_batch(lines_done, lines_total)` reports progress.
    """
    report = ImportReport()
    work = store.unit_of_work()
    planned: list[_Planned] = []
    for number, operation, error in read_operations(lines):
        if error is None:
            try:
                inp = parse_input(str(operation["op"]), operation["input"])
                applied = work.apply(str(operation["op"]), inp)
            except PolicyRecordError as exc:
                error = str(exc)
            else:
                if applied.outcome == "unchanged":
                    report.unchanged += 1
                else:
                    report.imported += 1
                    planned.append(_Planned(number, applied.events))
        if error is not None:
            report.errors.append(f"line {number}: {error}")
    if report.errors:
        report.imported = report.unchanged = 0
        return report
    done = 0
    for start in range(0, len(planned), batch_lines):
        chunk = planned[start : start + batch_lines]
        store.save([e for p in chunk for e in p.events])
        store.projector.catch_up()
        done += len(chunk)
        if on_batch is not None:
            on_batch(done, len(planned))
    return report


def import_file(store: Store, path: Path, **kwargs: Any) -> ImportReport:
    with path.open(encoding="utf-8") as handle:
        if is_export(handle.readline()):
            # A file written by `export`: rebuild the identical log instead.
            from api.audit_import import import_export_lines

            handle.seek(0)
            return import_export_lines(store, handle)
        handle.seek(0)
        return import_lines(store, handle, **kwargs)
