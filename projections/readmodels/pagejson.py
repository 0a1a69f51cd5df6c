"""Timeline pages whose edges PostgreSQL writes as JSON text, ready to splice into an answer.

A compiled timeline page (`api.graphql.compiled`) used to read 50 stored documents, parse
each, build each entry's selection in Python and encode it again. On PostgreSQL the same
statement can instead return each edge of the page already written as the JSON text that
encoding would have made: its cursor, and the selected fields of its entry read from the
document (`jsonb`), strings escaped by PostgreSQL (a string's `jsonb` text), as compact as
orjson writes them and in the selection's order. What the database cannot produce the way
the API does (a fuzzy date's fields and display text) is left as a slot: a column holding
the date's EDTF, which the caller fills in.

The text is written only where it is certain to be what the Python path answers: every
value is checked (a string where a string is expected, an enum member, a 32-bit integer, a
timestamp of the form the log writes); anything else makes the row's text NULL, and the
caller answers the page the usual way. The caller still runs its usual last step over the
whole answer (non-ASCII and HTML-significant characters escaped), so PostgreSQL's escaping
has to match orjson's only for what both write: quotes, backslashes and control characters.
`tests/test_compiled_properties.py` and `tests/test_pagejson.py` compare the answers byte
for byte.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any

from cachetools import LRUCache

from projections.readmodels.queries import ReadModel, TimelineQuery

Spec = tuple[tuple[str, str, Any], ...]
"""An object's selection: (response key, kind, argument) in the answer's order. Kinds:

- `const`: the argument is JSON text written as is (a `__typename`);
- `string`: (member, nullable), a string of the document (nullable: absent or null is null);
- `enum`: (member, ((value, name), ...), if absent, if null): the member's name; `if absent` and
  `if null` name what an absent or null member answers (None: nothing, the text is NULL);
- `int32`: a member that is an integer of 32 bits;
- `timestamp`: a member written as the log writes times (`...T12:00:00.123456Z`), answered
  as Python's `isoformat` writes it (`+00:00`, no fraction when it is zero);
- `list`: (member, item spec): a list of objects;
- `slot`: the member `date`'s `edtf` as JSON text, for the caller to fill in (entries only).

On an edge: `cursor`, `const`, and `node` with the entry's spec as argument."""

UNROLLED = 3
"""Lists (an entry's weapons) up to this long are written inline; longer ones by a subquery."""
STATEMENTS = 256
"""Statement texts kept, by shape and selection (LRU)."""

_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]*\Z")


@dataclass
class JsonPage:
    """A page whose edges are JSON text: for each edge, its text around its slots and the
    slots' values (text, slot, text, slot, ..., text)."""

    edges: list[tuple[str, ...]]
    keys: list[tuple[str, int]]
    has_next: bool
    has_previous: bool


class Slot:
    """A place in an edge's text the caller fills in (a date, from its EDTF)."""

    def __init__(self, member: str) -> None:
        self.member = member


def _literal(text: str) -> str:
    """An SQL string literal of ASCII text (keys and names: no quotes to double)."""
    assert text.isascii() and "'" not in text and "\\" not in text and "%" not in text
    return f"'{text}'"


def _checked(value: str) -> str:
    if not _NAME.match(value):
        raise ValueError(f"not an enum value written here: {value!r}")
    return value


def _name(name: str) -> str:
    """An enum member's name as a JSON string, in an SQL literal."""
    if not _NAME.match(name):
        raise ValueError(f"not a GraphQL name: {name!r}")
    return f"'\"{name}\"'"


def _key(key: str) -> str:
    if not _NAME.match(key):
        raise ValueError(f"not a GraphQL name: {key!r}")
    return f'"{key}":'


def _member(source: str, member: str) -> str:
    # In parentheses: `::` binds tighter than `->`, so `d->'m'::text` would stay jsonb (and a
    # literal before it in a `||` chain would then be read as jsonb too).
    return f"({source}->{_literal(member)})"


