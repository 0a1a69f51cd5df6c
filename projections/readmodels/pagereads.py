"""Everything an embed page reads beside its timeline page: one statement on PostgreSQL, the
read model's queries on the driver's connection on SQLite."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import text

from projections.readmodels import tables
from projections.readmodels.documents import (
    DecisionDoc,
    FlagDoc,
    HistoryStep,
    ObservationDoc,
    StatementDoc,
    TreatyDoc,
)
from projections.readmodels.queries import (
    ReadModel,
    decision_doc,
    flag_doc,
    history_step,
    load_doc,
    with_conflicts,
)


@dataclass
class PageReads:
    """What the read model's methods answer for one page of entries, each as that method
    answers it (named beside each field)."""

    linked: dict[tuple[str, bool], dict[str, list[str]]]
    """`related_sides(ids, relations)`."""
    decisions: dict[str, DecisionDoc]
    """`decisions` of the page's ids and of those their links name."""
    names: dict[str, list[Any]]
    """`records_by_kind` of the weapons and treaties the entries name."""
    flags: dict[str, list[FlagDoc]]
    """`flags_of` the page's decisions."""
    flagged: list[TreatyDoc]
    """`records("treaty", ids=...)` of the treaties those flags name."""
    history: dict[str, list[HistoryStep]]
    """`history` of the page's decisions that were corrected or retracted."""
    statements: list[StatementDoc]
    """`records("statement", refs=...)` about the page's decisions."""
    figures: list[ObservationDoc]
    """`observations_in(scope, limit=...)`, or nothing without a scope."""


def page_reads(
    read: ReadModel,
    ids: list[str],
    relations: tuple[str, ...],
    names: dict[str, list[str]],
    *,
    scope: str | None,
    figures: int,
    as_of: int | None,
) -> PageReads:
    """Everything one page of entries reads after its timeline page: on PostgreSQL one
    statement that answers it as JSON (a round trip and a statement's overhead per result
    saved); on SQLite the read model's queries on the driver's connection (`_on_sqlite`);
    elsewhere the read model's methods, one query each."""
    with read.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            values = {
                "ids": ids,
                "relations": list(relations),
                "weapons": names.get("weapon", []),
                "treaties": names.get("treaty", []),
                "scope_text": _scope_text(scope or ""),
                "figures": figures if scope is not None else 0,
            }
            if as_of is not None:
                values["as_of"] = as_of
            found = conn.execute(_statement(as_of is None), values).scalar_one()
            return _parsed(load_doc(found), ids, relations, names, scope)
        if conn.dialect.name == "sqlite":
            driver = conn.connection.driver_connection
            assert driver is not None
            return _on_sqlite(driver, ids, relations, names, scope, figures, as_of)
    return _one_by_one(read, ids, relations, names, scope, figures, as_of)


