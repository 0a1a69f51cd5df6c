"""The compiled timeline path answers exactly what graphql-core's execution answers.

Hypothesis writes timeline queries the way clients do (aliases, inline fragments with and
without a type, named fragments, `@include`/`@skip` on literals and variables, arguments as
literals or variables, `__typename` at every level, arguments that are refused) and each one
runs through ordinary execution first (which validates it), then through the compiled path:
its answer must be the same bytes, and it must answer every covered query that has no error.
Timeline pages are asked as the server asks them (`spliced`: on PostgreSQL the statement
writes the edges' JSON) and both answers are encoded as the server encodes them.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text as sql
from strawberry.http import process_result

from api.graphql.build import build_schema
from api.graphql.compiled import CompiledPath
from api.graphql.context import Context
from api.http.app import create_app
from api.importing.commands import import_file
from api.text.htmlsafe import html_safe_json, html_safe_json_bytes
from bench.generator import TREATIES, decision_id, lines
from projections.service import Store
from tests.conftest import SEED
from tests.graphql_support import serving

ENTRY_LEAVES = [
    "decisionId",
    "certainty",
    "action",
    "actor",
    "recipient",
    "treaty",
    "role",
    "status",
    "position",
    "recordedAt",
]
DATE_LEAVES = ["edtf", "precision", "earliest", "latest", "uncertain", "approximate"]
ALIASES = ["a", "b", "x1", "node", "edtf"]
COUNTRIES = ["UKR", "UKR", "UKR", "USA", "RUS", "FRA", "XXX", "ukr"]


@dataclass
class Query:
    """A query being written: its fragments, variables and whether it may be compiled."""

    fragments: list[str] = field(default_factory=list)
    variables: dict[str, Any] = field(default_factory=dict)
    definitions: dict[str, str] = field(default_factory=dict)
    translated: bool = False  # asks for a language: the ordinary resolver answers it

    def variable(self, type_: str, value: Any) -> str:
        name = f"v{len(self.definitions)}"
        self.definitions[name] = type_
        self.variables[name] = value
        return f"${name}"


Draw = random.Random  # seeded by hypothesis once per example: a draw per choice costs 1 ms


def pick(draw: Draw, options: list[Any]) -> Any:
    return draw.choice(options)


def wrapped(draw: Draw, q: Query, type_: str, selection: str) -> str:
    """A selection, as is, behind a directive, or in an inline or named fragment."""
    how = pick(draw, ["plain", "plain", "inline", "untyped", "named", "directive"])
    if how == "inline":
        return f"... on {type_} {{ {selection} }}"
    if how == "untyped":
        return f"... {{ {selection} }}"
    if how == "named":
        name = f"F{len(q.fragments)}"
        q.fragments.append(f"fragment {name} on {type_} {{ {selection} }}")
        return f"...{name}"
    if how == "directive":
        keep = pick(draw, [True, False])
        directive = pick(draw, ["include", "skip"])
        value = q.variable("Boolean!", keep) if pick(draw, [True, False]) else json.dumps(keep)
        return f"... @{directive}(if: {value}) {{ {selection} }}"
    return selection


def aliased(draw: Draw, name: str) -> str:
    alias = pick(draw, [None, None, *ALIASES])
    return name if alias is None else f"{alias}: {name}"


def selection_set(draw: Draw, q: Query, type_: str, fields: list[Any]) -> str:
    """Between one and four of `fields` (names, or functions writing a field), perhaps
    repeated, each perhaps wrapped; sometimes `__typename`."""
    parts = []
    for _ in range(draw.randint(1, 4)):
        make = pick(draw, fields)
        text = make(draw) if callable(make) else aliased(draw, make)
        parts.append(wrapped(draw, q, type_, text))
    if pick(draw, [True, False, False, False]):
        parts.append("__typename")
    return " ".join(parts)


def text_field(q: Query, name: str) -> Any:
    def make(draw: Draw) -> str:
        lang = pick(draw, [None, None, "omit", "omit", "omit", "en", "fr", "zz"])
        if lang == "omit":
            return aliased(draw, name)
        if lang is not None:
            q.translated = True  # the ordinary resolver reads translations
        value = q.variable("String", lang) if pick(draw, [True, False]) else json.dumps(lang)
        return f"{aliased(draw, name)}(lang: {value})"

    return make


def nested(name: str, type_: str, q: Query, fields: list[Any]) -> Any:
    def make(draw: Draw) -> str:
        return f"{aliased(draw, name)} {{ {selection_set(draw, q, type_, fields)} }}"

    return make


def entry_fields(q: Query) -> list[Any]:
    display = ["display", 'display(lang: "fr")', 'display(lang: "xx")', "display(lang: null)"]
    date = [*DATE_LEAVES, lambda draw: pick(draw, display)]
    return [
        *ENTRY_LEAVES,
        text_field(q, "headline"),
        text_field(q, "scope"),
        nested("date", "FuzzyDate", q, date),
        nested("weapons", "WeaponRef", q, ["system", "category"]),
    ]


def timeline_field(draw: Draw, q: Query, cursors: list[str]) -> str:
    args = []
    for name, type_, values in (
        ("country", "String!", COUNTRIES),
        ("first", "Int", [None, 0, 1, 2, 3, 20, 101]),
        ("after", "String", [None, *cursors, "garbage"]),
        ("asOf", "Int", [None, 1, 4, 8, 30, 100000]),
        ("includeRetracted", "Boolean", [None, True, False]),
        ("actions", "[DecisionAction!]", [None, ["SIGN"], ["RATIFY", "ADOPT_POLICY"]]),
    ):
        if name != "country" and pick(draw, [True, False]):
            continue
        value = pick(draw, values)
        if pick(draw, [True, False]):
            args.append(f"{name}: {q.variable(type_, value)}")
        elif name == "actions" and value is not None:
            args.append(f"{name}: [{', '.join(value)}]")
        else:
            args.append(f"{name}: {json.dumps(value)}")
    node = nested("node", "TimelineEntry", q, entry_fields(q))
    edge = nested("edges", "TimelineEdge", q, ["cursor", node])
    info = ["hasNextPage", "hasPreviousPage", "startCursor", "endCursor"]
    page_info = nested("pageInfo", "PageInfo", q, info)
    connection = selection_set(draw, q, "TimelineConnection", [edge, page_info])
    return f"{aliased(draw, 'countryTimeline')}({', '.join(args)}) {{ {connection} }}"


def write_query(draw: Draw, cursors: list[str]) -> tuple[str, dict[str, Any], bool]:
    q = Query()
    tops = [timeline_field(draw, q, cursors) for _ in range(pick(draw, [1, 1, 2]))]
    if pick(draw, [True, False]):
        tops.append("__typename")
    body = " ".join(wrapped(draw, q, "Query", t) for t in tops)
    header = ""
    if q.definitions:
        header = "(" + ", ".join(f"${n}: {t}" for n, t in q.definitions.items()) + ")"
    text = f"query Q{header} {{ {body} }}\n" + "\n".join(q.fragments)
    return text, q.variables, q.translated


SOURCE_LEAVES = ["publisher", "title", "url", "publishedOn", "quote", "retrievedOn", "archiveUrl"]
DATES = ["reportedOn", "decidedOn", "announcedOn", "effectiveOn", "date"]
RELATIONS = ["reverses", "reversedBy", "departsFrom", "supersedes", "implementedBy"]
STEP_LEAVES = ["position", "eventType", "recordedAt", "reason", "keyId", "fields", "lang"]
AS_OF = [None, 1, 40, 150, 100000]


def date_field(name: str, q: Query) -> Any:
    display = ["display", 'display(lang: "uk")', 'display(lang: "xx")', "display(lang: null)"]
    return nested(name, "FuzzyDate", q, [*DATE_LEAVES, lambda draw: pick(draw, display)])


def decision_fields(q: Query, depth: int) -> list[Any]:
    """Decision's fields the compiled path answers; relations nest `depth` more levels."""
    sources = nested("sources", "Source", q, SOURCE_LEAVES)
    step = nested("history", "HistoryEntry", q, [*STEP_LEAVES, sources])
    fields: list[Any] = [
        "id",
        "certainty",
        "action",
        "actor",
        "recipient",
        "treaty",
        "status",
        text_field(q, "headline"),
        text_field(q, "summary"),
        text_field(q, "scope"),
        *(date_field(name, q) for name in DATES),
        nested("officials", "Official", q, ["name", "office", "announced"]),
        nested("weapons", "WeaponRef", q, ["system", "category"]),
        sources,
        step,
        step,
    ]
    if depth > 0:
        # Relations twice as likely as any other field: they are what batching may get wrong.
        relations = [nested(n, "Decision", q, decision_fields(q, depth - 1)) for n in RELATIONS]
        fields += relations * 2
    return fields


