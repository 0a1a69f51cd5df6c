"""The timelines projection: decisions, their versions, relations and records."""

from __future__ import annotations

import json
from typing import Any, Literal, cast

import orjson
from sqlalchemy import Connection, Table, bindparam, select, update

from domain.dates import FuzzyDate
from domain.decision import Decision, apply_changes, recorded_fields, sort_date
from domain.records import Observation, Statement, Treaty, Weapon
from domain.translation import Translation
from domain.values import DecisionStatus
from domain.vocabulary import Category
from projections.eventlog.bulk import insert_rows
from projections.readmodels import tables
from projections.readmodels.documents import (
    CategoryDoc,
    DateDoc,
    DecisionFields,
    DecisionMeta,
    DecisionVersion,
    TimelineBody,
    WeaponGiven,
    WeaponRef,
)
from projections.readmodels.projector import Applied, Handler, Projection
from projections.readmodels.translations import Translations

RELATIONS: tuple[Literal["reverses", "departsFrom", "supersedes", "implements"], ...] = (
    *("reverses", "departsFrom", "supersedes", "implements"),
)

# Built once: a reused statement memoizes its cache key, a fresh one is rebuilt per event.
_CURRENT = select(tables.decisions.c.decision_id, tables.decisions.c.doc).where(
    tables.decisions.c.stream_id == bindparam("stream"), tables.decisions.c.valid_to.is_(None)
)
_CLOSE = [
    update(table)
    .where(getattr(table.c, column) == bindparam("slug"), table.c.valid_to.is_(None))
    .values(valid_to=bindparam("p"))
    for table, column in (
        (tables.decisions, "decision_id"),
        (tables.timeline, "decision_id"),
        (tables.relations, "source_id"),
    )
]
_RETRACTED = select(tables.decisions.c.decision_id).where(
    tables.decisions.c.decision_id.in_(bindparam("ids", expanding=True)),
    tables.decisions.c.valid_to.is_(None),
    tables.decisions.c.status == DecisionStatus.RETRACTED.value,
)
_CLOSE_LINKS_TO = (
    update(tables.relations)
    .where(tables.relations.c.target_id == bindparam("slug"), tables.relations.c.valid_to.is_(None))
    .values(valid_to=bindparam("p"))
)
_WEAPONS = select(tables.records.c.record_id, tables.records.c.doc).where(
    tables.records.c.kind == "weapon",
    tables.records.c.record_id.in_(bindparam("systems", expanding=True)),
)


_PENDING = "policy_timeline.timelines.pending"
Row = dict[str, Any]
"""A table row to insert: column name -> value."""
Rows = dict[Table, list[Row]]
Open = dict[str, tuple[str, DecisionVersion, list[Row]]]
"""stream id -> (decision id, document, its open rows) of versions written but not inserted."""
Statuses = dict[str, str]
"""decision id -> status of its latest version written but not inserted."""


def _state(conn: Connection) -> tuple[Rows, Open, Statuses]:
    """What is deferred in this connection's current transaction (none from an earlier one)."""
    transaction = conn.get_transaction()
    held = conn.info.get(_PENDING)
    if held is None or held[0] is not transaction:
        held = (transaction, {}, {}, {})
        conn.info[_PENDING] = held
    return held[1], held[2], held[3]


def _held(conn: Connection) -> tuple[Rows, Open]:
    """Rows deferred in this connection's current transaction (none from an earlier one)."""
    rows, written, _ = _state(conn)
    return rows, written


def _pending(conn: Connection) -> Rows:
    return _held(conn)[0]