def _on_sqlite(
    driver: Any,
    ids: list[str],
    relations: tuple[str, ...],
    names: dict[str, list[str]],
    scope: str | None,
    figures: int,
    as_of: int | None,
) -> PageReads:
    """What `_one_by_one` reads, by the same queries run on SQLite's own connection: each
    `IN` list one JSON array (`json_each`) instead of a parameter per id, and the rows as plain
    tuples (SQLAlchemy's expanded parameters and result rows cost more CPU than the queries)."""
    sql = _SQLITE[as_of is None]

    def rows(name: str, **values: Any) -> list[Any]:
        if as_of is not None:
            values["as_of"] = as_of
        cursor = driver.execute(sql[name], values)
        try:
            return list(cursor.fetchall())
        finally:
            cursor.close()

    linked: dict[tuple[str, bool], dict[str, list[str]]] = {
        (rel, inverse): {i: [] for i in ids} for rel in relations for inverse in (False, True)
    }
    for this, other, relation, way in rows("links", ids=_array(ids), relations=_array(relations)):
        linked[relation, bool(way)][this].append(other)
    on_page = set(ids)
    others = {i for side in linked.values() for found in side.values() for i in found}
    wanted = [*ids, *sorted(others - on_page)]
    known = {
        row[0]: decision_doc(_DecisionRow(*row)) for row in rows("decisions", ids=_array(wanted))
    }
    mine = sorted(i for i in ids if i in known)
    flags: dict[str, list[FlagDoc]] = {}
    for row in rows("flags", ids=_array(mine)):
        decision, country, treaty, category, act = row[:5]
        days = [_day(row[i]) for i in (5, 7, 8, 9)]
        flag = _FlagRow(decision, country, treaty, category, act, days[0], row[6], *days[1:])
        flags.setdefault(decision, []).append(flag_doc(flag))
    flagged = sorted({f["treaty"] for fs in flags.values() for f in fs})
    changed = [i for i in mine if known[i].get("status") != "ACTIVE"]
    history: dict[str, list[HistoryStep]] = {i: [] for i in changed}
    if changed:
        for row in rows("history", ids=_array(changed)):
            step = _StepRow(*row)
            history[step.decision_id].append(history_step(step, step.position))
    asked = [[kind, i] for kind, named in names.items() for i in named]
    by_kind: dict[str, list[Any]] = {kind: [] for kind in names}
    if asked:
        for kind, doc, position in rows("names", pairs=_array(asked)):
            by_kind[kind].append({**load_doc(doc), "position": int(position)})
    kept: list[ObservationDoc] = []
    if scope:
        found = _records(rows("figures", scope_text=_scope_text(scope), limit=figures))
        kept = with_conflicts([d for d in reversed(found) if d.get("scope") == scope])
    return PageReads(
        linked=linked,
        decisions=known,
        names=by_kind,
        flags=flags,
        flagged=_records(rows("flagged", ids=_array(flagged))) if flagged else [],
        history=history,
        statements=_records(rows("statements", ids=_array(mine))),
        figures=kept,
    )


def _array(values: Any) -> str:
    return json.dumps(list(values), separators=(",", ":"))


def _sqlite_statements(now: bool) -> dict[str, str]:
    """The SQL of `_on_sqlite`, now or as of a position (`:as_of`): the read model's queries
    for the page, each in the order its method gives."""
    as_of = not now
    recorded = "" if now else " AND position <= :as_of"
    listed = "IN (SELECT value FROM json_each(:ids))"
    t = tables
    current = _current(t.relations.name, as_of)
    side = (
        f"FROM {t.relations.name} WHERE {{}} {listed}"
        f" AND relation IN (SELECT value FROM json_each(:relations)) AND {current}"
    )
    return {
        "links": f"SELECT source_id, target_id, relation, 0 {side.format('source_id')}"
        f" UNION ALL SELECT target_id, source_id, relation, 1 {side.format('target_id')}"
        " ORDER BY 2",
        "decisions": "SELECT decision_id, doc, status, valid_from, recorded_at"
        f" FROM {t.decisions.name} WHERE decision_id {listed}"
        f" AND {_current(t.decisions.name, as_of)}",
        "flags": "SELECT decision_id, country, treaty_id, weapon_category, act, decided_on,"
        f" status, since, status_on, withdrawal_on FROM {t.compliance_flags.name}"
        f" WHERE decision_id {listed} AND {_current(t.compliance_flags.name, as_of)}"
        " ORDER BY decision_id, treaty_id, country, weapon_category, act",
        "history": "SELECT decision_id, position, event_type, recorded_at, reason, key_id, doc"
        f" FROM {t.history.name} WHERE decision_id {listed}{recorded} ORDER BY position",
        "names": f"SELECT kind, doc, position FROM {t.records.name}"
        " WHERE (kind, record_id) IN (SELECT json_extract(value, '$[0]'),"
        f" json_extract(value, '$[1]') FROM json_each(:pairs)){recorded} ORDER BY position",
        "flagged": f"SELECT doc, position FROM {t.records.name}"
        f" WHERE kind = 'treaty' AND record_id {listed}{recorded} ORDER BY position",
        "statements": f"SELECT doc, position FROM {t.records.name}"
        f" WHERE kind = 'statement' AND ref {listed}{recorded} ORDER BY position",
        "figures": f"SELECT doc, position FROM {t.records.name}"
        f" WHERE kind = 'observation' AND doc LIKE '%' || :scope_text || '%'{recorded}"
        " ORDER BY position DESC LIMIT :limit",
    }


def _scope_text(scope: str) -> str:
    # As `observations_in` finds a scope's rows in compact JSON documents.
    return f'"scope":{json.dumps(scope)}'