def argument(draw: Draw, q: Query, name: str, type_: str, values: list[Any]) -> str:
    value = pick(draw, values)
    if pick(draw, [True, False]):
        return f"{name}: {q.variable(type_, value)}"
    return f"{name}: {json.dumps(value)}"


def decision_field(draw: Draw, q: Query, ids: list[str]) -> str:
    args = [argument(draw, q, "id", "ID!", ids)]
    if pick(draw, [True, False]):
        args.append(argument(draw, q, "asOf", "Int", AS_OF))
    body = selection_set(draw, q, "Decision", decision_fields(q, 2))
    return f"{aliased(draw, 'decision')}({', '.join(args)}) {{ {body} }}"


def treaty_field(draw: Draw, q: Query, ids: list[str]) -> str:
    def counted(name: str) -> Any:
        def make(draw: Draw) -> str:
            args = []
            if pick(draw, [True, False]):
                args.append(argument(draw, q, "asOf", "Int", AS_OF))
            if pick(draw, [True, False]):
                days = [None, "1999-01-01", "2012-06-30", "2030-01-01"]
                args.append(argument(draw, q, "validAt", "Date", days))
            call = f"{aliased(draw, name)}({', '.join(args)})" if args else aliased(draw, name)
            if name == "partyCount":
                return call
            return f"{call} {{ {selection_set(draw, q, 'Membership', MEMBERSHIP)} }}"

        return make

    fields = [
        "id",
        "prohibits",
        text_field(q, "name"),
        text_field(q, "shortName"),
        nested("sources", "Source", q, SOURCE_LEAVES),
        *(date_field(n, q) for n in ("adoptedOn", "openedForSignatureOn", "entryIntoForceOn")),
        counted("parties"),
        counted("partyCount"),
    ]
    args = argument(draw, q, "id", "ID!", ids)
    return f"{aliased(draw, 'treaty')}({args}) {{ {selection_set(draw, q, 'Treaty', fields)} }}"


