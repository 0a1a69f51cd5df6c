"""Rebuild with swap: fresh tables from the log, swapped in whole, digests equal to live ones."""

from __future__ import annotations

import threading

from sqlalchemy import delete, select
from typer.testing import CliRunner

from api.cli.main import app as cli
from api.importing.commands import import_lines
from projections.audit.checks import verify_store
from projections.readmodels import tables
from projections.readmodels.history import HistoryProjection
from projections.readmodels.membership import MembershipProjection
from projections.readmodels.rebuild import rebuild
from projections.readmodels.timelines import TimelineProjection
from projections.service import Store
from tests.conftest import SOURCE, line, migrated, seed_lines

APL = "usa-2024-11-20-apl-ukraine"


class TimelinesV2(TimelineProjection):
    """The timelines projection after a code change that alters what it writes."""

    version = TimelineProjection.version + 1


def ukraine(store: Store) -> list[str]:
    """The ids on Ukraine's country timeline, as readers see them."""
    page = store.read.timeline("country", "UKR", first=100)
    return [e["decisionId"] for e in page.entries]


def drop_apl_from_the_timeline(store: Store) -> None:
    """Damage the live projection behind the projector's back, so a rebuild is visible."""
    t = tables.timeline
    with store.engine.begin() as conn:
        conn.execute(delete(t).where(t.c.decision_id == APL))


def stored_versions(store: Store) -> dict[str, int]:
    v = tables.projection_versions
    with store.engine.connect() as conn:
        return {n: int(x) for n, x in conn.execute(select(v.c.projection, v.c.version))}


def test_replay_prints_a_digest_per_table_equal_to_the_incrementally_built_ones(
    db_url: str,
) -> None:
    store = migrated(db_url)
    import_lines(store, seed_lines())
    incremental = store.projector.digests()
    head = store.head()
    store.close()
    result = CliRunner().invoke(cli, ["replay", "--db", db_url])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"replayed {head} events up to position {head}"
    printed = dict(entry.split(": ") for entry in lines[1:])
    assert printed == incremental
    assert set(printed) == {t.name for t in tables.metadata.sorted_tables} - {"pt_tracking"}
    reopened = migrated(db_url)
    assert reopened.projector.digests() == incremental
    assert reopened.projector.position() == head
    reopened.close()


def test_a_rebuild_repairs_damaged_projections_and_writes_continue_incrementally(
    store: Store,
) -> None:
    import_lines(store, seed_lines())
    healthy = store.projector.digests()
    drop_apl_from_the_timeline(store)
    assert APL not in ukraine(store)
    rebuilt = rebuild(store)
    assert rebuilt.digests == healthy == store.projector.digests()
    assert APL in ukraine(store)
    import_lines(
        store, [line("retractDecision", id=APL, reason="recorded in error", sources=SOURCE)]
    )
    assert APL not in ukraine(store)
    assert verify_store(store).ok


def test_replay_until_a_position_equals_the_in_place_rebuild_up_to_it(store: Store) -> None:
    import_lines(store, seed_lines())
    until = store.head() - 4
    rebuilt = rebuild(store, until=until)
    assert rebuilt.position == until and rebuilt.events == until
    assert store.projector.position() == until
    swapped = store.projector.digests()
    store.projector.rebuild(until=until)
    assert store.projector.digests() == swapped == rebuilt.digests
    store.projector.catch_up()
    assert store.projector.position() == store.head()


def test_readers_see_the_old_or_the_new_projection_during_a_rebuild_never_a_half(
    store: Store,
) -> None:
    import_lines(store, seed_lines())
    new = ukraine(store)
    drop_apl_from_the_timeline(store)
    old = ukraine(store)
    assert old != new
    seen: list[list[str]] = []
    done = threading.Event()

    def read_until_done() -> None:
        while not done.is_set():
            seen.append(ukraine(store))
        seen.append(ukraine(store))

    reader = threading.Thread(target=read_until_done)
    reader.start()
    try:
        rebuild(store)
    finally:
        done.set()
        reader.join()
    assert seen and all(answer in (old, new) for answer in seen)
    assert seen[-1] == new


def test_a_projection_whose_code_version_changes_rebuilds_itself_at_start(db_url: str) -> None:
    first = migrated(db_url)
    import_lines(first, seed_lines())
    healthy = first.projector.digests()
    assert stored_versions(first) == {
        "timelines": TimelineProjection.version,
        "membership": MembershipProjection.version,
        "history": HistoryProjection.version,
    }
    drop_apl_from_the_timeline(first)
    first.close()

    same = migrated(db_url)  # same code versions: the rows stay as they are
    assert APL not in ukraine(same)
    same.close()

    bumped = migrated(
        db_url, projections=[TimelinesV2(), MembershipProjection(), HistoryProjection()]
    )
    assert APL in ukraine(bumped)
    assert bumped.projector.digests() == healthy
    assert stored_versions(bumped) == {
        "timelines": TimelinesV2.version,
        "membership": MembershipProjection.version,
        "history": HistoryProjection.version,
    }
    bumped.close()


def test_the_first_open_of_an_existing_store_only_records_the_versions(db_url: str) -> None:
    store = migrated(db_url)
    import_lines(store, seed_lines())
    v = tables.projection_versions
    with store.engine.begin() as conn:
        conn.execute(delete(v))
    drop_apl_from_the_timeline(store)
    store.close()
    opened = migrated(db_url)
    assert stored_versions(opened) == {
        "timelines": TimelineProjection.version,
        "membership": MembershipProjection.version,
        "history": HistoryProjection.version,
    }
    assert APL not in ukraine(opened)  # nothing rebuilt: no version was known to differ
    opened.close()