def _value(source: str, kind: str, argument: Any) -> str | Slot:
    """The SQL expression (text) writing one value of an object read from `source` (jsonb)."""
    if kind == "const":
        return _literal(argument)
    if kind == "string":
        member, nullable = argument
        value = _member(source, member)
        # A string's jsonb text is the string escaped by escape_json, as to_json writes it.
        if nullable:
            return (
                f"CASE coalesce(jsonb_typeof({value}), 'null') WHEN 'string' THEN {value}::text"
                " WHEN 'null' THEN 'null' END"
            )
        return f"CASE WHEN jsonb_typeof({value}) = 'string' THEN {value}::text END"
    if kind == "enum":
        member, names, if_absent, if_null = argument
        value = _member(source, member)
        # ->> of a string is the string; of a number, an object or a list, text no value
        # (a name: letters, digits, underscores, a letter first) can equal.
        whens = " ".join(f"WHEN {_literal(_checked(v))} THEN {_name(n)}" for v, n in names)
        absent = "NULL" if if_absent is None else _name(if_absent)
        null = "NULL" if if_null is None else _name(if_null)
        return (
            f"CASE {source}->>{_literal(member)} {whens} ELSE CASE WHEN {value} IS NULL"
            f" THEN {absent} WHEN jsonb_typeof({value}) = 'null' THEN {null} END END"
        )
    if kind == "int32":
        value, text = _member(source, argument), f"{source}->>{_literal(argument)}"
        return (
            f"CASE WHEN jsonb_typeof({value}) = 'number' AND {text} ~ '^-?[0-9]{{1,10}}$'"
            f" THEN CASE WHEN ({text})::bigint BETWEEN -2147483648 AND 2147483647"
            f" THEN (({text})::bigint)::text END END"
        )
    if kind == "timestamp":
        text = f"{source}->>{_literal(argument)}"
        # Only a string's text has this form (digits where the zeros are). The day's cast
        # refuses a day no calendar has (an error: ordinary execution answers, as Python's
        # parser refuses it too); the time is checked here (PostgreSQL would take 24:00:00
        # and a leap second, which Python refuses).
        form = f"translate({text}, '0123456789', '0000000000') = '0000-00-00T00:00:00.000000Z'"
        clock = (
            f"substr({text}, 12, 2) < '24' AND substr({text}, 15, 2) < '60'"
            f" AND substr({text}, 18, 2) < '60'"
        )
        return (
            f"CASE WHEN {form} AND {clock} THEN CASE WHEN (left({text}, 10))::date IS NOT NULL"
            f" THEN '\"' || left({text}, 19) || CASE WHEN substr({text}, 20, 7) = '.000000'"
            f" THEN '' ELSE substr({text}, 20, 7) END || '+00:00\"' END END"
        )
    if kind == "list":
        member, item = argument
        value = _member(source, member)
        each = _object("e.item", item)
        assert isinstance(each, str)
        whole = (
            "(SELECT CASE WHEN bool_and(x.text IS NOT NULL) IS NOT FALSE"
            " THEN '[' || coalesce(string_agg(x.text, ',' ORDER BY x.n), '') || ']' END"
            f" FROM (SELECT e.n, CASE WHEN jsonb_typeof(e.item) = 'object' THEN {each} END"
            f" AS text FROM jsonb_array_elements({value}) WITH ORDINALITY AS e(item, n)) AS x)"
        )
        # Short lists written inline, item by item (a subquery per row costs more).
        lengths = ["WHEN 0 THEN '[]'"]
        items: list[str] = []
        for index in range(UNROLLED):
            element = f"({value}->{index})"
            one = _object(element, item)
            assert isinstance(one, str)
            items.append(f"CASE WHEN jsonb_typeof({element}) = 'object' THEN {one} END")
            joined = " || ',' || ".join(items)
            lengths.append(f"WHEN {index + 1} THEN '[' || {joined} || ']'")
        return (
            f"CASE WHEN jsonb_typeof({value}) = 'array' THEN CASE jsonb_array_length({value})"
            f" {' '.join(lengths)} ELSE {whole} END END"
        )
    if kind == "slot":
        return Slot(argument)
    raise ValueError(f"no such kind: {kind}")


def _segments(source: str, spec: Spec) -> list[str | Slot]:
    """An object's text as SQL expressions and slots, in order."""
    out: list[str | Slot] = ["'{'"]
    for number, (key, kind, argument) in enumerate(spec):
        out.append(_literal(("," if number else "") + _key(key)))
        out.append(_value(source, kind, argument))
    out.append("'}'")
    return out


