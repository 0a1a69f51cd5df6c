"""A timeline page's rows read on SQLite's own connection are those SQLAlchemy reads.

`ReadModel.timeline` (every caller: the embeds, GraphQL's compiled and ordinary paths) reads
a page's rows with `timeline_rows`: on SQLite the statement's text, compiled once per shape,
runs on the driver's connection. Compared here with the same statement executed through
SQLAlchemy, for every shape the API asks (kinds, date bounds, cursors both ways, actions,
retracted entries, `asOf`), on hostile data: markup, quotes, control characters and text
outside ASCII in every text field, every form of fuzzy date, dates at the ends of the
calendar, ties on one day, a correction that moves an entry and a retraction."""

from __future__ import annotations

from typing import Any

from api.importing.commands import import_lines
from projections.readmodels.queries import (
    Page,
    _sqlite_timeline,
    load_doc,
    sqlalchemy_timeline_rows,
    timeline_query,
    timeline_rows,
)
from projections.service import Store
from tests.conftest import SOURCE, line

ODD_TEXT = (
    'A <b>&amp; "quoted" \\ back/slash \x01\x08\t\n\x0c\r\x1f\x7f é ü 中 😀 \u2028\u2029 '
    "</script> end ' -- ; DROP TABLE pt_timeline; %s :key ?"
)
DATES = [
    "0001-01-01",
    "0001",
    "1999",
    "1999?",
    "1999~",
    "1999%",
    "1999-03",
    "1999-03?",
    "1999-03-05",
    "1999-03-05~",
    "1999-03-05",  # a tie: the first position decides
    "2024-02-29",
    "9999-12",
    "9999-12-31%",
]


def _lines() -> list[str]:
    lines = [
        line(
            "recordWeapon",
            id="odd-system",
            name=ODD_TEXT,
            designation=ODD_TEXT,
            category="cruise-missile",
            sources=SOURCE,
        )
    ]
    for i, date in enumerate(DATES):
        lines.append(
            line(
                "recordDecision",
                id=f"odd-{i:02d}",
                actor="FRA",
                recipient="UKR",
                action=["PLEDGE", "DELIVER", "AUTHORIZE_USE"][i % 3],
                decidedOn=date,
                headline=f"{ODD_TEXT} {i}",
                summary=ODD_TEXT,
                scope=ODD_TEXT,
                weapons=[{"system": "odd-system"}] if i % 2 else [{"category": "cruise-missile"}],
                sources=[{"publisher": ODD_TEXT, "title": ODD_TEXT, "quote": ODD_TEXT}],
            )
        )
    lines.append(
        line(
            "correctDecision",
            id="odd-03",
            changes={"decidedOn": "2001-07", "headline": f"{ODD_TEXT} corrected"},
            reason=ODD_TEXT,
            sources=SOURCE,
        )
    )
    lines.append(line("retractDecision", id="odd-05", reason=ODD_TEXT, sources=SOURCE))
    return lines


def _shapes(store: Store, middle: int) -> list[tuple[str, str, dict[str, Any]]]:
    """Arguments for every shape of timeline page, cursors taken from real pages."""
    first_page = store.read.timeline("country", "FRA", first=4, include_retracted=True)
    assert len(first_page.entries) == 4 and first_page.has_next
    after, before = first_page.cursor(-1), first_page.cursor(1)
    shapes: list[tuple[str, str, dict[str, Any]]] = []
    for kind, key in (("country", "FRA"), ("country", "UKR"), ("system", "odd-system")):
        shapes.append((kind, key, {"first": 100}))
        shapes.append((kind, key, {"first": 0}))
    shapes.append(("category", "cruise-missile", {"first": 100, "include_retracted": True}))
    shapes.append(("country", "NZL", {"first": 10}))  # nothing at all
    for include_retracted in (False, True):
        for as_of in (None, middle):
            common = {"include_retracted": include_retracted, "as_of": as_of}
            shapes += [
                ("country", "FRA", {"first": 3, **common}),
                ("country", "FRA", {"first": 3, "after": after, **common}),
                ("country", "FRA", {"first": 2, "before": after, **common}),
                ("country", "FRA", {"first": 5, "before": before, **common}),
                ("country", "FRA", {"first": 100, "from_": "1999", "to": "1999-03", **common}),
                ("country", "FRA", {"first": 100, "from_": "1999-03-05", **common}),
                ("country", "FRA", {"first": 100, "to": "0001-06", **common}),
                ("country", "FRA", {"first": 4, "from_": "1999", "after": after, **common}),
                ("country", "FRA", {"first": 100, "actions": ["PLEDGE", "DELIVER"], **common}),
            ]
    return shapes


def test_timeline_rows_on_the_driver_are_those_sqlalchemy_reads(store: Store) -> None:
    report = import_lines(store, _lines()[:-2])
    assert not report.errors, report.errors
    middle = store.head()
    report = import_lines(store, _lines()[-2:])
    assert not report.errors, report.errors
    sqlite = store.dialect == "sqlite"
    compared = on_driver = 0
    with store.read.engine.connect() as conn:
        for kind, key, arguments in _shapes(store, middle):
            query = timeline_query(kind, key, **arguments)
            expected = sqlalchemy_timeline_rows(conn, query)
            found = timeline_rows(conn, query)
            assert found == expected, (kind, key, arguments)
            assert all([type(v) for v in row] == [str, str, int] for row in found)
            compared += len(found)
            if sqlite and _sqlite_timeline(query) is not None:
                on_driver += len(found)
            # And the page `ReadModel.timeline` answers is built from those rows.
            page = store.read.timeline(kind, key, **arguments)
            rows = expected[: query.first]
            if query.backwards:
                rows.reverse()
            assert page == Page(
                entries=[load_doc(doc) for doc, _, _ in rows],
                keys=[(earliest, position) for _, earliest, position in rows],
                has_next=True if query.backwards else len(expected) > query.first,
                has_previous=len(expected) > query.first if query.backwards else query.has_previous,
            )
    assert compared > 100
    if sqlite:  # every shape but the one with actions (an expanding list) ran on the driver
        assert on_driver > 80
    headlines = [e["headline"] for e in store.read.timeline("country", "FRA", first=100).entries]
    assert f"{ODD_TEXT} corrected" in headlines and f"{ODD_TEXT} 5" not in headlines