def dumps(doc: Any) -> str:
    """A document as stored: compact JSON, UTF-8 text unescaped (orjson, several times faster
    than the standard library's encoder; integers past 64 bits fall back to it)."""
    try:
        return orjson.dumps(doc).decode()
    except TypeError:
        return json.dumps(doc, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def date_doc(edtf: str) -> DateDoc:
    """A fuzzy date as the API shows it."""
    date = FuzzyDate(edtf)
    return {
        "edtf": date.edtf,
        "precision": date.precision.value,
        "earliest": date.earliest.isoformat(),
        "latest": date.latest.isoformat(),
        "uncertain": date.uncertain,
        "approximate": date.approximate,
    }


class TimelineProjection(Projection):
    """Country and weapon timelines, decision documents and the other records."""

    name = "timelines"
    # 2: documents written by orjson (floats in exponent form differ in text)
    # 3: timeline entries carry certainty; departsFrom relations; categories as records
    # 4: links from and to a retracted decision close at its retraction
    # 5: history rows written by a projection of their own (`history`)
    version = 5
    writes = (
        *(tables.decisions, tables.timeline, tables.relations),
        *(tables.records, tables.translations),
    )

    def __init__(self) -> None:
        # A weapon system's category never changes once recorded: look each up once.
        self._categories: dict[str, str] = {}
        self.translations = Translations()

    def begin(self, conn: Connection, items: list[Applied]) -> None:
        self.translations.begin(conn, items)

    def flush(self, conn: Connection) -> None:
        """Insert the rows the handlers deferred, a table at a time."""
        for table, rows in _pending(conn).items():
            insert_rows(conn, table, rows)
        conn.info.pop(_PENDING, None)

    @staticmethod
    def _defer(conn: Connection, table: Table, rows: list[Row]) -> None:
        # Inserted in bulk at the end of the batch (or before the next read): one statement
        # per table instead of several per event.
        _pending(conn).setdefault(table, []).extend(rows)

    def handlers(self) -> dict[type, Handler]:
        return {
            Decision.Recorded: self.decision_recorded,
            Decision.Corrected: self.decision_corrected,
            Decision.Retracted: self.decision_retracted,
            Treaty.Recorded: self.record_recorded,
            Weapon.Recorded: self.record_recorded,
            Statement.Recorded: self.record_recorded,
            Observation.Recorded: self.record_recorded,
            Category.Added: self.category_added,
            Translation.Recorded: self.translation_recorded,
        }

    def category_added(self, conn: Connection, item: Applied) -> None:
        """A category a weapon introduced: known from now on to timelines and embeds."""
        event = item.event
        content: CategoryDoc = {"id": event.slug, "introducedBy": event.introduced_by}
        row = {
            "kind": "category",
            "record_id": event.slug,
            "position": item.position,
            "recorded_at": item.recorded_at,
            "ref": None,
            "doc": dumps(content),
        }
        self._defer(conn, tables.records, [row])

    def translation_recorded(self, conn: Connection, item: Applied) -> None:
        self.translations.recorded(conn, item)

    def record_recorded(self, conn: Connection, item: Applied) -> None:
        event = item.event
        kind = type(event).__qualname__.split(".")[0].lower()
        content = event.content
        ref = content.get("about") if kind == "statement" else content.get("indicator")
        if kind == "weapon":
            self._categories[event.slug] = content["category"]
        self._defer(
            conn,
            tables.records,
            [
                {
                    "kind": kind,
                    "record_id": event.slug,
                    "position": item.position,
                    "recorded_at": item.recorded_at,
                    "ref": ref,
                    "doc": dumps(content),
                }
            ],
        )

    def decision_recorded(self, conn: Connection, item: Applied) -> None:
        e = item.event
        fields = cast(
            DecisionFields,
            recorded_fields(e.action, e.decided_on, e.announced_on, e.effective_on, e.details),
        )
        meta: DecisionMeta = {"firstPosition": item.position, "firstRecordedAt": item.recorded_at}
        self._write_version(conn, e.slug, fields, DecisionStatus.ACTIVE, item, meta)

    def decision_corrected(self, conn: Connection, item: Applied) -> None:
        slug, doc = self._close_current(conn, item)
        changes = item.event.changes
        changed = {k for k, v in changes.items() if doc["fields"].get(k) != v}
        self.translations.corrected(conn, item, changed)
        fields = cast(DecisionFields, apply_changes(dict(doc["fields"]), changes))
        self._write_version(conn, slug, fields, DecisionStatus.CORRECTED, item, doc["meta"])

    def decision_retracted(self, conn: Connection, item: Applied) -> None:
        # Its own links closed with its current version; the retracted version opens none,
        # and the links other decisions make to it close here: a retracted decision is
        # linked to nothing from its retraction on (`asOf` before it still shows them).
        slug, doc = self._close_current(conn, item)
        self._write_version(conn, slug, doc["fields"], DecisionStatus.RETRACTED, item, doc["meta"])
        for pending in _pending(conn).get(tables.relations, []):
            if pending["target_id"] == slug and pending["valid_to"] is None:
                pending["valid_to"] = item.position
        conn.execute(_CLOSE_LINKS_TO, {"slug": slug, "p": item.position})

    @staticmethod
    def _retracted(conn: Connection, ids: list[str]) -> set[str]:
        """Those of `ids` whose latest version is retracted: the one written and not yet
        inserted where there is one, else the current row."""
        statuses = _state(conn)[2]
        found = {i for i in ids if statuses.get(i) == DecisionStatus.RETRACTED.value}
        stored = [i for i in ids if i not in statuses]
        if stored:
            found.update(row.decision_id for row in conn.execute(_RETRACTED, {"ids": stored}))
        return found

    def _close_current(self, conn: Connection, item: Applied) -> tuple[str, DecisionVersion]:
        stream = str(item.event.originator_id)
        written = _held(conn)[1].pop(stream, None)
        if written is not None:
            # Its current version is still waiting to be inserted: close it there.
            slug, doc, rows = written
            for pending in rows:
                pending["valid_to"] = item.position
            return slug, doc
        current = conn.execute(_CURRENT, {"stream": stream}).one()
        slug = str(current.decision_id)
        for statement in _CLOSE:
            conn.execute(statement, {"slug": slug, "p": item.position})
        version: DecisionVersion = orjson.loads(current.doc)
        return slug, version

    def _write_version(
        self,
        conn: Connection,
        slug: str,
        fields: DecisionFields,
        status: DecisionStatus,
        item: Applied,
        meta: DecisionMeta,
    ) -> None:
        weapons = self._weapon_refs(conn, fields.get("weapons", []))
        date = sort_date(fields)
        doc: DecisionVersion = {"fields": fields, "meta": meta, "weapons": weapons}
        stream = str(item.event.originator_id)
        version = {
            "decision_id": slug,
            "stream_id": stream,
            "valid_from": item.position,
            "valid_to": None,
            "first_position": meta["firstPosition"],
            "recorded_at": item.recorded_at,
            "status": status.value,
            "doc": dumps(doc),
        }
        self._defer(conn, tables.decisions, [version])
        entry: TimelineBody = {
            "decisionId": slug,
            "headline": fields["headline"],
            "certainty": fields.get("certainty", "OFFICIAL"),
            "action": fields["action"],
            "actor": fields["actor"],
            "recipient": fields.get("recipient"),
            "treaty": fields.get("treaty"),
            "scope": fields.get("scope"),
            "weapons": weapons,
            "date": date_doc(date.edtf),
            "status": status.value,
            "position": item.position,
            "recordedAt": item.recorded_at,
        }
        keys: list[tuple[str, str, str | None]] = [("country", fields["actor"], "ACTOR")]
        if fields.get("recipient") and fields["recipient"] != fields["actor"]:
            keys.append(("country", fields["recipient"], "RECIPIENT"))
        weapon_keys = {("system", system) for w in weapons if (system := w["system"])}
        weapon_keys |= {("category", w["category"]) for w in weapons}
        keys += [(kind, key, None) for kind, key in sorted(weapon_keys)]
        # One serialisation of the entry; each row's document only adds its role at the end.
        body = dumps(entry)[:-1]
        entries = [
            {
                "kind": kind,
                "key": key,
                "decision_id": slug,
                "valid_from": item.position,
                "valid_to": None,
                "earliest": date.earliest,
                "first_position": meta["firstPosition"],
                "role": role,
                "action": fields["action"],
                "status": status.value,
                "doc": f'{body},"role":{dumps(role)}}}',
            }
            for kind, key, role in keys
        ]
        self._defer(conn, tables.timeline, entries)
        # A retracted decision links to nothing, and nothing links to a retracted one.
        linked = (
            {}
            if status is DecisionStatus.RETRACTED
            else {r: t for r in RELATIONS if (t := fields.get(r))}
        )
        if linked:
            retracted = self._retracted(conn, sorted(set(linked.values())))
            linked = {r: t for r, t in linked.items() if t not in retracted}
        relations = [
            {
                "relation": rel,
                "source_id": slug,
                "target_id": target,
                "valid_from": item.position,
                "valid_to": None,
            }
            for rel, target in linked.items()
        ]
        if relations:
            self._defer(conn, tables.relations, relations)
        # A correction later in the same batch closes these rows before they are inserted.
        _, written, statuses = _state(conn)
        written[stream] = (slug, doc, [version, *entries, *relations])
        statuses[slug] = status.value

    def _weapon_refs(self, conn: Connection, weapons: list[WeaponGiven]) -> list[WeaponRef]:
        """Weapon references with the category of each named system filled in."""
        categories = self._categories
        systems = [w["system"] for w in weapons if w.get("system")]
        if any(system not in categories for system in systems):
            self.flush(conn)
            rows = conn.execute(_WEAPONS, {"systems": systems})
            categories.update((row.record_id, orjson.loads(row.doc)["category"]) for row in rows)
        return [
            {"system": w.get("system"), "category": w.get("category") or categories[w["system"]]}
            for w in weapons
        ]