def _object(source: str, spec: Spec) -> str | Slot:
    return _concat(_segments(source, spec))[0]


def _concat(segments: list[str | Slot]) -> list[str | Slot]:
    """Adjacent SQL texts joined with || (NULL if any is), slots left between them."""
    out: list[str | Slot] = []
    run: list[str] = []
    for segment in segments:
        if isinstance(segment, Slot):
            out.append("(" + " || ".join(run) + ")" if run else "''")
            out.append(segment)
            run = []
        else:
            run.append(segment)
    out.append("(" + " || ".join(run) + ")" if run else "''")
    return out


_CURSOR = (
    "'\"' || rtrim(translate(encode(convert_to('[\"t1\",\"' || to_char(p.earliest, 'YYYY-MM-DD')"
    " || '\",' || p.first_position::text || ']', 'UTF8'), 'base64'), E'+/\\n', '-_'), '=')"
    " || '\"'"
)
"""An entry's cursor as `encode_cursor` writes it, in JSON (base64url of ["t1",day,position],
unpadded; PostgreSQL's base64 breaks lines, taken out)."""


def edge_columns(spec: Spec) -> list[str]:
    """The SQL of an edge's columns: text, slot, text, ... (slots: the EDTF's JSON text, or
    NULL where the document has no date object with an `edtf` member)."""
    segments: list[str | Slot] = ["'{'"]
    for number, (key, kind, argument) in enumerate(spec):
        segments.append(_literal(("," if number else "") + _key(key)))
        if kind == "cursor":
            segments.append(_CURSOR)
        elif kind == "node":
            segments += _segments("j.d", argument)
        else:
            value = _value("j.d", kind, argument)
            assert isinstance(value, str)
            segments.append(value)
    segments.append("'}'")
    columns = []
    for part in _concat(segments):
        if isinstance(part, Slot):
            date = _member("j.d", part.member)
            columns.append(
                f"CASE WHEN jsonb_typeof({date}) = 'object' THEN ({date}->'edtf')::text END"
            )
        else:
            columns.append(part)
    return columns


_TEXTS: LRUCache[tuple[Any, ...], tuple[str, dict[str, Any]]] = LRUCache(STATEMENTS)
_LOCK = threading.Lock()


def timeline_json(read: ReadModel, query: TimelineQuery, spec: Spec) -> JsonPage | None:
    """The page `query` asks for, each edge written by PostgreSQL as `spec` selects; None when
    any edge has a value the SQL does not write as the Python path answers (or on SQLite)."""
    with read.engine.connect() as conn:
        if conn.dialect.name != "postgresql":
            return None
        key = (query.shape, spec)
        with _LOCK:
            kept = _TEXTS.get(key)
        if kept is None:
            compiled = query.statement.compile(dialect=conn.dialect)
            order = " DESC" if query.backwards else ""
            text = (
                f"SELECT p.earliest, p.first_position, {', '.join(edge_columns(spec))}"
                f" FROM ({compiled.string}) AS p, LATERAL (SELECT p.doc::jsonb AS d OFFSET 0) AS j"
                f" ORDER BY p.earliest{order}, p.first_position{order}"
            )
            # The statement's own constants (the status it leaves out) are bound values too.
            params = compiled.construct_params(query.values)
            constants = {k: v for k, v in params.items() if k not in query.values}
            kept = (text, constants)
            with _LOCK:
                _TEXTS[key] = kept
        text, constants = kept
        driver = conn.connection.driver_connection
        assert driver is not None
        with driver.cursor() as cursor:
            cursor.execute(text, {**constants, **query.values})
            rows = cursor.fetchall()
    first = query.first
    visible = rows[:first]
    if query.backwards:
        visible.reverse()
    edges: list[tuple[str, ...]] = []
    for row in visible:
        parts = row[2:]
        if None in parts:
            return None
        edges.append(parts)
    return JsonPage(
        edges=edges,
        keys=[(r[0].isoformat(), int(r[1])) for r in visible],
        has_next=True if query.backwards else len(rows) > first,
        has_previous=len(rows) > first if query.backwards else query.has_previous,
    )
