"""Batched projection writes: an import in many small batches projects what a replay does."""

from __future__ import annotations

from sqlalchemy import func, select

from api.importing.commands import import_lines
from bench.generator import lines
from projections.readmodels import tables
from projections.service import Store


def count(store: Store, table: object) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def test_an_import_in_small_batches_projects_exactly_what_a_rebuild_does(store: Store) -> None:
    # Batches of 37 lines end mid-way through corrections, treaty actions and transfers.
    report = import_lines(store, lines(600, seed=3, treaty_share=0.5), batch_lines=37)
    assert report.errors == [] and report.imported > 0
    assert count(store, tables.membership) > 0 and count(store, tables.compliance_flags) > 0
    incremental = store.projector.digests()
    store.projector.rebuild()
    assert store.projector.digests() == incremental
    with store.engine.begin() as conn:
        for table in reversed(tables.metadata.sorted_tables):
            conn.execute(table.delete())
    store.projector.catch_up(batch=13)
    assert store.projector.digests() == incremental


def test_importing_the_same_file_again_changes_nothing(store: Store) -> None:
    data = list(lines(300, seed=4))
    first = import_lines(store, data)
    head, digests = store.head(), store.projector.digests()
    again = import_lines(store, data)
    assert (again.imported, again.unchanged, again.errors) == (0, first.imported, [])
    assert store.head() == head and store.projector.digests() == digests
