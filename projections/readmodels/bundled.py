"""One statement for a decision or a treaty together with the reads its answer makes next.

A compiled `decision(id:)` reads the decision, then for that one id each relation it selects
and its history; a compiled `treaty(id:)` reads the treaty, then its parties. Those reads
take the id the request names, so they need not wait for the first: `decision_with` and
`treaty_with` run them all as one statement (`UNION ALL`, one round trip, one statement to
execute instead of up to ten) and keep what the later reads would answer in the pinned read
model (`ReadModel.prefetched`), where `related_decisions`, `history` and `parties` find it.
Each part is the very query of the read it stands for, with the same conditions and order.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import operator
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from typing import cast as cast_type

from cachetools import LRUCache
from psycopg.rows import namedtuple_row, tuple_row
from sqlalchemy import (
    BigInteger,
    Date,
    Integer,
    String,
    Text,
    bindparam,
    case,
    cast,
    func,
    literal_column,
    null,
    or_,
    select,
    union_all,
)

from projections.readmodels import tables
from projections.readmodels.documents import DecisionDoc, StandingDoc, TreatyDoc
from projections.readmodels.queries import (
    AS_OF,
    ReadModel,
    _statement,
    current_at_param,
    decision_doc,
    history_step,
)
from projections.readmodels.spans import BOUND

HISTORY = None
"""In the reads of `decision_with`: the decision's history."""

STANDINGS = 2
"""Standings read with a treaty, at most (`parties` and `partyCount`, say): a bound on the
statement's size and on the shapes built."""

WRITTEN = 64
"""Treaty statements with parties written as JSON, kept by shape and selection (LRU)."""
PartySpec = tuple[tuple[str, str, Any], ...]
"""A party's selection written as JSON by the statement: (response key, kind, argument) in
the answer's order; kinds `const` (a `__typename`: the argument is the name), `country`,
`status` (the argument: (value, name) pairs) and `since` (a day, YYYY-MM-DD)."""
_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]*\Z")

Read = tuple[str, bool] | None
"""A read a decision's answer makes for its id: (relation, inverse), or HISTORY."""


def _part(number: int) -> Any:
    return literal_column(str(number), Integer).label("part")


_COMPILED: dict[tuple[Any, ...], Any] = {}
"""Each bundled statement compiled for PostgreSQL, by shape (as bounded as the shapes)."""


def _rows(
    read: ReadModel,
    key: tuple[Any, ...],
    build: Callable[[], Any],
    values: dict[str, Any],
    named: bool = True,
) -> list[Any]:
    """The rows of the statement `build` makes for the shape `key`, read by name and by
    place (`named`) or by place only. On PostgreSQL its text, compiled once, runs on the
    driver's own cursor: SQLAlchemy's execution and rows cost about as much as the driver's
    for a statement that returns a treaty's standings."""
    query = _statement(key, build)
    with read.engine.connect() as conn:
        if conn.dialect.name != "postgresql":
            return list(conn.execute(query, values).all())
        compiled = _COMPILED.get(key)
        if compiled is None:
            compiled = _COMPILED[key] = query.compile(dialect=conn.dialect)
        driver = conn.connection.driver_connection
        assert driver is not None
        with driver.cursor(row_factory=namedtuple_row if named else tuple_row) as cursor:
            cursor.execute(compiled.string, compiled.construct_params(values))
            return list(cursor.fetchall())