def _one_by_one(
    read: ReadModel,
    ids: list[str],
    relations: tuple[str, ...],
    names: dict[str, list[str]],
    scope: str | None,
    figures: int,
    as_of: int | None,
) -> PageReads:
    linked = read.related_sides(ids, relations, as_of)
    on_page = set(ids)
    others = {i for side in linked.values() for found in side.values() for i in found}
    known = read.decisions([*ids, *sorted(others - on_page)], as_of)
    mine = sorted(i for i in ids if i in known)
    flags = read.flags_of(mine, as_of)
    flagged = sorted({f["treaty"] for fs in flags.values() for f in fs})
    changed = [i for i in mine if known[i].get("status") != "ACTIVE"]
    return PageReads(
        linked=linked,
        decisions=known,
        names=read.records_by_kind(names, as_of),
        flags=flags,
        flagged=read.records("treaty", ids=flagged, as_of=as_of) if flagged else [],
        history=read.history(changed, as_of) if changed else {},
        statements=read.records("statement", refs=mine, as_of=as_of),
        figures=read.observations_in(scope, as_of=as_of, limit=figures) if scope else [],
    )


class _DecisionRow(NamedTuple):
    """A decision's row as `decision_doc` reads it."""

    decision_id: str
    doc: str
    status: str
    valid_from: int
    recorded_at: str


class _StepRow(NamedTuple):
    """A history row as `history_step` reads it."""

    decision_id: str
    position: int
    event_type: str
    recorded_at: str
    reason: str | None
    key_id: str | None
    doc: str | None


class _FlagRow(NamedTuple):
    """A compliance flag's row as `flag_doc` reads it (days parsed back from JSON)."""

    decision_id: str
    country: str
    treaty_id: str
    weapon_category: str
    act: str
    decided_on: dt.date | None
    status: str
    since: dt.date | None
    status_on: dt.date | None
    withdrawal_on: dt.date | None


