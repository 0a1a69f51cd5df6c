"""`ArgumentCheck` (the compiled path's per-request check of unstorable argument text) says
yes exactly when the full walk of the document (`unstorable_in_operation`) finds a problem."""

from __future__ import annotations

from typing import Any

from graphql import parse
from hypothesis import given, settings
from hypothesis import strategies as st

from api.http.limits import ArgumentCheck, unstorable_in_operation

DOCUMENTS = [
    "query Q($id: ID!) { decision(id: $id) { id } }",
    'query Q($c: String = "UK\\u0000R") { timeline(country: $c) { edges { cursor } } }',
    'query Q($c: String = "UKR") { t(country: $c, after: "\\u0000") { p { x } } }',
    'query Q($a: [String], $b: String) { f(list: $a, obj: {x: $b, y: ["ok", $b]}) { ...F } }'
    " fragment F on T { g(arg: $b) @include(if: $flag) { ...F } h(x: $z) }",
    'query A($x: String) { f(a: $x) } query B($y: String = "a\\u0000") { f(a: $y) }',
    "query A($x: String) { f(a: $x) } query A($x: String) { f(a: $x) }",
    '{ f(a: "fine") @skip(if: $s) { ...Missing } }',
]
NAMES = ["id", "c", "a", "b", "z", "flag", "x", "y", "s", "other"]
TEXT = st.sampled_from(["", "UKR", "a\x00b", "\ud800", "é", "\x00"])
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=6,
)


@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from(DOCUMENTS),
    st.sampled_from([None, "Q", "A", "B", "Missing"]),
    st.dictionaries(st.sampled_from(NAMES), JSON, max_size=4),
)
def test_the_check_agrees_with_the_full_walk(
    text: str, operation: str | None, variables: dict[str, Any]
) -> None:
    document = parse(text)
    walked = unstorable_in_operation(document, operation, variables) is not None
    assert ArgumentCheck(document, operation).refuses(variables) is walked


def test_the_check_refuses_what_the_walk_names() -> None:
    document = parse(DOCUMENTS[3])
    check = ArgumentCheck(document, None)
    assert not check.refuses({"a": ["UKR"], "b": "x"})
    assert check.refuses({"a": ["UKR", "\x00"]})
    assert check.refuses({"z": {"k": ["\ud800"]}})  # used only inside the fragment
    assert check.refuses({"flag": "\x00"})  # a directive's argument inside the fragment
    assert check.refuses({"b": "\x00"})  # inside an object and a list literal
    assert not check.refuses({"other": "\x00"})  # not used by any argument