MEMBERSHIP = ["country", "status", "since"]


def write_record_query(
    draw: Draw, decisions: list[str], treaties: list[str]
) -> tuple[str, dict[str, Any], bool]:
    """A query of `decision(id:)` and `treaty(id:)` fields (one or two), perhaps `__typename`."""
    q = Query()
    tops = [
        decision_field(draw, q, decisions)
        if pick(draw, [True, True, False])
        else treaty_field(draw, q, treaties)
        for _ in range(pick(draw, [1, 1, 2]))
    ]
    if pick(draw, [True, False]):
        tops.append("__typename")
    body = " ".join(wrapped(draw, q, "Query", t) for t in tops)
    header = ""
    if q.definitions:
        header = "(" + ", ".join(f"${n}: {t}" for n, t in q.definitions.items()) + ")"
    text = f"query R{header} {{ {body} }}\n" + "\n".join(q.fragments)
    return text, q.variables, q.translated


@pytest.fixture
def seeded(store: Store) -> Iterator[Store]:
    import_file(store, SEED)
    yield store


SCHEMA = build_schema()
LOOP = asyncio.new_event_loop()
SEEDS = st.integers(0, 2**64)


def _encode(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode()


def _cursors(store: Store) -> list[str]:
    page = store.read.timeline("country", "UKR", first=3)
    return page.cursors


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_the_compiled_answer_is_graphql_cores_byte_for_byte(
    seeded: Store, data: st.DataObject
) -> None:
    schema = SCHEMA
    compiled = CompiledPath(schema._schema, schema.validated_documents, lambda: seeded.read)
    text, variables, translated = write_query(random.Random(data.draw(SEEDS)), _cursors(seeded))

    async def both() -> tuple[Any, Any]:
        ordinary = await schema.execute(
            text, variable_values=variables, context_value=Context(store=seeded)
        )
        # As the server asks it: on PostgreSQL the statement may write the edges' JSON.
        fast = await compiled.execute(text, variables, None, spliced=True)
        return ordinary, fast

    ordinary, fast = LOOP.run_until_complete(both())
    expected = process_result(ordinary)
    if fast is None:
        # Declined: only errors, translations and uncovered arguments may send it back.
        assert ordinary.errors or translated, (text, variables)
        return
    assert not ordinary.errors, (text, variables, expected)
    # Encoded as the server encodes each answer (Strawberry's encoder made HTML-safe, and
    # the compiled path's own), byte for byte.
    served = html_safe_json(json.dumps(expected, separators=(",", ":"))).encode()
    assert html_safe_json_bytes(process_result(fast)) == served, (text, variables)


GENERATED = 400
"""Generated operations behind the decision and treaty queries: corrections (history),
retractions, reversals and treaty memberships among them."""


@pytest.fixture(scope="module")
def generated_lines(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("generated") / "ops.jsonl"
    path.write_text("\n".join(lines(GENERATED, seed=3, treaty_share=0.3)) + "\n")
    return path


@pytest.fixture
def recorded(store: Store, generated_lines: Path) -> Iterator[Store]:
    import_file(store, generated_lines)
    yield store


def _record_ids(store: Store) -> tuple[list[str], list[str]]:
    """Decision ids worth asking for (those in a relation first, a retracted one, an unknown
    one, a few others) and every treaty id with an unknown one."""
    ids = [decision_id(k) for k in range(GENERATED)]
    read = store.read
    linked = sorted(
        {
            i
            for inverse in (False, True)
            for i, o in read.related(ids, "reverses", inverse).items()
            if o
        }
    )
    retracted = [
        i for i, d in read.decisions(ids).items() if d["status"] == "RETRACTED"
    ]  # fmt: skip
    assert linked, "the generated operations hold reversals"
    decisions = [*linked[:6], *retracted[:1], "decision-9999999", *ids[:3]]
    return decisions, [t[0] for t in TREATIES] + ["no-such-treaty"]


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_decision_and_treaty_compiled_answers_are_graphql_cores_byte_for_byte(
    recorded: Store, data: st.DataObject
) -> None:
    """`decision(id:)` with its relations, history, dates and sources, and `treaty(id:)` with
    its parties: the compiled answer is ordinary execution's, and every covered query without
    an error is answered by the compiled path."""
    schema = SCHEMA
    compiled = CompiledPath(schema._schema, schema.validated_documents, lambda: recorded.read)
    decisions, treaties = _record_ids(recorded)
    draw = random.Random(data.draw(SEEDS))
    text, variables, translated = write_record_query(draw, decisions, treaties)

    async def both() -> tuple[Any, Any, Any]:
        ordinary = await schema.execute(
            text, variable_values=variables, context_value=Context(store=recorded)
        )
        fast = await compiled.execute(text, variables, None, spliced=True)
        # Asked again, its plans are kept: on PostgreSQL a query of decisions is then
        # answered on the event loop (`CompiledPath._on_loop`) when its statement is all
        # it reads.
        again = await compiled.execute(text, variables, None, spliced=True)
        return ordinary, fast, again

    ordinary, fast, again = LOOP.run_until_complete(both())
    expected = process_result(ordinary)
    if fast is None:
        assert ordinary.errors or translated, (text, variables)
        assert again is None, (text, variables)
        return
    assert compiled.answered == 2
    assert not ordinary.errors, (text, variables, expected)
    assert _served(fast) == _served_ordinary(expected), (text, variables)
    assert _served(again) == _served_ordinary(expected), (text, variables)


def _served(fast: Any) -> bytes:
    """The compiled answer as the server encodes it."""
    return html_safe_json_bytes(process_result(fast))


def _served_ordinary(body: Any) -> bytes:
    """Ordinary execution's answer as the server encodes it (Strawberry's encoder, made
    HTML-safe)."""
    return html_safe_json(json.dumps(body, separators=(",", ":"))).encode()


TREATY_QUERY = """query T($id: ID!, $at: Date, $asOf: Int) {
  treaty(id: $id) { __typename id shortName
    members: parties(validAt: $at, asOf: $asOf) { since __typename country s: status } } }"""


def test_treaty_parties_written_by_postgresql_are_ordinary_executions_bytes(
    recorded: Store,
) -> None:
    """A treaty asked as the server asks it: on PostgreSQL the statement writes its parties'
    JSON; the bytes are ordinary execution's, today, on earlier days and as of earlier
    positions (some with no parties at all)."""
    schema = SCHEMA
    compiled = CompiledPath(schema._schema, schema.validated_documents, lambda: recorded.read)
    treaties = [t[0] for t in TREATIES]
    asked = 0
    seen = 0
    for ident in treaties:
        for at, as_of in ((None, None), ("2001-01-01", None), (None, 300), ("1990-01-01", 60)):
            variables = {"id": ident, "at": at, "asOf": as_of}

            async def both(variables: dict[str, Any] = variables) -> tuple[Any, Any]:
                ordinary = await schema.execute(
                    TREATY_QUERY, variable_values=variables, context_value=Context(store=recorded)
                )
                fast = await compiled.execute(TREATY_QUERY, variables, None, spliced=True)
                return ordinary, fast

            ordinary, fast = LOOP.run_until_complete(both())
            assert not ordinary.errors, ordinary.errors
            assert fast is not None, variables
            assert _served(fast) == _served_ordinary(process_result(ordinary)), variables
            asked += 1
            seen += bool(ordinary.data["treaty"]["members"])
    assert seen and seen < asked  # answers with parties and without
    assert compiled.spliced == (asked if recorded.dialect == "postgresql" else 0)


RECORDS_QUERY = """query R($id: ID!, $asOf: Int) {
  decision(id: $id, asOf: $asOf) { ...D reverses { ...D reversedBy { id status } }
    reversedBy { ...D reverses { id headline } } }
  t: treaty(id: "mine-ban-treaty") { id name shortName prohibits adoptedOn { edtf display }
    sources { publisher url } parties { country status since } partyCount
    old: parties(validAt: "2001-01-01") { country since }
    older: parties(validAt: "2000-01-01", asOf: 300) { country } }
}
fragment D on Decision { id headline summary scope certainty action actor recipient treaty
  status date { edtf precision display(lang: "fr") } decidedOn { edtf } reportedOn { edtf }
  officials { name office announced } weapons { system category }
  sources { publisher title url publishedOn quote retrievedOn archiveUrl }
  history { position eventType recordedAt reason keyId fields lang sources { publisher } } }"""


def test_relations_history_and_parties_compiled_as_ordinary_execution_answers(
    recorded: Store,
) -> None:
    """Every decision in a reversal, current and as of earlier positions, with the treaty's
    parties: the compiled path answers each (none declined) with ordinary execution's bytes,
    and the answers do hold relations, history steps and parties."""
    schema = SCHEMA
    compiled = CompiledPath(schema._schema, schema.validated_documents, lambda: recorded.read)
    decisions, _ = _record_ids(recorded)
    seen = {"relations": 0, "history": 0, "parties": 0}
    for ident in decisions:
        for as_of in (None, 60, 250):
            variables = {"id": ident, "asOf": as_of}

            async def both(variables: dict[str, Any] = variables) -> tuple[Any, Any]:
                ordinary = await schema.execute(
                    RECORDS_QUERY, variable_values=variables, context_value=Context(store=recorded)
                )
                fast = await compiled.execute(RECORDS_QUERY, variables, None, spliced=True)
                return ordinary, fast

            ordinary, fast = LOOP.run_until_complete(both())
            assert not ordinary.errors, ordinary.errors
            assert fast is not None, (ident, as_of)
            assert _served(fast) == _served_ordinary(process_result(ordinary))
            found = ordinary.data["decision"]
            if found is not None:
                seen["relations"] += bool(found["reverses"] or found["reversedBy"])
                seen["history"] += bool(found["history"])
            seen["parties"] += bool(ordinary.data["t"]["parties"])
    assert compiled.answered == len(decisions) * 3
    assert all(seen.values()), seen


def test_over_http_the_compiled_path_answers_and_the_bytes_are_the_same(seeded: Store) -> None:
    """A real server with the compiled path and one without: the same bytes for the same
    requests, errors included; the compiled one answered the valid timeline pages itself."""
    query = (
        "query T($c: String!, $n: Int, $after: String) { countryTimeline(country: $c, first: $n,"
        " after: $after) { edges { cursor node { decisionId headline date { edtf display }"
        " weapons { category } } } pageInfo { hasNextPage endCursor } } }"
    )
    requests = [
        {"c": "UKR", "n": 2},
        {"c": "UKR", "n": 2, "after": _cursors(seeded)[1]},
        {"c": "USA"},
        {"c": "XXX"},
        {"c": "UKR", "n": 1000},
        {"c": "UKR", "after": "garbage"},
    ]
    answers = []
    for compiled in (True, False):
        app = create_app(seeded, response_cache=None, compiled=compiled)
        app.state.response_cache.max_entries = 0  # every request executes
        with serving(app) as client:
            answers.append(
                [
                    client.post("/graphql", json={"query": query, "variables": v}).content
                    for v in requests * 2
                ]
            )
        path = app.state.graphql.compiled
        if compiled:
            # The first request of the text validated it; the valid pages then compiled.
            assert path.answered == 5
    assert answers[0] == answers[1]
    assert b'"errors"' in answers[0][3] and b'"errors"' in answers[0][4]


def test_request_members_of_any_json_type_get_ordinary_execution_s_answer(seeded: Store) -> None:
    """Once a covered text is validated, the same text with an operationName, variables or
    extensions of another JSON type is refused as ordinary execution refuses it (never a
    500), with the same bytes whether the compiled path is on or off."""
    query = '{ countryTimeline(country: "UKR", first: 1) { edges { node { decisionId } } } }'
    odd: list[dict[str, Any]] = [
        {"operationName": value} for value in ({}, [], 1, True, {"a": [1]})
    ] + [{"variables": value} for value in ([], "x", 1, [{"c": "UKR"}])]
    answers = []
    for compiled in (True, False):
        app = create_app(seeded, response_cache=None, compiled=compiled)
        app.state.response_cache.max_entries = 0  # every request executes
        with serving(app) as client:
            first = client.post("/graphql", json={"query": query})
            assert first.status_code == 200 and b"errors" not in first.content
            responses = [client.post("/graphql", json={"query": query, **m}) for m in odd]
        assert all(r.status_code in (200, 400) for r in responses), [
            (r.status_code, r.text) for r in responses
        ]
        assert all(b'"errors"' in r.content for r in responses), [r.text for r in responses]
        answers.append([(r.status_code, r.content) for r in responses])
    assert answers[0] == answers[1]


PLANNED_QUERY = """query P($id: ID!, $asOf: Int, $history: Boolean!, $skip: Boolean!, $lang: String,
    $day: Date, $show: Boolean!, $t: ID!) {
  decision(id: $id, asOf: $asOf) @include(if: $show) { id status
    date { edtf display(lang: $lang) }
    history @include(if: $history) { position eventType }
    reverses @skip(if: $skip) { id date { display(lang: $lang) } }
    reversedBy { id ...R } }
  treaty(id: $t) { id parties(validAt: $day) { country since } partyCount(validAt: $day)
    adoptedOn { display(lang: $lang) } }
}
fragment R on Decision { headline history @skip(if: $skip) { position } }"""


def test_plans_kept_for_a_query_answer_every_variable_value_as_ordinary_execution(
    recorded: Store,
) -> None:
    """One compiled path asked the same text with variables that change the plan (in
    directives, in nested arguments, at the root) and variables that do not (`id`, `asOf`):
    every answer is ordinary execution's, byte for byte, whichever plan was kept before."""
    schema = SCHEMA
    compiled = CompiledPath(schema._schema, schema.validated_documents, lambda: recorded.read)
    decisions, treaties = _record_ids(recorded)
    draw = random.Random(7)
    combos = [
        {
            "id": draw.choice(decisions),
            "asOf": draw.choice([None, 60, 250]),
            "history": draw.choice([True, False]),
            "skip": draw.choice([True, False]),
            "lang": draw.choice([None, "en", "fr", "uk"]),
            "day": draw.choice([None, "2001-01-01", "2030-01-01"]),
            "show": draw.choice([True, True, False]),
            "t": draw.choice(treaties[:-1]),
        }
        for _ in range(60)
    ]
    for variables in combos:

        async def both(variables: dict[str, Any] = variables) -> tuple[Any, Any]:
            ordinary = await schema.execute(
                PLANNED_QUERY, variable_values=variables, context_value=Context(store=recorded)
            )
            fast = await compiled.execute(PLANNED_QUERY, variables, None)
            return ordinary, fast

        ordinary, fast = LOOP.run_until_complete(both())
        assert not ordinary.errors, (variables, ordinary.errors)
        assert fast is not None, variables
        assert _encode(process_result(fast)) == _encode(process_result(ordinary)), variables
    assert compiled.answered == len(combos)


NESTED_QUERY = """query N($id: ID!) { decision(id: $id) {
  id reverses { id reversedBy { id status } } history { position } } }"""


def _ask_both(store: Store, compiled: CompiledPath, text: str, variables: dict[str, Any]) -> None:
    """`text` through ordinary execution and the compiled path: the same bytes."""

    async def both() -> tuple[Any, Any]:
        ordinary = await SCHEMA.execute(
            text, variable_values=variables, context_value=Context(store=store)
        )
        fast = await compiled.execute(text, variables, None, spliced=True)
        return ordinary, fast

    ordinary, fast = LOOP.run_until_complete(both())
    assert not ordinary.errors, (variables, ordinary.errors)
    assert fast is not None, variables
    assert _served(fast) == _served_ordinary(process_result(ordinary)), variables


def test_decisions_planned_before_are_answered_on_the_event_loop(recorded: Store) -> None:
    """The bench's decision query, id after id: once its plan is kept, PostgreSQL answers
    it on the event loop (`CompiledPath._on_loop`), SQLite in a worker thread; a query whose
    relations read again (nested) stays in the worker threads. Every answer is ordinary
    execution's, byte for byte."""
    from bench.postgraphile import OURS_DECISION

    query = OURS_DECISION.replace("($id: ID!)", "($id: ID!, $asOf: Int)").replace(
        "decision(id: $id)", "decision(id: $id, asOf: $asOf)"
    )
    schema = SCHEMA
    compiled = CompiledPath(schema._schema, schema.validated_documents, lambda: recorded.read)
    decisions, _ = _record_ids(recorded)
    for ident in decisions:
        for as_of in (None, 250, 60):
            _ask_both(recorded, compiled, query, {"id": ident, "asOf": as_of})
    on_postgresql = recorded.dialect == "postgresql"
    # The first request plans (in a worker thread); every later one reads on the loop.
    assert compiled.on_loop == (3 * len(decisions) - 1 if on_postgresql else 0)
    before = compiled.on_loop
    for ident in decisions:
        _ask_both(recorded, compiled, NESTED_QUERY, {"id": ident})
    assert compiled.on_loop == before
    compiled.close()


def test_a_broken_event_loop_connection_is_dropped_and_the_thread_answers(
    recorded: Store,
) -> None:
    """A connection of the event loop's that fails (its server process ended) is closed and
    that request answered in a worker thread, as ordinary; the next one connects anew."""
    from bench.postgraphile import OURS_DECISION

    schema = SCHEMA
    compiled = CompiledPath(schema._schema, schema.validated_documents, lambda: recorded.read)
    ident = _record_ids(recorded)[0][0]
    if recorded.dialect != "postgresql":
        # SQLite: every request in a worker thread, and no connection of the loop's opened.
        for _ in range(3):
            _ask_both(recorded, compiled, OURS_DECISION, {"id": ident})
        assert compiled.on_loop == 0 and compiled._loop_reads is None
        return
    _ask_both(recorded, compiled, OURS_DECISION, {"id": ident})
    _ask_both(recorded, compiled, OURS_DECISION, {"id": ident})
    assert compiled.on_loop == 1
    assert compiled._loop_reads is not None
    idle = compiled._loop_reads[1].idle
    [conn] = idle
    with recorded.engine.connect() as admin:
        admin.execute(sql("SELECT pg_terminate_backend(:pid)"), {"pid": conn.pgconn.backend_pid})
        admin.commit()
    _ask_both(recorded, compiled, OURS_DECISION, {"id": ident})
    assert compiled.on_loop == 1 and not idle
    _ask_both(recorded, compiled, OURS_DECISION, {"id": ident})
    assert compiled.on_loop == 2 and len(idle) == 1
    compiled.close()
    assert not idle
