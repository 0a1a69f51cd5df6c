"""`import`: all-or-nothing validation, batches, idempotency, crash safety (both backends)."""

from __future__ import annotations

import pytest

from api.importing.commands import import_lines
from projections.service import Store
from tests.conftest import SOURCE, line, migrated, seed_lines


def test_the_seed_story_imports_and_reimports_as_unchanged(store: Store) -> None:
    first = import_lines(store, seed_lines())
    assert first.summary() == f"imported {len(seed_lines())}, unchanged 0, rejected 0"
    head = store.head()
    again = import_lines(store, seed_lines())
    assert again.summary() == f"imported 0, unchanged {len(seed_lines())}, rejected 0"
    assert store.head() == head


def test_a_file_with_invalid_lines_is_refused_whole_with_one_message_per_bad_line(
    store: Store,
) -> None:
    lines = [
        line("recordWeapon", id="atacms", name="ATACMS", category="short-range-ballistic-missile"),
        "{not json",
        line(
            "recordDecision",
            id="d1",
            actor="XXX",
            action="DELIVER",
            decidedOn="2024",
            headline="h",
            sources=SOURCE,
        ),
        line(
            "recordDecision",
            id="d2",
            actor="USA",
            action="DELIVER",
            decidedOn="2024-02-30",
            headline="h",
            sources=SOURCE,
            weapons=[{"system": "atacms"}],
        ),
        line(
            "recordDecision",
            id="d3",
            actor="USA",
            action="DELIVER",
            decidedOn="2024",
            headline="h",
            sources=SOURCE,
            weapons=[{"system": "himars"}],
        ),
        line(
            "recordDecision",
            id="d4",
            actor="USA",
            action="DELIVER",
            decidedOn="2024",
            headline="h",
            sources=[],
        ),
        line(
            "recordStatement",
            id="s1",
            by={"name": "X", "kind": "STATE"},
            about="nothing",
            stance="SUPPORTS",
            sources=SOURCE,
        ),
        '{"op": "dropTables", "input": {}}',
    ]
    report = import_lines(store, lines)
    assert report.errors == [
        "line 2: not valid JSON (Expecting property name enclosed in double quotes at column 2)",
        "line 3: actor: 'XXX' is not an ISO 3166-1 alpha-3 country code",
        "line 4: decidedOn: '2024-02-30' is not a valid calendar date",
        "line 5: weapons.0.system: unknown weapon 'himars'",
        "line 6: sources: at least one source is required",
        "line 7: about: unknown decision 'nothing'",
        "line 8: op: unknown operation 'dropTables'; one of recordTreaty, recordWeapon, "
        "recordDecision, correctDecision, retractDecision, recordStatement, recordObservation, "
        "translateRecord",
    ]
    assert report.summary() == "imported 0, unchanged 0, rejected 7"
    assert store.head() == 0, "nothing may be stored when any line is invalid"


def test_the_same_id_with_different_content_is_rejected_with_a_hint_to_correct(
    store: Store,
) -> None:
    import_lines(store, seed_lines())
    changed = seed_lines()[7].replace("antipersonnel landmines to Ukraine", "mines to Ukraine")
    assert changed != seed_lines()[7]
    report = import_lines(store, [changed])
    assert report.errors == [
        "line 1: decision 'usa-2024-11-20-apl-ukraine' is already recorded with different "
        "content; to change it, record a correction instead"
    ]


def test_lines_may_refer_to_ids_recorded_earlier_in_the_same_file(store: Store) -> None:
    lines = [
        line(
            "recordDecision",
            id="a",
            actor="USA",
            action="ADOPT_POLICY",
            decidedOn="2020",
            headline="a",
            sources=SOURCE,
        ),
        line(
            "recordDecision",
            id="b",
            actor="USA",
            action="SUSPEND",
            decidedOn="2021",
            headline="b",
            sources=SOURCE,
            reverses="a",
        ),
        line("correctDecision", id="b", changes={"headline": "b2"}, reason="typo", sources=SOURCE),
    ]
    assert import_lines(store, lines).summary() == "imported 3, unchanged 0, rejected 0"
    assert import_lines(store, lines).summary() == "imported 0, unchanged 3, rejected 0"
    assert store.read.related(["b"], "reverses", False) == {"b": ["a"]}


def test_each_batch_is_one_transaction(store: Store) -> None:
    lines = [
        line(
            "recordDecision",
            id=f"d{i}",
            actor="USA",
            action="DELIVER",
            decidedOn="2024",
            headline=f"d{i}",
            sources=SOURCE,
        )
        for i in range(10)
    ]
    stamps: list[int] = []
    import_lines(store, lines, batch_lines=4, on_batch=lambda done, total: stamps.append(done))
    assert stamps == [4, 8, 10]
    recorded = {row["recordedAt"] for row in store.read.audit_log(first=100)}
    assert len(recorded) == 3, "events saved together share one transaction time"


class Crash(Exception):
    """Stands for the process dying between two batches."""


def test_a_crash_between_batches_loses_nothing_and_duplicates_nothing(db_url: str) -> None:
    lines = [
        line(
            "recordDecision",
            id=f"d{i}",
            actor="UKR",
            action="DELIVER",
            decidedOn=f"2024-01-{i + 1:02d}",
            headline=f"d{i}",
            sources=SOURCE,
        )
        for i in range(9)
    ]

    def die_after_first_batch(done: int, total: int) -> None:
        raise Crash()

    first = migrated(db_url)
    with pytest.raises(Crash):
        import_lines(first, lines, batch_lines=4, on_batch=die_after_first_batch)
    assert first.head() == 4
    first.close()

    restarted = migrated(db_url)
    report = import_lines(restarted, lines, batch_lines=4)
    assert report.summary() == "imported 5, unchanged 4, rejected 0"
    assert restarted.head() == 9
    page = restarted.read.timeline("country", "UKR", first=100)
    assert [e["decisionId"] for e in page.entries] == [f"d{i}" for i in range(9)]
    restarted.close()


def test_events_saved_but_not_projected_are_projected_after_a_restart(db_url: str) -> None:
    first = migrated(db_url)
    work = first.unit_of_work()
    from domain.commands import parse_input

    data = {
        "id": "x",
        "actor": "USA",
        "action": "DELIVER",
        "decidedOn": "2024",
        "headline": "x",
        "sources": SOURCE,
    }
    first.save(work.apply("recordDecision", parse_input("recordDecision", data)).events)
    assert first.projector.position() == 0  # crashed before projecting
    first.close()

    restarted = migrated(db_url)
    restarted.projector.catch_up()
    assert restarted.read.decision("x") is not None
    assert restarted.projector.catch_up() == 0, "no position is applied twice"
    digests = restarted.projector.digests()
    restarted.projector.rebuild()
    assert restarted.projector.digests() == digests
    restarted.close()