def _decision_statement(parts_wanted: tuple[bool | None, ...], as_of: int | None) -> Any:
    """The statement for `decision_with`: after the decision, one part for each of
    `parts_wanted`, a relation's decisions (the flag saying whether inverse; the relation
    is a bound value) or the history (None)."""
    d, r, h = tables.decisions, tables.relations, tables.history
    ident = bindparam("id", type_=String(128))
    no_step = (
        cast(null(), String(64)).label("event_type"),
        cast(null(), Text).label("reason"),
        cast(null(), String(64)).label("key_id"),
    )
    decision = (d.c.decision_id, d.c.doc, d.c.status, d.c.valid_from, d.c.recorded_at)
    parts = [
        select(_part(0), *decision, *no_step).where(
            d.c.decision_id == ident, current_at_param(d, as_of)
        )
    ]
    for number, inverse in enumerate(parts_wanted, start=1):
        if inverse is None:
            conditions = [h.c.decision_id == ident]
            if as_of is not None:
                conditions.append(h.c.position <= AS_OF)
            step = (h.c.decision_id, h.c.doc, cast(null(), String(16)).label("status"))
            when = (h.c.position.label("valid_from"), h.c.recorded_at)
            kind = (h.c.event_type, h.c.reason, h.c.key_id)
            parts.append(select(_part(number), *step, *when, *kind).where(*conditions))
            continue
        this, other = (r.c.target_id, r.c.source_id) if inverse else (r.c.source_id, r.c.target_id)
        parts.append(
            select(_part(number), *decision, *no_step)
            .select_from(r.join(d, d.c.decision_id == other))
            .where(this == ident, r.c.relation == bindparam(f"relation{number}"))
            .where(current_at_param(r, as_of), current_at_param(d, as_of))
        )
    # Within a part: a relation's decisions by id (as `related_decisions` orders them), the
    # history by position (as `history` does); the decision part has one row at most.
    order = ("part", "decision_id", "valid_from")
    return union_all(*parts).order_by(*(literal_column(name) for name in order))


@dataclass(frozen=True)
class DecisionRead:
    """`decision_with`'s statement for one request: its shape (`key`, compiled once), its
    bound values and the reads it answers, in the order of its parts."""

    ident: str
    as_of: int | None
    shape: tuple[Read, ...]
    key: tuple[Any, ...]
    flags: tuple[bool | None, ...]
    values: dict[str, Any]

    def statement(self) -> Any:
        return _statement(self.key, lambda: _decision_statement(self.flags, self.as_of))

    def text(self, dialect: Any) -> str:
        """The statement's text for PostgreSQL (`dialect`), compiled once per shape."""
        compiled = _COMPILED.get(self.key)
        if compiled is None:
            compiled = _COMPILED[self.key] = self.statement().compile(dialect=dialect)
        return str(compiled.string)

    def found(self, rows: Sequence[Any], prefetched: dict[Any, Any] | None) -> DecisionDoc | None:
        """The decision the statement's `rows` hold (or None), with what the later reads
        would answer kept in `prefetched` (a pinned read model's) for them."""
        found: DecisionDoc | None = None
        answers: list[list[Any]] = [[] for _ in self.shape]
        for row in rows:
            if row.part == 0:
                found = decision_doc(row)
            elif self.shape[row.part - 1] is HISTORY:
                answers[row.part - 1].append(history_step(row, row.valid_from))
            else:
                answers[row.part - 1].append(decision_doc(row))
        if found is not None and prefetched is not None:
            ident, as_of = self.ident, self.as_of
            for wanted, answer in zip(self.shape, answers, strict=True):
                if wanted is HISTORY:
                    prefetched[("history", ident, as_of)] = answer
                else:
                    relation, inverse = wanted
                    prefetched[("related_decisions", ident, relation, inverse, as_of)] = answer
        return found


def decision_read(ident: str, as_of: int | None, reads: Sequence[Read]) -> DecisionRead:
    """The statement reading decision `ident` as of `as_of` with `reads` for its id."""
    # In a canonical order, so that statements are built for a bounded number of shapes
    # (the relation being a bound value): at most 4 of each direction and the history.
    shape = sorted(set(reads), key=lambda read: (1, False, "") if read is None else (0, *read))
    flags = tuple(None if read is HISTORY else read[1] for read in shape)
    values: dict[str, Any] = {"id": ident}
    if as_of is not None:
        values["as_of"] = as_of
    for number, wanted in enumerate(shape, start=1):
        if wanted is not HISTORY:
            values[f"relation{number}"] = wanted[0]
    key = ("decision_with", as_of is None, flags)
    return DecisionRead(ident, as_of, tuple(shape), key, flags, values)


def decision_with(
    read: ReadModel, ident: str, as_of: int | None, reads: Sequence[Read]
) -> DecisionDoc | None:
    """`read.decision(ident, as_of)`, with what `related_decisions([ident], relation,
    inverse, as_of)` and `history([ident], as_of)` answer for `reads` read in the same
    statement and kept in `read` (a pinned read model) for those calls."""
    wanted = decision_read(ident, as_of, reads)
    rows = _rows(read, wanted.key, wanted.statement, wanted.values)
    return wanted.found(rows, read.prefetched)