def _day(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value is not None else None


def _parsed(
    found: dict[str, Any],
    ids: list[str],
    relations: tuple[str, ...],
    names: dict[str, list[str]],
    scope: str | None,
) -> PageReads:
    """The statement's JSON in the shapes the read model's methods answer."""
    linked: dict[tuple[str, bool], dict[str, list[str]]] = {
        (rel, inverse): {i: [] for i in ids} for rel in relations for inverse in (False, True)
    }
    for this, other, relation, way in found["links"] or []:
        linked[relation, bool(way)][this].append(other)
    decisions = {row[0]: decision_doc(_DecisionRow(*row)) for row in found["decisions"] or []}
    by_kind: dict[str, list[Any]] = {kind: [] for kind in names}
    for kind, doc, position in found["names"] or []:
        by_kind[kind].append({**load_doc(doc), "position": position})
    flags: dict[str, list[FlagDoc]] = {}
    for row in found["flags"] or []:
        decision, country, treaty, category, act = row[:5]
        days = [_day(row[i]) for i in (5, 7, 8, 9)]
        flag = _FlagRow(decision, country, treaty, category, act, days[0], row[6], *days[1:])
        flags.setdefault(decision, []).append(flag_doc(flag))
    on_page = set(ids)
    changed = sorted(i for i, d in decisions.items() if i in on_page and d["status"] != "ACTIVE")
    history: dict[str, list[HistoryStep]] = {i: [] for i in changed}
    for row in found["history"] or []:
        step = _StepRow(*row)
        history[step.decision_id].append(history_step(step, step.position))
    observations: list[ObservationDoc] = _records(found["figures"])
    kept = [d for d in reversed(observations) if d.get("scope") == scope]
    return PageReads(
        linked=linked,
        decisions=decisions,
        names=by_kind,
        flags=flags,
        flagged=_records(found["flagged"]),
        history=history,
        statements=_records(found["statements"]),
        figures=with_conflicts(kept) if scope else [],
    )


def _records(rows: list[list[Any]] | None) -> list[Any]:
    """Records as `records` reads them: each document with its position."""
    return [{**load_doc(doc), "position": position} for doc, position in rows or []]


def _current(alias: str, as_of: bool) -> str:
    if not as_of:
        return f"{alias}.valid_to IS NULL"
    return (
        f"{alias}.valid_from <= :as_of AND ({alias}.valid_to IS NULL OR {alias}.valid_to > :as_of)"
    )


def _statement(now: bool) -> Any:
    """The page's reads as one statement answering one JSON text (each stored document in
    it as a string, parsed as the read model's methods parse it)."""
    found = _STATEMENTS.get(now)
    if found is not None:
        return found
    as_of = not now
    recorded = "" if now else " AND r.position <= :as_of"
    written = "" if now else " AND h.position <= :as_of"
    t = tables
    sql = f"""
WITH page AS (SELECT unnest(CAST(:ids AS varchar[])) AS id),
links AS (
  SELECT r.source_id AS this, r.target_id AS other, r.relation, 0 AS way
  FROM {t.relations.name} r
  WHERE r.source_id IN (SELECT id FROM page)
    AND r.relation = ANY(CAST(:relations AS varchar[])) AND {_current("r", as_of)}
  UNION ALL
  SELECT r.target_id, r.source_id, r.relation, 1
  FROM {t.relations.name} r
  WHERE r.target_id IN (SELECT id FROM page)
    AND r.relation = ANY(CAST(:relations AS varchar[])) AND {_current("r", as_of)}
),
decs AS (
  SELECT d.decision_id, d.doc, d.status, d.valid_from, d.recorded_at
  FROM {t.decisions.name} d
  WHERE d.decision_id IN (SELECT id FROM page UNION SELECT other FROM links)
    AND {_current("d", as_of)}
),
mine AS (SELECT decision_id, status FROM decs WHERE decision_id IN (SELECT id FROM page)),
flags AS (
  SELECT c.* FROM {t.compliance_flags.name} c
  WHERE c.decision_id IN (SELECT decision_id FROM mine) AND {_current("c", as_of)}
)
SELECT json_build_object(
  'links', (SELECT json_agg(json_build_array(this, other, relation, way) ORDER BY other)
            FROM links),
  'decisions', (SELECT json_agg(json_build_array(decision_id, doc, status,
                                                 valid_from, recorded_at)) FROM decs),
  'names', (SELECT json_agg(json_build_array(r.kind, r.doc, r.position)
                            ORDER BY r.position)
            FROM {t.records.name} r
            WHERE ((r.kind = 'weapon' AND r.record_id = ANY(CAST(:weapons AS varchar[])))
               OR (r.kind = 'treaty' AND r.record_id = ANY(CAST(:treaties AS varchar[]))))
              {recorded}),
  'flags', (SELECT json_agg(json_build_array(decision_id, country, treaty_id, weapon_category,
                                             act, decided_on, status, since, status_on,
                                             withdrawal_on)
                            ORDER BY decision_id, treaty_id, country, weapon_category, act)
            FROM flags),
  'flagged', (SELECT json_agg(json_build_array(r.doc, r.position)
                              ORDER BY r.position)
              FROM {t.records.name} r
              WHERE r.kind = 'treaty' AND r.record_id IN (SELECT treaty_id FROM flags)
                {recorded}),
  'history', (SELECT json_agg(json_build_array(h.decision_id, h.position, h.event_type,
                                               h.recorded_at, h.reason, h.key_id,
                                               h.doc)
                              ORDER BY h.position)
              FROM {t.history.name} h
              WHERE h.decision_id IN (SELECT decision_id FROM mine WHERE status <> 'ACTIVE')
                {written}),
  'statements', (SELECT json_agg(json_build_array(r.doc, r.position)
                                 ORDER BY r.position)
                 FROM {t.records.name} r
                 WHERE r.kind = 'statement' AND r.ref IN (SELECT decision_id FROM mine)
                   {recorded}),
  'figures', (SELECT json_agg(json_build_array(o.doc, o.position)
                              ORDER BY o.position DESC)
              FROM (SELECT r.doc, r.position FROM {t.records.name} r
                    WHERE r.kind = 'observation' AND r.doc LIKE '%' || :scope_text || '%'
                      {recorded}
                    ORDER BY r.position DESC LIMIT :figures) o)
)::text
"""
    found = _STATEMENTS[now] = text(sql)
    return found


_STATEMENTS: dict[bool, Any] = {}
_SQLITE = {now: _sqlite_statements(now) for now in (True, False)}
