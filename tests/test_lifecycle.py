"""A store's lifecycle is the caller's: opening creates nothing, `migrate` creates the tables,
`rebuild_if_stale` rebuilds projections whose code changed. Both backends."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import delete, func, inspect, select

from api.importing.commands import import_lines
from projections.readmodels import tables
from projections.readmodels.history import HistoryProjection
from projections.readmodels.membership import MembershipProjection
from projections.readmodels.timelines import TimelineProjection
from projections.service import Store
from tests.conftest import seed_lines

LOG_TABLES = {"policyrecord_events", "policy_log", "policy_merkle", "policy_verifications"}


def _tables(store: Store) -> set[str]:
    with store.engine.connect() as conn:
        return set(inspect(conn).get_table_names())


def test_opening_creates_no_table_and_migrate_creates_every_one_once(db_url: str) -> None:
    store = Store(db_url)
    try:
        assert _tables(store) == set()
        store.migrate()
        created = _tables(store)
        assert created >= LOG_TABLES
        assert {"pt_tracking", "pt_projection_versions"} <= created
        assert store.head() == 0 and store.read_position() == 0
        store.migrate()  # a second run (another process starting) changes nothing
        assert _tables(store) == created
    finally:
        store.close()


def test_opening_a_sqlite_store_creates_no_folder_migrate_does(tmp_path: Path) -> None:
    folder = tmp_path / "not-yet"
    store = Store(f"sqlite:///{folder / 'store.sqlite3'}")
    try:
        assert not folder.exists()
        store.migrate()
        assert (folder / "store.sqlite3").is_file()
        assert store.durability == "ok"
    finally:
        store.close()


class _Changed(TimelineProjection):
    version = TimelineProjection.version + 1


def _timeline_rows(store: Store) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(tables.timeline)).scalar_one())


def test_a_changed_projection_is_rebuilt_only_when_the_caller_says_so(db_url: str) -> None:
    first = Store(db_url)
    first.migrate()
    assert first.rebuild_if_stale() is None  # the first run only records the versions
    import_lines(first, seed_lines())
    with first.engine.begin() as conn:
        conn.execute(delete(tables.timeline))  # rows a rebuild would bring back
    first.close()

    changed = Store(db_url, projections=[_Changed(), MembershipProjection(), HistoryProjection()])
    try:
        changed.migrate()
        assert _timeline_rows(changed) == 0  # opening and migrating rebuilt nothing
        rebuilt = changed.rebuild_if_stale()
        assert rebuilt is not None and rebuilt.position == changed.head()
        assert _timeline_rows(changed) > 0
        assert changed.rebuild_if_stale() is None  # the new versions are recorded
    finally:
        changed.close()
