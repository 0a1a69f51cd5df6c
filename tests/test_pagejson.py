"""Timeline edges written as JSON by PostgreSQL are the bytes the Python path answers.

On PostgreSQL a compiled timeline page asked over HTTP (`spliced`) has the statement write
each edge's JSON (`projections.readmodels.pagejson`); on SQLite the Python path answers.
Either way the answer, encoded as the server encodes it, must be ordinary execution's, byte
for byte, including for documents holding what the API's own encoding escapes (markup,
quotes, backslashes, control characters, text outside ASCII, U+2028/9) and for documents
whose values the statement does not write (then the Python path or ordinary execution
answers, with the same bytes)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import text
from strawberry.http import process_result

from api.graphql.build import build_schema
from api.graphql.compiled import CompiledPath
from api.graphql.context import Context
from api.http.app import create_app
from api.importing.commands import import_file
from api.text.htmlsafe import html_safe_json, html_safe_json_bytes
from projections.service import Store
from tests.conftest import SEED
from tests.graphql_support import serving

SCHEMA = build_schema()
LOOP = asyncio.new_event_loop()

ENTRY = (
    "__typename decisionId headline certainty action actor recipient treaty scope role status"
    " position recordedAt weapons { __typename system category } kind: weapons { category }"
    " date { __typename edtf precision earliest latest uncertain approximate display }"
    ' day: date { display(lang: "fr") edtf }'
)
QUERY = (
    "query P($c: String!, $n: Int, $after: String) { __typename"
    " page: countryTimeline(country: $c, first: $n, after: $after) { __typename"
    f" edges {{ __typename cursor n: node {{ {ENTRY} }} c2: cursor }}"
    " pageInfo { __typename hasNextPage hasPreviousPage startCursor endCursor } } }"
)
ODD_TEXT = (
    'A <b>&amp; "quoted" \\ back/slash \x01\x08\t\n\x0c\r\x1f\x7f é ü 中 😀 \u2028\u2029 '
    "</script> end"
)


@pytest.fixture
def seeded(store: Store) -> Iterator[Store]:
    import_file(store, SEED)
    yield store


def _ordinary_bytes(store: Store, query: str, variables: dict[str, Any]) -> bytes:
    """Ordinary execution's answer as the server encodes it (Strawberry's encoder, made
    HTML-safe)."""
    result = LOOP.run_until_complete(
        SCHEMA.execute(query, variable_values=variables, context_value=Context(store=store))
    )
    return html_safe_json(json.dumps(process_result(result), separators=(",", ":"))).encode()


def _compiled_bytes(compiled: CompiledPath, query: str, variables: dict[str, Any]) -> bytes | None:
    result = LOOP.run_until_complete(compiled.execute(query, variables, None, spliced=True))
    return None if result is None else html_safe_json_bytes(process_result(result))


def _path(store: Store) -> CompiledPath:
    return CompiledPath(SCHEMA._schema, SCHEMA.validated_documents, lambda: store.read)


def test_spliced_pages_are_ordinary_executions_bytes(seeded: Store) -> None:
    """Whole pages, later pages and empty ones, with every field of an entry, aliases and
    `__typename` at each level: PostgreSQL writes the edges, and the bytes are ordinary
    execution's."""
    compiled = _path(seeded)
    first = seeded.read.timeline("country", "UKR", first=2)
    requests: list[dict[str, Any]] = [
        {"c": "UKR", "n": 50},
        {"c": "UKR", "n": 2},
        {"c": "UKR", "n": 2, "after": first.cursors[-1]},
        {"c": "USA"},
        {"c": "FRA", "n": 5},
        {"c": "UKR", "n": 0},
    ]
    for variables in requests:
        expected = _ordinary_bytes(seeded, QUERY, variables)
        assert b'"errors"' not in expected
        assert _compiled_bytes(compiled, QUERY, variables) == expected, variables
    assert compiled.answered == len(requests)
    assert compiled.spliced == (len(requests) if seeded.dialect == "postgresql" else 0)


AFTER_A_DATE = [
    "decisionId",
    "headline",
    "scope",
    "treaty",
    "recipient",
    "certainty",
    "role",
    "position",
    "recordedAt",
    "weapons { category }",
    "__typename",
    "day: date { edtf }",
]


@pytest.mark.parametrize("field", AFTER_A_DATE)
def test_a_field_right_after_a_date_is_written_by_the_statement(seeded: Store, field: str) -> None:
    """The text after a date's slot starts a new column: each kind of value written first
    in it (a string read from the document above all) is still text, so the statement writes
    the page (on PostgreSQL) and the bytes are ordinary execution's."""
    compiled = _path(seeded)
    query = (
        "query P($c: String!) { countryTimeline(country: $c, first: 5) {"
        f" edges {{ node {{ date {{ edtf }} {field} }} }} }} }}"
    )
    expected = _ordinary_bytes(seeded, query, {"c": "UKR"})
    assert b'"errors"' not in expected
    assert _compiled_bytes(compiled, query, {"c": "UKR"}) == expected
    assert compiled.spliced == int(seeded.dialect == "postgresql")


