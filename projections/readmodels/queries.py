"""Reads of the projections, current or as of any log position."""

from __future__ import annotations

import base64
import binascii
import contextlib
import datetime as dt
import functools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal, cast, overload

import orjson
from sqlalchemy import (
    BigInteger,
    BindParameter,
    ColumnElement,
    Connection,
    Date,
    Engine,
    Integer,
    Table,
    and_,
    bindparam,
    func,
    literal,
    literal_column,
    or_,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite

from domain.dates import FuzzyDate, InvalidDate
from domain.errors import FieldError, InvalidInput
from projections.readmodels import tables
from projections.readmodels.documents import (
    CategoryDoc,
    DecisionDoc,
    DecisionVersion,
    FlagDoc,
    HistoryDetails,
    HistoryStep,
    IndicatorDoc,
    LogEntryDoc,
    ObservationDoc,
    RecordDoc,
    StandingDoc,
    StatementDoc,
    TimelineChange,
    TimelineEntry,
    TranslationDoc,
    TreatyDoc,
    WeaponDoc,
)
from projections.readmodels.spans import BOUND

MAX_PAGE = 100
MAX_POSITION = 2**63 - 1
"""The largest log position a cursor may carry: PostgreSQL's bigint (SQLite's integer too)."""


def current_at(table: Table, as_of: int | None) -> ColumnElement[bool]:
    """Row versions that were current after log position `as_of` (None: now)."""
    if as_of is None:
        return table.c.valid_to.is_(None)
    return and_(
        table.c.valid_from <= as_of, or_(table.c.valid_to.is_(None), table.c.valid_to > as_of)
    )


AS_OF: BindParameter[int] = bindparam("as_of", type_=BigInteger)


def current_at_param(table: Table, as_of: int | None) -> ColumnElement[bool]:
    """`current_at` with the position as the bound parameter `as_of` (for a statement built
    once and executed with its values)."""
    if as_of is None:
        return table.c.valid_to.is_(None)
    return and_(
        table.c.valid_from <= AS_OF, or_(table.c.valid_to.is_(None), table.c.valid_to > AS_OF)
    )


_STATEMENTS: dict[tuple[Any, ...], Any] = {}
"""Statements of the hot reads, built once per shape (a few dozen at most) and executed with
bound values: building a statement and its cache key each time cost more CPU than running it."""


def _statement(key: tuple[Any, ...], build: Callable[[], Any]) -> Any:
    found = _STATEMENTS.get(key)
    if found is None:
        found = _STATEMENTS[key] = build()
    return found


def encode_cursor(earliest: str, position: int) -> str:
    raw = json.dumps(["t1", earliest, position], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, int]:
    """Cursor back to its key; a forged or foreign cursor is a clear error."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        tag, earliest, position = json.loads(raw)
        if tag != "t1" or type(position) is not int or not 0 <= position <= MAX_POSITION:
            raise ValueError
        FuzzyDate(earliest)
        return str(earliest), position
    except (ValueError, TypeError, RecursionError, binascii.Error, InvalidDate):
        raise InvalidInput(
            [FieldError(("after",), "not a cursor returned by this timeline")]
        ) from None


@dataclass
class Page:
    """One page of a timeline."""

    entries: list[TimelineEntry]
    keys: list[tuple[str, int]]
    """Each entry's place in the timeline (earliest date, first position): what its cursor holds."""
    has_next: bool
    has_previous: bool

    @functools.cached_property
    def cursors(self) -> list[str]:
        """Each entry's cursor, encoded when first asked for (a page shown whole needs two)."""
        return [encode_cursor(earliest, position) for earliest, position in self.keys]

    def cursor(self, index: int) -> str:
        """One entry's cursor (by index, as in a list)."""
        return encode_cursor(*self.keys[index])


def check_first(first: int) -> int:
    if not 0 <= first <= MAX_PAGE:
        raise InvalidInput([FieldError(("first",), f"must be between 0 and {MAX_PAGE}")])
    return first


def _date_bound(name: str, text: str | None) -> FuzzyDate | None:
    if text is None:
        return None
    try:
        return FuzzyDate(text)
    except InvalidDate as exc:
        raise InvalidInput([FieldError((name,), str(exc))]) from None


def load_doc(text: str) -> Any:
    """A stored document parsed: orjson, several times faster than the standard library, which
    still reads what orjson refuses (NaN). Documents hold no integer past 64 bits, which orjson
    would read as a float: every number a command carries is validated into a decimal string,
    and positions are bigints."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def decision_doc(row: Any) -> DecisionDoc:
    """A decision as read, from its row (decision_id, doc, status, valid_from, recorded_at)."""
    version: DecisionVersion = load_doc(row.doc)
    return cast(
        DecisionDoc,
        {
            "id": row.decision_id,
            **version["fields"],
            "weapons": version["weapons"],
            "status": row.status,
            "position": int(row.valid_from),
            "recordedAt": row.recorded_at,
            **version["meta"],
        },
    )


def history_step(row: Any, position: int) -> HistoryStep:
    """A history step as read, from its row (event_type, recorded_at, reason, key_id, doc)."""
    # Corrections and retractions keep their changes and sources; a recording none.
    doc: HistoryDetails = json.loads(row.doc) if row.doc else {}
    changes = doc.get("changes")
    entry: HistoryStep = {
        "position": int(position),
        "eventType": row.event_type,
        "recordedAt": row.recorded_at,
        "reason": row.reason,
        "keyId": row.key_id,
        "sources": doc.get("sources"),
        "fields": sorted(changes) if isinstance(changes, dict) else None,
    }
    if row.event_type == "Translated":
        entry["translation"] = doc
    return entry


def _timeline_statement(
    names: set[str], as_of: int | None, include_retracted: bool, backwards: bool
) -> Any:
    """The timeline page query for the bound values `names` (see `ReadModel.timeline`)."""
    t = tables.timeline
    conditions = [
        t.c.kind == bindparam("kind"),
        t.c.key == bindparam("key"),
        current_at_param(t, as_of),
    ]
    if "start" in names:
        conditions.append(t.c.earliest >= bindparam("start", type_=Date))
    if "end" in names:
        conditions.append(t.c.earliest <= bindparam("end", type_=Date))
    if "actions" in names:
        conditions.append(t.c.action.in_(bindparam("actions", expanding=True)))
    if not include_retracted:
        conditions.append(t.c.status != "RETRACTED")
    for side in ("after", "before"):
        if f"{side}_earliest" in names:
            bound = tuple_(
                bindparam(f"{side}_earliest", type_=Date),
                bindparam(f"{side}_position", type_=BigInteger),
            )
            keyset = tuple_(t.c.earliest, t.c.first_position)
            conditions.append(keyset > bound if side == "after" else keyset < bound)
    order: tuple[Any, Any] = (
        (t.c.earliest.desc(), t.c.first_position.desc())
        if backwards
        else (t.c.earliest, t.c.first_position)
    )
    query = select(t.c.doc, t.c.earliest, t.c.first_position).where(*conditions)
    return query.order_by(*order).limit(bindparam("limit", type_=Integer))


@dataclass(frozen=True)
class TimelineQuery:
    """A timeline page's statement with its bound values (see `ReadModel.timeline`)."""

    statement: Any
    values: dict[str, Any]
    shape: tuple[Any, ...]
    """What the statement depends on besides its values (it is built once per shape)."""
    first: int
    backwards: bool
    """Read backwards from a `before` cursor: the rows come last first."""
    has_previous: bool


def timeline_query(
    kind: str,
    key: str,
    *,
    first: int = 20,
    after: str | None = None,
    from_: str | None = None,
    to: str | None = None,
    actions: list[str] | None = None,
    include_retracted: bool = False,
    as_of: int | None = None,
    before: str | None = None,
) -> TimelineQuery:
    """The statement of a timeline page and its values, arguments checked (as
    `ReadModel.timeline` reads it: `first` + 1 rows, to know whether there is a next page)."""
    check_first(first)
    start, end = _date_bound("from", from_), _date_bound("to", to)
    values: dict[str, Any] = {"kind": kind, "key": key, "limit": first + 1, "as_of": as_of}
    if start is not None:
        values["start"] = start.earliest
    if end is not None:
        values["end"] = end.latest
    if actions:
        values["actions"] = list(actions)
    has_previous = False
    if after is not None:
        earliest, position = decode_cursor(after)
        values["after_earliest"], values["after_position"] = (
            FuzzyDate(earliest).earliest,
            position,
        )
        has_previous = True
    if before is not None:  # the page just before a cursor: read backwards, then flip
        earliest, position = decode_cursor(before)
        values["before_earliest"] = FuzzyDate(earliest).earliest
        values["before_position"] = position
    shape = ("timeline", as_of is None, include_retracted, before is not None, *sorted(values))
    statement = _statement(
        shape,
        lambda: _timeline_statement(set(values), as_of, include_retracted, before is not None),
    )
    if as_of is None:
        values.pop("as_of")
    return TimelineQuery(statement, values, shape, first, before is not None, has_previous)


TimelineRow = tuple[str, str, int]
"""A timeline page's row: the stored document, the earliest day (ISO text), the first position."""


def timeline_rows(conn: Connection, query: TimelineQuery) -> list[TimelineRow]:
    """The rows of a timeline page's statement (`first` + 1 at most, in the statement's
    order). On SQLite the statement's text, compiled once per shape, runs on the driver's own
    connection, its rows plain tuples: SQLAlchemy's execution and result rows cost as much
    CPU as the query itself there (`sqlalchemy_timeline_rows` reads the same rows through
    SQLAlchemy, as every other backend does)."""
    if conn.dialect.name == "sqlite":
        compiled = _sqlite_timeline(query)
        if compiled is not None:
            text, constants, processors = compiled
            values = {**constants, **query.values}
            for name, process in processors.items():
                if name in values:
                    values[name] = process(values[name])
            driver = conn.connection.driver_connection
            assert driver is not None
            cursor = driver.execute(text, values)
            try:
                return list(cursor.fetchall())
            finally:
                cursor.close()
    return sqlalchemy_timeline_rows(conn, query)


def sqlalchemy_timeline_rows(conn: Connection, query: TimelineQuery) -> list[TimelineRow]:
    """`timeline_rows` through SQLAlchemy's execution, on any backend."""
    rows = conn.execute(query.statement, query.values)
    return [(doc, earliest.isoformat(), position) for doc, earliest, position in rows]


_SQLITE_DIALECT = SQLiteDialect_pysqlite(paramstyle="named")
_SQLITE_TIMELINES: dict[tuple[Any, ...], Any] = {}
"""Each timeline shape's statement compiled for SQLite's driver: its text, its own constants
(the status it leaves out, the offset) and the bind processors of its typed values (days
as ISO text), as SQLAlchemy would bind them; None for a shape with an expanding list."""


def _sqlite_timeline(query: TimelineQuery) -> Any:
    if query.shape in _SQLITE_TIMELINES:
        return _SQLITE_TIMELINES[query.shape]
    compiled = query.statement.compile(dialect=_SQLITE_DIALECT)
    found: Any = None
    if not any(bind.expanding for bind in compiled.binds.values()):
        params = compiled.construct_params(query.values)
        constants = {k: v for k, v in params.items() if k not in query.values}
        processors = {}
        for name, bind in compiled.binds.items():
            process = bind.type.dialect_impl(_SQLITE_DIALECT).bind_processor(_SQLITE_DIALECT)
            if process is not None:
                processors[name] = process
        found = (compiled.string, constants, processors)
    _SQLITE_TIMELINES[query.shape] = found
    return found


def _bound(**values: Any) -> dict[str, Any]:
    """The values a prebuilt statement takes: those given (None: not part of its shape)."""
    return {name: value for name, value in values.items() if value is not None}


class _OneConnection:
    """Stands for an engine whose every `connect()` is the same open connection (left open:
    its owner closes it)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def connect(self) -> contextlib.nullcontext[Connection]:
        return contextlib.nullcontext(self.conn)


class ReadModel:
    """Queries over the projection tables."""

    def __init__(
        self, engine: Engine | _OneConnection, prefetched: dict[Any, Any] | None = None
    ) -> None:
        self.engine = engine
        self.prefetched = prefetched
        """Answers already read for this block of `pinned` (`projections.readmodels.bundled`),
        by read and arguments; None outside such a block."""

    @contextlib.contextmanager
    def pinned(self) -> Iterator[ReadModel]:
        """This read model with every query of the block on one pooled connection: one
        checkout (and its liveness ping) for all the reads of a request, where each query
        alone costs one. Not for sharing between threads.

        On PostgreSQL the block's reads run outside a transaction (autocommit): each is one
        statement, which read committed isolation gives a snapshot of its own either way,
        so a transaction would only add a BEGIN and a ROLLBACK round trip, and the rollback
        makes the driver deallocate the statements it has prepared on that connection."""
        with self.engine.connect() as conn:
            if conn.dialect.name != "postgresql":
                yield ReadModel(_OneConnection(conn), prefetched={})
                return
            # Set on the driver's connection, and reset before the pool takes it back:
            # SQLAlchemy's isolation level option costs several times more per request.
            driver = conn.connection.driver_connection
            assert driver is not None
            driver.autocommit = True
            try:
                yield ReadModel(_OneConnection(conn), prefetched={})
            finally:
                try:
                    conn.rollback()  # nothing to roll back in autocommit: no round trip
                    driver.autocommit = False
                except BaseException:
                    # Never back to the pool in autocommit: a write would not be atomic.
                    conn.invalidate()
                    raise

    def _prefetched(self, key: tuple[Any, ...]) -> Any:
        """What a bundled read of this block already read for `key`, or None."""
        return None if self.prefetched is None else self.prefetched.get(key)

    def timeline(
        self,
        kind: str,
        key: str,
        *,
        first: int = 20,
        after: str | None = None,
        from_: str | None = None,
        to: str | None = None,
        actions: list[str] | None = None,
        include_retracted: bool = False,
        as_of: int | None = None,
        before: str | None = None,
    ) -> Page:
        """A page of the timeline `kind` (country, system, category) for `key`."""
        query = timeline_query(
            kind,
            key,
            first=first,
            after=after,
            from_=from_,
            to=to,
            actions=actions,
            include_retracted=include_retracted,
            as_of=as_of,
            before=before,
        )
        with self.engine.connect() as conn:
            rows = timeline_rows(conn, query)
        visible = rows[:first]
        if query.backwards:
            visible.reverse()
        return Page(
            entries=[load_doc(doc) for doc, _, _ in visible],
            keys=[(earliest, int(position)) for _, earliest, position in visible],
            has_next=True if query.backwards else len(rows) > first,
            has_previous=len(rows) > first if query.backwards else query.has_previous,
        )

    def decision(self, decision_id: str, as_of: int | None = None) -> DecisionDoc | None:
        """The decision as the record stated it (after `as_of`), or None."""
        return self.decisions([decision_id], as_of).get(decision_id)

    def decisions(self, ids: list[str], as_of: int | None = None) -> dict[str, DecisionDoc]:
        """Several decisions in one query, by id."""

        def build() -> Any:
            d = tables.decisions
            return select(
                d.c.decision_id, d.c.doc, d.c.status, d.c.valid_from, d.c.recorded_at
            ).where(
                d.c.decision_id.in_(bindparam("ids", expanding=True)), current_at_param(d, as_of)
            )

        query = _statement(("decisions", as_of is None), build)
        with self.engine.connect() as conn:
            rows = conn.execute(query, _bound(ids=list(ids), as_of=as_of)).all()
        return {row.decision_id: decision_doc(row) for row in rows}

    def related_decisions(
        self, ids: list[str], relation: str, inverse: bool, as_of: int | None = None
    ) -> dict[str, list[DecisionDoc]]:
        """For each id, the decisions it `relation`s (or that `relation` it, if inverse), as
        `decisions` reads them, in `related`'s order; those not current at `as_of` left out.
        One query: what `related` then `decisions` answer in two."""

        def build() -> Any:
            r, d = tables.relations, tables.decisions
            this, other = (
                (r.c.target_id, r.c.source_id) if inverse else (r.c.source_id, r.c.target_id)
            )
            return (
                select(this, d.c.decision_id, d.c.doc, d.c.status, d.c.valid_from, d.c.recorded_at)
                .select_from(r.join(d, d.c.decision_id == other))
                .where(this.in_(bindparam("ids", expanding=True)))
                .where(r.c.relation == bindparam("relation"), current_at_param(r, as_of))
                .where(current_at_param(d, as_of))
                .order_by(other)
            )

        if len(ids) == 1:
            found = self._prefetched(("related_decisions", ids[0], relation, inverse, as_of))
            if found is not None:
                return {ids[0]: found}
        query = _statement(("related_decisions", inverse, as_of is None), build)
        with self.engine.connect() as conn:
            values = _bound(ids=list(ids), relation=relation, as_of=as_of)
            rows = conn.execute(query, values).all()
        result: dict[str, list[DecisionDoc]] = {i: [] for i in ids}
        for row in rows:
            result[row[0]].append(decision_doc(row))
        return result

    def related(
        self, ids: list[str], relation: str, inverse: bool, as_of: int | None = None
    ) -> dict[str, list[str]]:
        """For each id, the decisions it `relation`s (or that `relation` it, if inverse)."""
        r = tables.relations
        this, other = (r.c.target_id, r.c.source_id) if inverse else (r.c.source_id, r.c.target_id)
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(this, other)
                .where(this.in_(ids), r.c.relation == relation, current_at(r, as_of))
                .order_by(other)
            ).all()
        result: dict[str, list[str]] = {i: [] for i in ids}
        for key, value in rows:
            result[key].append(value)
        return result

    def related_sides(
        self, ids: list[str], relations: tuple[str, ...], as_of: int | None = None
    ) -> dict[tuple[str, bool], dict[str, list[str]]]:
        """`related` for each relation, both ways, in one query: by (relation, inverse), for
        each id, the other decisions, in the order `related` gives them."""

        def build() -> Any:
            r = tables.relations
            current = current_at_param(r, as_of)
            wanted: BindParameter[str] = bindparam("ids", expanding=True)
            named: BindParameter[str] = bindparam("relations", expanding=True)
            sides = [
                select(this.label("this"), other.label("other"), r.c.relation, literal(way)).where(
                    this.in_(wanted), r.c.relation.in_(named), current
                )
                for way, (this, other) in enumerate(
                    [(r.c.source_id, r.c.target_id), (r.c.target_id, r.c.source_id)]
                )
            ]
            return union_all(*sides).order_by(literal_column("other"))

        query = _statement(("related_sides", as_of is None), build)
        values = _bound(ids=list(ids), relations=list(relations), as_of=as_of)
        with self.engine.connect() as conn:
            rows = conn.execute(query, values).all()
        result: dict[tuple[str, bool], dict[str, list[str]]] = {
            (rel, inverse): {i: [] for i in ids} for rel in relations for inverse in (False, True)
        }
        for key, value, relation, way in rows:
            result[relation, bool(way)][key].append(value)
        return result

    def history(self, ids: list[str], as_of: int | None = None) -> dict[str, list[HistoryStep]]:

        def build() -> Any:
            h = tables.history
            conditions: list[ColumnElement[bool]] = [
                h.c.decision_id.in_(bindparam("ids", expanding=True))
            ]
            if as_of is not None:
                conditions.append(h.c.position <= AS_OF)
            return select(h).where(*conditions).order_by(h.c.position)

        if len(ids) == 1:
            found = self._prefetched(("history", ids[0], as_of))
            if found is not None:
                return {ids[0]: found}
        query = _statement(("history", as_of is None), build)
        with self.engine.connect() as conn:
            rows = conn.execute(query, _bound(ids=list(ids), as_of=as_of)).all()
        result: dict[str, list[HistoryStep]] = {i: [] for i in ids}
        for row in rows:
            result[row.decision_id].append(history_step(row, row.position))
        return result

    def translations(
        self, kind: str, ids: list[str], as_of: int | None = None
    ) -> dict[str, list[TranslationDoc]]:
        """For each record of `kind` (decision, treaty, ...), its translations by language."""

        def build() -> Any:
            t = tables.translations
            return (
                select(t.c.record_id, t.c.doc)
                .where(
                    t.c.kind == bindparam("kind"),
                    t.c.record_id.in_(bindparam("ids", expanding=True)),
                    current_at_param(t, as_of),
                )
                .order_by(t.c.record_id, t.c.lang)
            )

        query = _statement(("translations", as_of is None), build)
        with self.engine.connect() as conn:
            rows = conn.execute(query, _bound(kind=kind, ids=list(ids), as_of=as_of)).all()
        result: dict[str, list[TranslationDoc]] = {i: [] for i in ids}
        for row in rows:
            result[row.record_id].append(load_doc(row.doc))
        return result

    @overload
    def records(
        self, kind: Literal["treaty"], *, ids: list[str] | None = ..., as_of: int | None = ...
    ) -> list[TreatyDoc]: ...
    @overload
    def records(
        self, kind: Literal["weapon"], *, ids: list[str] | None = ..., as_of: int | None = ...
    ) -> list[WeaponDoc]: ...
    @overload
    def records(
        self,
        kind: Literal["statement"],
        *,
        ids: list[str] | None = ...,
        refs: list[str] | None = ...,
        as_of: int | None = ...,
    ) -> list[StatementDoc]: ...
    @overload
    def records(
        self,
        kind: Literal["observation"],
        *,
        ids: list[str] | None = ...,
        refs: list[str] | None = ...,
        as_of: int | None = ...,
    ) -> list[ObservationDoc]: ...
    @overload
    def records(
        self, kind: Literal["category"], *, ids: list[str] | None = ..., as_of: int | None = ...
    ) -> list[CategoryDoc]: ...
    @overload
    def records(
        self,
        kind: str,
        *,
        ids: list[str] | None = ...,
        refs: list[str] | None = ...,
        as_of: int | None = ...,
    ) -> list[RecordDoc]: ...
    def records(
        self,
        kind: str,
        *,
        ids: list[str] | None = None,
        refs: list[str] | None = None,
        as_of: int | None = None,
    ) -> list[Any]:
        """Treaties, weapons, statements or observations, by id or by what they refer to."""

        def build() -> Any:
            r = tables.records
            conditions = [r.c.kind == bindparam("kind")]
            if ids is not None:
                conditions.append(r.c.record_id.in_(bindparam("ids", expanding=True)))
            if refs is not None:
                conditions.append(r.c.ref.in_(bindparam("refs", expanding=True)))
            if as_of is not None:
                conditions.append(r.c.position <= AS_OF)
            return select(r.c.doc, r.c.position).where(*conditions).order_by(r.c.position)

        query = _statement(("records", ids is None, refs is None, as_of is None), build)
        values = _bound(
            kind=kind,
            ids=None if ids is None else list(ids),
            refs=None if refs is None else list(refs),
            as_of=as_of,
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query, values).all()
        return [{**load_doc(row.doc), "position": int(row.position)} for row in rows]

    def records_by_kind(
        self, wanted: dict[str, list[str]], as_of: int | None = None
    ) -> dict[str, list[Any]]:
        """`records(kind, ids=...)` for several kinds at once, in one query: by kind, the
        records of those ids, in the order `records` gives them."""
        found: dict[str, list[Any]] = {kind: [] for kind in wanted}
        asked = [(kind, ids) for kind, ids in wanted.items() if ids]
        if not asked:
            return found

        def build() -> Any:
            r = tables.records
            conditions = [
                or_(
                    *(
                        and_(
                            r.c.kind == bindparam(f"kind{i}"),
                            r.c.record_id.in_(bindparam(f"ids{i}", expanding=True)),
                        )
                        for i in range(len(asked))
                    )
                )
            ]
            if as_of is not None:
                conditions.append(r.c.position <= AS_OF)
            return select(r.c.kind, r.c.doc, r.c.position).where(*conditions).order_by(r.c.position)

        query = _statement(("records_by_kind", len(asked), as_of is None), build)
        values: dict[str, Any] = _bound(as_of=as_of)
        for i, (kind, ids) in enumerate(asked):
            values[f"kind{i}"], values[f"ids{i}"] = kind, list(ids)
        with self.engine.connect() as conn:
            rows = conn.execute(query, values).all()
        for row in rows:
            found[row.kind].append({**load_doc(row.doc), "position": int(row.position)})
        return found

    def record_exists(self, kind: str, record_id: str) -> bool:
        """Whether a record of `kind` (treaty, weapon, category, ...) has this id."""
        r = tables.records
        query = select(r.c.position).where(r.c.kind == kind, r.c.record_id == record_id)
        with self.engine.connect() as conn:
            return conn.execute(query.limit(1)).first() is not None

    def indicator_exists(self, indicator: str) -> bool:
        """Whether any observation was recorded for `indicator`."""
        r = tables.records
        query = select(r.c.position).where(r.c.kind == "observation", r.c.ref == indicator)
        with self.engine.connect() as conn:
            return conn.execute(query.limit(1)).first() is not None

    def indicators(self) -> list[IndicatorDoc]:
        """Each indicator with the label and unit of its latest observation.

        When the latest observation gives no label, the latest one that does names it; with
        none at all the label is the indicator's id."""
        r = tables.records
        observed = r.c.kind == "observation"
        latest = (
            select(r.c.ref, func.max(r.c.position).label("position"))
            .where(observed)
            .group_by(r.c.ref)
            .subquery()
        )
        query = (
            select(r.c.ref, r.c.doc)
            .join(latest, and_(r.c.ref == latest.c.ref, r.c.position == latest.c.position))
            .where(observed)
            .order_by(r.c.ref)
        )
        found: list[IndicatorDoc] = []
        with self.engine.connect() as conn:
            for ref, doc in conn.execute(query).all():
                latest_doc: ObservationDoc = json.loads(doc)
                label = latest_doc.get("label") or self._latest_label(conn, ref)
                found.append({"id": ref, "label": label or ref, "unit": latest_doc.get("unit")})
        return found

    @staticmethod
    def _latest_label(conn: Any, indicator: str) -> str | None:
        r = tables.records
        rows = conn.execute(
            select(r.c.doc)
            .where(r.c.kind == "observation", r.c.ref == indicator, r.c.doc.contains('"label"'))
            .order_by(r.c.position.desc())
        )
        for (doc,) in rows:
            label = json.loads(doc).get("label")
            if label:
                return str(label)
        return None

    def observations(
        self, indicator: str, *, scope: str | None = None, as_of: int | None = None
    ) -> list[ObservationDoc]:
        """Observations of an indicator; `conflict` marks values other sources contradict."""
        docs = self.records("observation", refs=[indicator], as_of=as_of)
        values: dict[tuple[str, str], set[str | float]] = {}
        for doc in docs:
            values.setdefault((doc["scope"], doc["period"]), set()).add(doc["value"])
        return [
            {**doc, "conflict": len(values[(doc["scope"], doc["period"])]) > 1}
            for doc in docs
            if scope is None or doc["scope"] == scope
        ]

    def observations_by_id(self, ids: list[str]) -> list[ObservationDoc]:
        found: list[ObservationDoc] = []
        for doc in self.records("observation", ids=ids):
            same = self.observations(doc["indicator"], scope=doc["scope"])
            found += [o for o in same if o["id"] == doc["id"]]
        return found

    def audit_log(self, *, after: int = 0, first: int = 100) -> list[LogEntryDoc]:
        """Log entries with their hashes, in position order."""
        from projections.eventlog.ledger import log

        with self.engine.connect() as conn:
            rows = conn.execute(
                select(log).where(log.c.position > after).order_by(log.c.position).limit(first)
            ).all()
        return [
            {
                "position": int(r.position),
                "eventId": r.event_id,
                "eventType": r.event_type,
                "streamId": r.stream_id,
                "version": int(r.version),
                "recordedAt": r.recorded_at,
                "leafHash": r.leaf_hash,
                "chainHash": r.chain_hash,
            }
            for r in rows
        ]

    def changes_after(self, position: int, limit: int = 500) -> list[TimelineChange]:
        """Timeline row versions written after `position`: what subscribers are told.

        About `limit` rows, never cutting a position in two: the caller resumes after the
        last position returned, so every row of that position must be in this answer."""
        t = tables.timeline
        newer = t.c.valid_from > position
        with self.engine.connect() as conn:
            last = conn.execute(
                select(t.c.valid_from)
                .where(newer)
                .order_by(t.c.valid_from)
                .offset(limit - 1)
                .limit(1)
            ).scalar()
            bounded = newer if last is None else and_(newer, t.c.valid_from <= last)
            rows = conn.execute(
                select(t.c.kind, t.c.key, t.c.valid_from, t.c.doc)
                .where(bounded)
                .order_by(t.c.valid_from)
            ).all()
        return [
            {
                "kind": r.kind,
                "key": r.key,
                "position": int(r.valid_from),
                "entry": json.loads(r.doc),
            }
            for r in rows
        ]

    def parties(
        self, treaty: str, *, as_of: int | None = None, valid_at: dt.date | None = None
    ) -> list[StandingDoc]:
        """States bound by a treaty on the calendar date `valid_at` (today when None)."""
        found = self._prefetched(("parties", treaty, as_of, valid_at or dt.date.today()))
        if found is not None:
            return cast(list[StandingDoc], found)
        return [
            r
            for r in self.standings(treaty, as_of=as_of, valid_at=valid_at)
            if r["status"] in BOUND
        ]

    def signatories(
        self, treaty: str, *, as_of: int | None = None, valid_at: dt.date | None = None
    ) -> list[StandingDoc]:
        """States that signed a treaty and are not yet bound by it on `valid_at`."""
        return self.standings(treaty, as_of=as_of, valid_at=valid_at, status="SIGNATORY")

    def standings(
        self,
        treaty: str,
        *,
        as_of: int | None = None,
        valid_at: dt.date | None = None,
        country: str | None = None,
        status: str | None = None,
    ) -> list[StandingDoc]:
        """Every recorded standing towards a treaty on `valid_at` (one state's with `country`)."""
        day = valid_at or dt.date.today()

        def build() -> Any:
            m = tables.membership
            on = bindparam("day", type_=Date)
            conditions = [
                m.c.treaty_id == bindparam("treaty"),
                current_at_param(m, as_of),
                m.c.starts_on <= on,
                or_(m.c.ends_on.is_(None), m.c.ends_on > on),
            ]
            if country is not None:
                conditions.append(m.c.country == bindparam("country"))
            if status is not None:
                conditions.append(m.c.status == bindparam("status"))
            columns = (m.c.country, m.c.status, m.c.since, m.c.signed_on, m.c.withdrawal_on)
            return select(*columns).where(*conditions).order_by(m.c.country)

        query = _statement(("standings", as_of is None, country is None, status is None), build)
        values = _bound(treaty=treaty, day=day, country=country, status=status, as_of=as_of)
        with self.engine.connect() as conn:
            rows = conn.execute(query, values).all()
        return [
            {
                "country": r.country,
                "status": r.status,
                "since": r.since,
                "signedOn": r.signed_on,
                "withdrawalOn": r.withdrawal_on,
            }
            for r in rows
        ]

    def standing(
        self,
        treaty: str,
        country: str,
        *,
        as_of: int | None = None,
        valid_at: dt.date | None = None,
    ) -> StandingDoc:
        """One state's standing on `valid_at`: NON_PARTY when nothing recorded binds or signs."""
        rows = self.standings(treaty, as_of=as_of, valid_at=valid_at, country=country)
        if rows:
            return rows[0]
        return {
            "country": country,
            "status": "NON_PARTY",
            "since": None,
            "signedOn": None,
            "withdrawalOn": None,
        }

    def compliance_flags(
        self, *, country: str | None = None, decision: str | None = None, as_of: int | None = None
    ) -> list[FlagDoc]:
        """Transfers and uses a treaty forbids to the state it binds, with that state's standing."""
        c = tables.compliance_flags
        conditions = [current_at(c, as_of)]
        if country is not None:
            conditions.append(c.c.country == country)
        if decision is not None:
            conditions.append(c.c.decision_id == decision)
        query = (
            select(c)
            .where(*conditions)
            .order_by(
                c.c.decided_on,
                c.c.decision_id,
                c.c.treaty_id,
                c.c.country,
                c.c.weapon_category,
                c.c.act,  # a transfer to oneself is flagged twice: ACQUIRE and TRANSFER
            )
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [flag_doc(r) for r in rows]

    def flags_of(self, ids: list[str], as_of: int | None = None) -> dict[str, list[FlagDoc]]:
        """The compliance flags of several decisions in one query, by decision id."""

        def build() -> Any:
            c = tables.compliance_flags
            return (
                select(c)
                .where(
                    c.c.decision_id.in_(bindparam("ids", expanding=True)),
                    current_at_param(c, as_of),
                )
                .order_by(c.c.decision_id, c.c.treaty_id, c.c.country, c.c.weapon_category, c.c.act)
            )

        query = _statement(("flags_of", as_of is None), build)
        with self.engine.connect() as conn:
            rows = conn.execute(query, _bound(ids=list(ids), as_of=as_of)).all()
        found: dict[str, list[FlagDoc]] = {}
        for row in rows:
            found.setdefault(row.decision_id, []).append(flag_doc(row))
        return found

    def observations_in(
        self, scope: str, *, as_of: int | None = None, limit: int = 200
    ) -> list[ObservationDoc]:
        """The latest `limit` observations of one scope (a country or WORLD), conflicts marked."""

        def build() -> Any:
            r = tables.records
            # Records have no scope column: documents are compact JSON (`timelines.dumps`), so
            # this prefilter finds the scope's rows and the check below keeps the exact ones.
            conditions = [r.c.kind == "observation", r.c.doc.contains(bindparam("scope_text"))]
            if as_of is not None:
                conditions.append(r.c.position <= AS_OF)
            query = select(r.c.doc, r.c.position).where(*conditions)
            return query.order_by(r.c.position.desc()).limit(bindparam("limit", type_=Integer))

        query = _statement(("observations_in", as_of is None), build)
        text = f'"scope":{json.dumps(scope)}'
        bound = _bound(scope_text=text, limit=limit, as_of=as_of)
        with self.engine.connect() as conn:
            rows = conn.execute(query, bound).all()
        docs = [
            cast(ObservationDoc, {**load_doc(row.doc), "position": int(row.position)})
            for row in rows
        ]
        return with_conflicts([d for d in reversed(docs) if d.get("scope") == scope])


def with_conflicts(docs: list[ObservationDoc]) -> list[ObservationDoc]:
    """One scope's observations, each marked `conflict` when another gives its indicator and
    period a different value."""
    values: dict[tuple[str, str], set[str]] = {}
    for doc in docs:
        values.setdefault((doc["indicator"], doc["period"]), set()).add(str(doc["value"]))
    return [{**d, "conflict": len(values[(d["indicator"], d["period"])]) > 1} for d in docs]


def flag_doc(r: Any) -> FlagDoc:
    """A compliance flag row as the API reads it."""
    return {
        "decisionId": r.decision_id,
        "country": r.country,
        "treaty": r.treaty_id,
        "weaponCategory": r.weapon_category,
        "act": r.act,
        "decidedOn": r.decided_on,
        "status": r.status,
        "since": r.since,
        "statusOn": r.status_on,
        "withdrawalOn": r.withdrawal_on,
    }
