"""The timelines projection: decisions, their versions, relations, history and records."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, and_, insert, select, update

from domain.dates import FuzzyDate
from domain.decision import Decision, apply_changes, recorded_fields, sort_date
from domain.records import Observation, Statement, Treaty, Weapon
from domain.values import DecisionStatus
from projections import tables
from projections.projector import Applied, Handler, Projection

RELATIONS = ("reverses", "supersedes", "implements")


def dumps(doc: Any) -> str:
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


def date_doc(edtf: str) -> dict[str, Any]:
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

    def handlers(self) -> dict[type, Handler]:
        return {
            Decision.Recorded: self.decision_recorded,
            Decision.Corrected: self.decision_corrected,
            Decision.Retracted: self.decision_retracted,
            Treaty.Recorded: self.record_recorded,
            Weapon.Recorded: self.record_recorded,
            Statement.Recorded: self.record_recorded,
            Observation.Recorded: self.record_recorded,
        }

    def record_recorded(self, conn: Connection, item: Applied) -> None:
        event = item.event
        kind = type(event).__qualname__.split(".")[0].lower()
        content = event.content
        ref = content.get("about") if kind == "statement" else content.get("indicator")
        conn.execute(
            insert(tables.records).values(
                kind=kind,
                record_id=event.slug,
                position=item.position,
                recorded_at=item.recorded_at,
                ref=ref,
                doc=dumps(content),
            )
        )

    def decision_recorded(self, conn: Connection, item: Applied) -> None:
        e = item.event
        fields = recorded_fields(e.action, e.decided_on, e.announced_on, e.effective_on, e.details)
        meta = {"firstPosition": item.position, "firstRecordedAt": item.recorded_at}
        self._write_version(conn, e.slug, fields, DecisionStatus.ACTIVE, item, meta)
        self._history(conn, e.slug, item, "Recorded", None, e.key_id)

    def decision_corrected(self, conn: Connection, item: Applied) -> None:
        slug, doc = self._close_current(conn, item)
        fields = apply_changes(doc["fields"], item.event.changes)
        self._write_version(conn, slug, fields, DecisionStatus.CORRECTED, item, doc["meta"])
        self._history(conn, slug, item, "Corrected", item.event.reason, item.event.key_id)

    def decision_retracted(self, conn: Connection, item: Applied) -> None:
        slug, doc = self._close_current(conn, item)
        self._write_version(conn, slug, doc["fields"], DecisionStatus.RETRACTED, item, doc["meta"])
        self._history(conn, slug, item, "Retracted", item.event.reason, item.event.key_id)

    def _close_current(self, conn: Connection, item: Applied) -> tuple[str, dict[str, Any]]:
        d = tables.decisions
        row = conn.execute(
            select(d.c.decision_id, d.c.doc).where(
                d.c.stream_id == str(item.event.originator_id), d.c.valid_to.is_(None)
            )
        ).one()
        slug = str(row.decision_id)
        for table in (tables.decisions, tables.timeline):
            conn.execute(
                update(table)
                .where(table.c.decision_id == slug, table.c.valid_to.is_(None))
                .values(valid_to=item.position)
            )
        r = tables.relations
        conn.execute(
            update(r)
            .where(r.c.source_id == slug, r.c.valid_to.is_(None))
            .values(valid_to=item.position)
        )
        return slug, json.loads(row.doc)

    def _write_version(
        self,
        conn: Connection,
        slug: str,
        fields: dict[str, Any],
        status: DecisionStatus,
        item: Applied,
        meta: dict[str, Any],
    ) -> None:
        weapons = self._weapon_refs(conn, fields.get("weapons", []))
        date = sort_date(fields)
        doc = {"fields": fields, "meta": meta, "weapons": weapons}
        conn.execute(
            insert(tables.decisions).values(
                decision_id=slug,
                stream_id=str(item.event.originator_id),
                valid_from=item.position,
                first_position=meta["firstPosition"],
                recorded_at=item.recorded_at,
                status=status.value,
                doc=dumps(doc),
            )
        )
        entry = {
            "decisionId": slug,
            "headline": fields["headline"],
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
        weapon_keys = {("system", w["system"]) for w in weapons if w.get("system")}
        weapon_keys |= {("category", w["category"]) for w in weapons}
        keys += [(kind, key, None) for kind, key in sorted(weapon_keys)]
        conn.execute(
            insert(tables.timeline),
            [
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
                    "doc": dumps({**entry, "role": role}),
                }
                for kind, key, role in keys
            ],
        )
        relations = [
            {
                "relation": rel,
                "source_id": slug,
                "target_id": fields[rel],
                "valid_from": item.position,
            }
            for rel in RELATIONS
            if fields.get(rel)
        ]
        if relations:
            conn.execute(insert(tables.relations), relations)

    @staticmethod
    def _weapon_refs(conn: Connection, weapons: list[dict[str, str]]) -> list[dict[str, Any]]:
        """Weapon references with the category of each named system filled in."""
        systems = [w["system"] for w in weapons if w.get("system")]
        categories: dict[str, str] = {}
        if systems:
            r = tables.records
            rows = conn.execute(
                select(r.c.record_id, r.c.doc).where(
                    and_(r.c.kind == "weapon", r.c.record_id.in_(systems))
                )
            )
            categories = {row.record_id: json.loads(row.doc)["category"] for row in rows}
        return [
            {"system": w.get("system"), "category": w.get("category") or categories[w["system"]]}
            for w in weapons
        ]

    @staticmethod
    def _history(
        conn: Connection,
        slug: str,
        item: Applied,
        kind: str,
        reason: str | None,
        key_id: str | None,
    ) -> None:
        event = item.event
        doc = None
        if kind != "Recorded":
            doc = dumps({"changes": getattr(event, "changes", None), "sources": event.sources})
        conn.execute(
            insert(tables.history).values(
                decision_id=slug,
                position=item.position,
                event_type=kind,
                recorded_at=item.recorded_at,
                reason=reason,
                key_id=key_id,
                doc=doc,
            )
        )