def _party_json(spec: PartySpec) -> Any:
    """A party's JSON as the compiled path writes it (see `PartySpec`); NULL for a status no
    name is given for."""
    m = tables.membership

    def sql(text: str) -> Any:
        return literal_column(text, Text)

    parts: list[Any] = [sql("'{'")]
    for number, (key, kind, argument) in enumerate(spec):
        if not _NAME.match(key):
            raise ValueError(f"not a GraphQL name: {key!r}")
        parts.append(sql(f"'{',' if number else ''}\"{key}\":'"))
        if kind == "const":
            if not _NAME.match(argument):
                raise ValueError(f"not a GraphQL name: {argument!r}")
            parts.append(sql(f"'\"{argument}\"'"))
        elif kind == "country":
            parts.append(cast(func.to_json(m.c.country), Text))
        elif kind == "status":
            for _, name in argument:
                if not _NAME.match(name):
                    raise ValueError(f"not a GraphQL name: {name!r}")
            whens = [(m.c.status == value, sql(f"'\"{name}\"'")) for value, name in argument]
            parts.append(case(*whens, else_=cast(null(), Text)))
        elif kind == "since":
            day = func.to_char(m.c.since, sql("'YYYY-MM-DD'"), type_=Text)
            parts.append(sql("'\"'") + day + sql("'\"'"))
        else:
            raise ValueError(f"no such kind: {kind}")
    parts.append(sql("'}'"))
    return functools.reduce(operator.add, parts)


def _treaty_statement(
    standings: tuple[bool, ...], written: tuple[PartySpec | None, ...] = ()
) -> Any:
    """The statement for `treaty_with`; a standing with a spec in `written` is one row whose
    `doc` is its parties' JSON (NULL if any cannot be written)."""
    r, m = tables.records, tables.membership
    no_standing = (
        cast(null(), String(8)).label("country"),
        cast(null(), String(24)).label("status"),
        cast(null(), Date).label("since"),
        cast(null(), Date).label("signed_on"),
        cast(null(), Date).label("withdrawal_on"),
    )
    parts = [
        select(_part(0), r.c.doc, r.c.position, *no_standing).where(
            r.c.kind == "treaty", r.c.record_id == bindparam("id", type_=String(128))
        )
    ]
    for number, current in enumerate(standings, start=1):
        on = bindparam(f"day{number}", type_=Date)
        as_of = None if current else bindparam(f"as_of{number}", type_=BigInteger)
        visible = (
            m.c.valid_to.is_(None)
            if as_of is None
            else (m.c.valid_from <= as_of) & or_(m.c.valid_to.is_(None), m.c.valid_to > as_of)
        )
        columns = (m.c.country, m.c.status, m.c.since, m.c.signed_on, m.c.withdrawal_on)
        no_record = (cast(null(), Text).label("doc"), cast(null(), BigInteger).label("position"))
        conditions = (
            m.c.treaty_id == bindparam("id", type_=String(128)),
            # Bound states only, as `parties` keeps them: half the rows of a treaty's
            # standings are signatories and states that left.
            or_(*(m.c.status == status for status in sorted(BOUND))),
            visible,
            m.c.starts_on <= on,
            or_(m.c.ends_on.is_(None), m.c.ends_on > on),
        )
        spec = written[number - 1] if number <= len(written) else None
        if spec is None:
            parts.append(select(_part(number), *no_record, *columns).where(*conditions))
            continue
        # A party's `since` is always known (the compiled path's filter, as ordinary's).
        each = (
            select(m.c.country.label("country"), _party_json(spec).label("text"))
            .where(*conditions, m.c.since.is_not(None))
            .subquery("w")
        )
        listed = literal_column(
            "CASE WHEN bool_and(w.text IS NOT NULL) IS NOT FALSE"
            " THEN '[' || coalesce(string_agg(w.text, ',' ORDER BY w.country), '') || ']' END",
            Text,
        )
        position = cast(null(), BigInteger).label("position")
        parts.append(
            select(_part(number), listed.label("doc"), position, *no_standing).select_from(each)
        )
    return union_all(*parts).order_by(literal_column("part"), literal_column("country"))