def _set(name: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        doc[name] = value

    return change


def _drop(name: str) -> Callable[[dict[str, Any]], None]:
    return lambda doc: doc.pop(name)


WEAPON = {"system": "system-<1>", "category": "cluster-munition"}
ODD_DOCUMENTS: list[tuple[str, Callable[[dict[str, Any]], None], bool]] = [
    # (what, the change, whether the statement writes it: else another path answers)
    ("markup, quotes, control characters and text outside ASCII", _set("headline", ODD_TEXT), True),
    ("the same in nullable fields", _set("scope", ODD_TEXT), True),
    ("a treaty with markup", _set("treaty", "<t>&"), True),
    ("no recipient", _set("recipient", None), True),
    ("no certainty member: OFFICIAL", _drop("certainty"), True),
    ("another certainty", _set("certainty", "DISPUTED"), True),
    ("a null certainty (an error)", _set("certainty", None), False),
    ("no role member: ACTOR", _drop("role"), True),
    ("a null role: ACTOR", _set("role", None), True),
    ("an empty role: ACTOR", _set("role", ""), False),
    ("an unknown action (an error)", _set("action", "BOGUS"), False),
    ("an unknown status (an error)", _set("status", 7), False),
    ("a headline that is a number", _set("headline", 12), False),
    ("no scope member", _drop("scope"), True),
    ("a scope that is a list", _set("scope", ["x"]), False),
    ("a position of 31 bits", _set("position", 2**31 - 1), True),
    ("a negative position", _set("position", -5), True),
    ("a position past 32 bits", _set("position", 2**31), False),
    ("a fractional position", _set("position", 1.5), False),
    ("recorded on the second", _set("recordedAt", "2026-12-03T13:22:59.000000Z"), True),
    ("recorded with an offset", _set("recordedAt", "2026-12-03T13:22:59.5+00:00"), False),
    ("recorded on a leap day", _set("recordedAt", "2024-02-29T23:59:59.999999Z"), True),
    (
        "recorded at a leap second (an error)",
        _set("recordedAt", "2024-02-29T23:59:60.000000Z"),
        False,
    ),
    (
        "recorded on no calendar day (an error)",
        _set("recordedAt", "2023-02-29T10:00:00.000000Z"),
        False,
    ),
    ("no weapons", _set("weapons", []), True),
    ("one weapon without a system", _set("weapons", [{"system": None, "category": "x"}]), True),
    ("three weapons", _set("weapons", [WEAPON] * 3), True),
    ("four weapons", _set("weapons", [WEAPON, {"category": "y", "system": "é"}] * 2), True),
    ("nine weapons", _set("weapons", [WEAPON] * 9), True),
    ("a weapon that is text", _set("weapons", ["x"]), False),
    ("weapons as text", _set("weapons", "x"), False),
    ("one of five weapons without a category", _set("weapons", [WEAPON] * 4 + [{}]), False),
    ("a date without EDTF (an error)", _set("date", {"edtf": None}), False),
    ("no date", _set("date", None), False),
    ("an approximate date", _set("date", {"edtf": "1997-09~"}), True),
]


@pytest.mark.parametrize(
    ("what", "change", "written"), ODD_DOCUMENTS, ids=[what for what, _, _ in ODD_DOCUMENTS]
)
def test_odd_documents_are_answered_as_ordinary_execution_answers_them(
    seeded: Store, what: str, change: Callable[[dict[str, Any]], None], written: bool
) -> None:
    """A stored entry changed in place (values the import never writes included): the
    answer is ordinary execution's bytes, whichever path gives it; on PostgreSQL the
    statement writes the values it can and leaves the others to the Python path."""
    page = seeded.read.timeline("country", "UKR", first=50)
    target = page.entries[1]
    with seeded.engine.begin() as conn:
        stored = conn.execute(
            text(
                "SELECT doc FROM pt_timeline WHERE kind = 'country' AND key = 'UKR'"
                " AND decision_id = :id AND valid_to IS NULL"
            ),
            {"id": target["decisionId"]},
        ).scalar_one()
        doc = json.loads(stored)
        change(doc)
        conn.execute(
            text(
                "UPDATE pt_timeline SET doc = :doc WHERE kind = 'country' AND key = 'UKR'"
                " AND decision_id = :id AND valid_to IS NULL"
            ),
            {"doc": json.dumps(doc, ensure_ascii=False), "id": target["decisionId"]},
        )
    compiled = _path(seeded)
    variables = {"c": "UKR", "n": 50}
    expected = _ordinary_bytes(seeded, QUERY, variables)
    try:
        answered = _compiled_bytes(compiled, QUERY, variables)
    finally:
        assert compiled.spliced == int(written and seeded.dialect == "postgresql"), what
    if answered is None:  # declined: ordinary execution's answer is the answer
        assert not written
    else:
        assert answered == expected, what


def test_over_http_the_spliced_answer_is_the_uncompiled_servers(seeded: Store) -> None:
    """Two real servers, the compiled path on and off: the same bytes for the page with text
    that needs escaping; on PostgreSQL the compiled one had the statement write its edges."""
    with seeded.engine.begin() as conn:
        rows = conn.execute(
            text("SELECT decision_id, doc FROM pt_timeline WHERE kind = 'country'")
        ).all()
        for decision_id, stored in rows:
            doc = json.loads(stored)
            doc["headline"] = ODD_TEXT + decision_id
            conn.execute(
                text(
                    "UPDATE pt_timeline SET doc = :doc WHERE decision_id = :id AND kind = 'country'"
                ),
                {"doc": json.dumps(doc, ensure_ascii=False), "id": decision_id},
            )
    answers = []
    for on in (True, False):
        app = create_app(seeded, response_cache=None, compiled=on)
        app.state.response_cache.max_entries = 0  # every request executes
        with serving(app) as client:
            answers.append(
                [
                    client.post(
                        "/graphql", json={"query": QUERY, "variables": {"c": c, "n": 50}}
                    ).content
                    for c in ("UKR", "USA", "UKR")
                ]
            )
        if on:
            path = app.state.graphql.compiled
            assert path.answered == 2  # the first request validated the text
            assert path.spliced == (2 if seeded.dialect == "postgresql" else 0)
    assert answers[0] == answers[1]
    assert b"\\u003cb\\u003e" in answers[0][0] and b"\\ud83d\\ude00" in answers[0][0]
