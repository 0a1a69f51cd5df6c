"""The history rows have a projection of their own: the rows are the ones the timelines
projection wrote up to its version 4, and a store built before opens into them.

Both backends. The expected digests were taken from stores loaded by the code before the
split (version 4 of the timelines projection); they cover every column but `recorded_at`,
the time each event was recorded, which differs from one load to the next."""

from __future__ import annotations

import hashlib

from sqlalchemy import delete, select, update

from api.importing.commands import import_lines
from bench.generator import lines
from projections.readmodels import tables
from projections.readmodels.history import HistoryProjection
from projections.readmodels.parallel import rebuild
from projections.readmodels.timelines import TimelineProjection
from projections.service import Store
from tests.conftest import migrated

GENERATED = ("2befd0df807c20a593fb8440707662593deccc6e8bae1c320687d87d668744cf", 1381)
"""`bench.generator.lines(2000, seed=7, treaty_share=0.3)` imported, by the code before."""

BUNDLED = ("2ecb68316e72ab3ec5cba732a320d6dcc6c0a7c44d9bc1e085295af8ca959a05", 1593)
"""What `serve --seed` loads (story, membership, translations), by the code before."""


def history_digest(store: Store) -> tuple[str, int]:
    """A SHA-256 of `pt_history`'s rows without `recorded_at`, and how many rows."""
    h = tables.history
    columns = [c for c in h.c if c.name != "recorded_at"]
    with store.engine.connect() as conn:
        rows = sorted(repr(tuple(row)) for row in conn.execute(select(*columns)))
    digest = hashlib.sha256()
    for row in rows:
        digest.update(row.encode())
    return digest.hexdigest(), len(rows)


def event_types(store: Store) -> set[str]:
    h = tables.history
    with store.engine.connect() as conn:
        return {str(t) for t in conn.execute(select(h.c.event_type).distinct()).scalars()}


def test_history_rows_equal_those_the_timelines_projection_wrote(store: Store) -> None:
    import_lines(store, list(lines(2000, seed=7, treaty_share=0.3)))
    assert event_types(store) == {"Recorded", "Corrected", "Retracted", "Translated"}
    assert history_digest(store) == GENERATED
    rebuild(store.projector, jobs=2, batch=150)  # the history in the second process
    assert history_digest(store) == GENERATED


def test_translated_steps_equal_those_the_timelines_projection_wrote(
    bundled_load: tuple[Store, int],
) -> None:
    store = bundled_load[0]
    assert "Translated" in event_types(store)
    assert history_digest(store) == BUNDLED


def test_a_store_built_before_the_history_projection_rebuilds_into_the_same_rows(
    db_url: str,
) -> None:
    store = migrated(db_url)
    import_lines(store, list(lines(600, seed=3)))
    before = store.projector.digests()
    head = store.head()
    # What a store written by the code before holds: the history rows, written by version
    # 4 of the timelines projection, and no tracking or version row of a history projection.
    v, t = tables.projection_versions, tables.tracking
    with store.engine.begin() as conn:
        conn.execute(update(v).where(v.c.projection == "timelines").values(version=4))
        conn.execute(delete(v).where(v.c.projection == HistoryProjection.name))
        conn.execute(delete(t).where(t.c.projection == HistoryProjection.name))
    store.close()

    opened = migrated(db_url)
    try:
        assert opened.projector.digests() == before
        assert opened.projector.positions() == {
            "timelines": head,
            "membership": head,
            "history": head,
        }
        with opened.engine.connect() as conn:
            versions = dict(conn.execute(select(v.c.projection, v.c.version)).tuples().all())
        assert versions["timelines"] == TimelineProjection.version
        assert versions["history"] == HistoryProjection.version
        opened.projector.catch_up()  # and it goes on from there
        assert opened.projector.position() == head
    finally:
        opened.close()