def treaty_with(
    read: ReadModel,
    ident: str,
    standings: Sequence[tuple[int | None, dt.date | None]],
    written: Mapping[tuple[int | None, dt.date | None], PartySpec] | None = None,
) -> TreatyDoc | None:
    """`read.records("treaty", ids=[ident])`'s treaty (or None), with what
    `parties(ident, as_of=..., valid_at=...)` answers for each pair of `standings` read in
    the same statement and kept in `read` (a pinned read model) for those calls.

    On PostgreSQL, the pairs `written` gives a spec for are read as their parties' JSON
    instead (`PartySpec`), kept for `parties_json`; where that JSON cannot be written (a
    status without a name), neither is kept and `parties` reads them alone."""
    today = dt.date.today()
    wanted = tuple(dict.fromkeys((as_of, valid_at or today) for as_of, valid_at in standings))
    wanted = wanted[:STANDINGS]  # any further ones (aliases asking other days) read alone
    shape = tuple(as_of is None for as_of, _ in wanted)
    specs: tuple[PartySpec | None, ...] = ()
    if written and _dialect(read) == "postgresql":
        by_day = {(as_of, valid_at or today): spec for (as_of, valid_at), spec in written.items()}
        specs = tuple(by_day.get(pair) for pair in wanted)
    values: dict[str, Any] = {"id": ident}
    for number, (as_of, day) in enumerate(wanted, start=1):
        values[f"day{number}"] = day
        if as_of is not None:
            values[f"as_of{number}"] = as_of
    if any(specs):
        rows = _written_rows(read, shape, specs, values)
    else:
        rows = _rows(read, ("treaty_with", shape), lambda: _treaty_statement(shape), values, False)
    found: TreatyDoc | None = None
    answers: list[list[StandingDoc] | str | None] = [
        None if number < len(specs) and specs[number] else [] for number in range(len(wanted))
    ]
    # Unpacked by place: a treaty has up to about 200 parties, and reading a row's
    # columns by name costs more than building the standing.
    for part, doc, position, country, status, since, signed_on, withdrawal_on in rows:
        if part == 0:
            found = cast_type(TreatyDoc, {**json.loads(doc), "position": int(position)})
            continue
        answer = answers[part - 1]
        if not isinstance(answer, list):  # written: one row, the parties' JSON (or NULL)
            answers[part - 1] = doc
            continue
        answer.append(
            {
                "country": country,
                "status": status,
                "since": since,
                "signedOn": signed_on,
                "withdrawalOn": withdrawal_on,
            }
        )
    if found is not None and read.prefetched is not None:
        for (as_of, day), answer in zip(wanted, answers, strict=True):
            if isinstance(answer, list):
                read.prefetched[("parties", ident, as_of, day)] = answer
            elif answer is not None:
                read.prefetched[("parties_json", ident, as_of, day)] = answer
    return found


def parties_json(read: ReadModel, ident: str, as_of: int | None, valid_at: Any) -> str | None:
    """The parties' JSON `treaty_with` read for this treaty and standing, or None."""
    found = read._prefetched(("parties_json", ident, as_of, valid_at or dt.date.today()))
    return found if isinstance(found, str) else None


def _dialect(read: ReadModel) -> str:
    with read.engine.connect() as conn:
        return str(conn.dialect.name)


_WRITTEN: LRUCache[tuple[Any, ...], tuple[str, dict[str, Any]]] = LRUCache(WRITTEN)
_WRITTEN_LOCK = threading.Lock()


def _written_rows(
    read: ReadModel,
    shape: tuple[bool, ...],
    specs: tuple[PartySpec | None, ...],
    values: dict[str, Any],
) -> list[Any]:
    """The rows of a treaty's statement with parties written as JSON (PostgreSQL): its text
    compiled once per shape and specs, kept in a bounded cache (specs hold response keys,
    which clients choose)."""
    key = (shape, specs)
    with _WRITTEN_LOCK:
        kept = _WRITTEN.get(key)
    with read.engine.connect() as conn:
        if kept is None:
            compiled = _treaty_statement(shape, specs).compile(dialect=conn.dialect)
            params = compiled.construct_params(values)
            constants = {k: v for k, v in params.items() if k not in values}
            kept = (compiled.string, constants)
            with _WRITTEN_LOCK:
                _WRITTEN[key] = kept
        text, constants = kept
        driver = conn.connection.driver_connection
        assert driver is not None
        with driver.cursor(row_factory=tuple_row) as cursor:
            cursor.execute(text, {**constants, **values})
            return list(cursor.fetchall())
