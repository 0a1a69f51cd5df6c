"""`import` streams: records changed in one batch are seen by later ones; memory stays flat."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from api.importing.commands import import_lines
from bench.generator import lines
from projections.service import Store
from tests.conftest import SOURCE, line, migrated

SPEAKER = {"name": "Ministry", "kind": "STATE", "country": "RUS"}
STORY = [
    line("recordWeapon", id="atacms", name="ATACMS", category="short-range-ballistic-missile"),
    line(
        "recordDecision",
        id="a",
        actor="USA",
        action="DELIVER",
        decidedOn="2024",
        headline="a",
        sources=SOURCE,
        weapons=[{"system": "atacms"}],
    ),
    line("correctDecision", id="a", changes={"headline": "a2"}, reason="typo", sources=SOURCE),
    line("correctDecision", id="a", changes={"headline": "a2"}, reason="typo", sources=SOURCE),
    line("correctDecision", id="a", changes={"headline": "a3"}, reason="again", sources=SOURCE),
    line("recordStatement", id="s", about="a", by=SPEAKER, stance="CONDEMNS", sources=SOURCE),
    line("retractDecision", id="a", reason="never happened", sources=SOURCE),
]


def test_a_record_changed_in_one_batch_is_seen_as_changed_by_every_later_batch(
    store: Store,
) -> None:
    report = import_lines(store, STORY, batch_lines=1)
    assert report.errors == []
    # The repeated correction finds the headline already corrected, many batches later.
    assert report.summary() == "imported 6, unchanged 1, rejected 0"
    assert store.head() == 6
    again = import_lines(store, STORY, batch_lines=2)
    assert again.summary() == "imported 0, unchanged 7, rejected 0"
    assert store.head() == 6


def test_a_bad_line_in_the_last_batch_of_a_long_file_stores_nothing(store: Store) -> None:
    bad = line(
        "recordStatement", id="t", about="nowhere", by=SPEAKER, stance="NEUTRAL", sources=SOURCE
    )
    report = import_lines(store, [*lines(120, seed=2), bad], batch_lines=10)
    assert report.summary() == "imported 0, unchanged 0, rejected 1"
    assert report.errors[0].startswith("line 121: ") and "nowhere" in report.errors[0]
    assert store.head() == 0


def peak_import_memory(path: Path, operations: int) -> int:
    """Peak bytes Python allocated while importing `operations` generated lines."""
    store = migrated(f"sqlite:///{path}")
    try:
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        # The record cache is bounded (RECORD_CACHE); sized down here so that its filling up
        # does not hide any other growth.
        report = import_lines(store, lines(operations, seed=0), batch_lines=100, record_cache=50)
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
        store.close()
    assert report.errors == []
    return peak


@pytest.mark.slow  # thousands of imported lines under tracemalloc
def test_import_memory_does_not_grow_with_the_length_of_the_file(tmp_path: Path) -> None:
    # The memory is the import's own, whatever the backend: SQLite stores suffice here.
    peak_import_memory(tmp_path / "warm.sqlite3", 200)  # caches every import fills once
    small = peak_import_memory(tmp_path / "small.sqlite3", 400)
    big = peak_import_memory(tmp_path / "big.sqlite3", 1600)
    # Four times the lines: holding every planned line in memory made this 3.3 times.
    assert big < 2 * small, (small, big)
