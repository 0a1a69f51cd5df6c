"""`import` of a file written by `export`: the same events, positions, times and hashes."""

from __future__ import annotations

from collections.abc import Iterable

from api.importing import ImportReport
from projections.audit.export import import_export, read_export
from projections.service import Store
from projections.store import ChainMismatch


def import_export_lines(store: Store, lines: Iterable[str]) -> ImportReport:
    """Check every line of an export, then rebuild its log in an empty store."""
    check = read_export(lines)
    report = ImportReport()
    if not check.ok:
        report.errors.append(check.error())
        return report
    try:
        result = import_export(store.app, store.engine, check)
    except ChainMismatch as exc:
        report.errors.append(str(exc))
        return report
    if result.error is not None:
        report.errors.append(result.error)
        return report
    report.imported, report.unchanged = result.imported, result.unchanged
    store.projector.catch_up()
    return report
