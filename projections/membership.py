"""Treaty membership derived from treaty actions, and the compliance flags it implies."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, insert, or_, select, update

from domain.dates import FuzzyDate
from domain.decision import Decision, sort_date
from domain.values import TREATY_ACTIONS, Action, country_name
from projections import tables
from projections.projector import Applied, Handler, Projection

JOINS = ("RATIFY", "ACCEDE")
TREATY_ACTION_NAMES = sorted(a.value for a in TREATY_ACTIONS)
FLAGGED_ACTIONS = sorted(a.value for a in Action if a.is_transfer or a.is_use)


@dataclass(frozen=True, order=True)
class Span:
    """One status of a state towards a treaty over a calendar range [starts_on, ends_on)."""

    starts_on: dt.date
    status: str
    since: dt.date
    ends_on: dt.date | None


def _day(edtf: str) -> dt.date:
    return FuzzyDate(edtf).earliest


def effect_date(fields: dict[str, Any]) -> dt.date:
    """When an action takes effect: effectiveOn, else decidedOn, else announcedOn."""
    for role in ("effectiveOn", "decidedOn", "announcedOn"):
        if fields.get(role):
            return _day(fields[role])
    raise ValueError("a decision has at least one date")


def act_date(fields: dict[str, Any]) -> dt.date:
    """When an action was taken: decidedOn, else announcedOn, else effectiveOn."""
    return sort_date(fields).earliest


def membership_spans(
    actions: list[tuple[int, dict[str, Any]]], entry_into_force: dt.date | None
) -> list[Span]:
    """The statuses of one state towards one treaty, from its (position, fields) actions."""
    floor = entry_into_force or dt.date.min
    in_force = sorted(effect_date(f) for _, f in actions if f["action"] == "ENTRY_INTO_FORCE")
    steps: list[tuple[dt.date, int, int, str]] = []
    for position, f in actions:
        action = f["action"]
        if action in JOINS:
            if f.get("effectiveOn"):
                joined = _day(f["effectiveOn"])
            else:
                # Without its own effective date, a ratification takes effect when a later
                # ENTRY_INTO_FORCE for the same state says so, else on its own date.
                later = [d for d in in_force if d >= act_date(f)]
                joined = later[0] if later else act_date(f)
            steps.append((max(joined, floor), position, 0, "join"))
        elif action == "ENTRY_INTO_FORCE":
            steps.append((max(effect_date(f), floor), position, 0, "join"))
        elif action == "NOTIFY_WITHDRAWAL":
            steps.append((act_date(f), position, 0, "notify"))
            if f.get("effectiveOn"):
                steps.append((_day(f["effectiveOn"]), position, 1, "leave"))
        elif action == "WITHDRAWAL_EFFECTIVE":
            steps.append((effect_date(f), position, 0, "leave"))
        elif action == "SUSPEND_OBLIGATIONS":
            steps.append((effect_date(f), position, 0, "suspend"))
    spans: list[Span] = []
    status: str | None = None
    since = start = dt.date.min

    def close(end: dt.date | None) -> None:
        if status is not None and start != end:
            spans.append(Span(start, status, since, end))

    for day, _, _, kind in sorted(steps):
        if kind == "join":
            if status is None:
                status, since, start = "PARTY", day, day
        elif status is None:
            continue
        elif kind == "leave":
            close(day)
            status = None
        elif kind == "notify" and status != "WITHDRAWAL_NOTIFIED":
            close(day)
            status, start = "WITHDRAWAL_NOTIFIED", day
        elif kind == "suspend" and status == "PARTY":
            close(day)
            status, start = "OBLIGATIONS_SUSPENDED", day
    close(None)
    return spans


def plural(category: str) -> str:
    """A weapon category in plain words, simply pluralised."""
    words = category.replace("-", " ")
    if words.endswith("aircraft"):
        return words
    return words + ("es" if words.endswith(("s", "sh", "ch", "x")) else "s")


def flag_reason(country: str, treaty: dict[str, Any], span: Span, category: str) -> str:
    """Why a decision is flagged, in plain words."""
    name = country_name(country) or country
    title = treaty.get("shortName") or treaty["name"]
    status = ""
    if span.status == "WITHDRAWAL_NOTIFIED":
        status = f" (withdrawal notified on {span.starts_on.isoformat()})"
    elif span.status == "OBLIGATIONS_SUSPENDED":
        status = f" (obligations suspended since {span.starts_on.isoformat()})"
    return (
        f"{name} is a party to the {title} since {span.since.isoformat()}{status}, "
        f"which prohibits {plural(category)}"
    )


class MembershipProjection(Projection):
    """Who is party to which treaty on which date, and the decisions that conflict with it."""

    name = "membership"

    def handlers(self) -> dict[type, Handler]:
        return {
            Decision.Recorded: self.decision_changed,
            Decision.Corrected: self.decision_changed,
            Decision.Retracted: self.decision_changed,
        }

    def decision_changed(self, conn: Connection, item: Applied) -> None:
        # The timelines projection runs first; its rows are read as of this position.
        p = item.position
        d = tables.decisions
        rows = conn.execute(
            select(d.c.decision_id, d.c.doc).where(
                d.c.stream_id == str(item.event.originator_id),
                or_(d.c.valid_from == p, d.c.valid_to == p),
            )
        ).all()
        versions = [json.loads(r.doc)["fields"] for r in rows]
        slug = str(rows[0].decision_id)
        pairs = {
            (f["treaty"], f["actor"])
            for f in versions
            if f["action"] in TREATY_ACTION_NAMES and f.get("treaty")
        }
        treaties = self._treaties(conn, p)
        countries = {
            country
            for treaty, country in sorted(pairs)
            if self._refresh_membership(conn, p, treaty, country, treaties.get(treaty, {}))
        }
        ids = self._flaggable(conn, p, countries)
        if any(f["action"] in FLAGGED_ACTIONS for f in versions):
            ids.add(slug)
        for decision_id in sorted(ids):
            self._refresh_flags(conn, p, decision_id, treaties)

    @staticmethod
    def _treaties(conn: Connection, position: int) -> dict[str, dict[str, Any]]:
        r = tables.records
        rows = conn.execute(
            select(r.c.record_id, r.c.doc).where(r.c.kind == "treaty", r.c.position <= position)
        )
        return {row.record_id: json.loads(row.doc) for row in rows}

    @staticmethod
    def _current_fields(
        conn: Connection, position: int, country: str, actions: list[str]
    ) -> list[tuple[int, str, dict[str, Any]]]:
        """(first position, id, fields) of live decisions naming `country` as of `position`."""
        t, d = tables.timeline, tables.decisions
        ids = conn.execute(
            select(t.c.decision_id).where(
                t.c.kind == "country",
                t.c.key == country,
                t.c.action.in_(actions),
                t.c.status != "RETRACTED",
                t.c.valid_from <= position,
                or_(t.c.valid_to.is_(None), t.c.valid_to > position),
            )
        ).scalars()
        rows = conn.execute(
            select(d.c.decision_id, d.c.first_position, d.c.doc).where(
                d.c.decision_id.in_(list(ids)),
                d.c.valid_from <= position,
                or_(d.c.valid_to.is_(None), d.c.valid_to > position),
            )
        ).all()
        return sorted(
            (int(r.first_position), r.decision_id, json.loads(r.doc)["fields"]) for r in rows
        )

    def _refresh_membership(
        self, conn: Connection, p: int, treaty: str, country: str, doc: dict[str, Any]
    ) -> bool:
        """Rewrite the spans of one state towards one treaty; True when they changed."""
        actions = [
            (pos, f)
            for pos, _, f in self._current_fields(conn, p, country, TREATY_ACTION_NAMES)
            if f["actor"] == country and f.get("treaty") == treaty
        ]
        eif = _day(doc["entryIntoForceOn"]) if doc.get("entryIntoForceOn") else None
        wanted = set(membership_spans(actions, eif))
        m = tables.membership
        mine = and_(m.c.treaty_id == treaty, m.c.country == country, m.c.valid_to.is_(None))
        current = select(m.c.starts_on, m.c.status, m.c.since, m.c.ends_on).where(mine)
        have = {Span(r.starts_on, r.status, r.since, r.ends_on) for r in conn.execute(current)}
        if wanted == have:
            return False
        conn.execute(update(m).where(mine).values(valid_to=p))
        if wanted:
            conn.execute(
                insert(m),
                [
                    {
                        "treaty_id": treaty,
                        "country": country,
                        "status": s.status,
                        "since": s.since,
                        "starts_on": s.starts_on,
                        "ends_on": s.ends_on,
                        "valid_from": p,
                    }
                    for s in sorted(wanted)
                ],
            )
        return True

    def _flaggable(self, conn: Connection, p: int, countries: set[str]) -> set[str]:
        """Transfers to and uses by these countries, whose flags may have changed."""
        ids: set[str] = set()
        for country in countries:
            for _, decision_id, _ in self._current_fields(conn, p, country, FLAGGED_ACTIONS):
                ids.add(decision_id)
        return ids

    @staticmethod
    def _refresh_flags(
        conn: Connection, p: int, decision_id: str, treaties: dict[str, dict[str, Any]]
    ) -> None:
        d, m, c = tables.decisions, tables.membership, tables.compliance_flags
        row = conn.execute(
            select(d.c.doc, d.c.status).where(
                d.c.decision_id == decision_id,
                d.c.valid_from <= p,
                or_(d.c.valid_to.is_(None), d.c.valid_to > p),
            )
        ).one_or_none()
        wanted: set[tuple[str, str, str, dt.date, str]] = set()
        if row is not None and row.status != "RETRACTED":
            doc = json.loads(row.doc)
            f = doc["fields"]
            action = Action(f["action"])
            country = f["actor"] if action.is_use else f.get("recipient")
            if not (action.is_use or action.is_transfer):
                country = None
            day = act_date(f)
            categories = sorted({w["category"] for w in doc["weapons"]})
            for treaty_id, treaty in sorted(treaties.items()):
                banned = [k for k in categories if k in treaty.get("prohibits", [])]
                if not banned or not country:
                    continue
                span = conn.execute(
                    select(m.c.starts_on, m.c.status, m.c.since, m.c.ends_on).where(
                        m.c.treaty_id == treaty_id,
                        m.c.country == country,
                        m.c.valid_to.is_(None),
                        m.c.starts_on <= day,
                        or_(m.c.ends_on.is_(None), m.c.ends_on > day),
                    )
                ).one_or_none()
                if span is None:
                    continue
                s = Span(span.starts_on, span.status, span.since, span.ends_on)
                for k in banned:
                    wanted.add((country, treaty_id, k, day, flag_reason(country, treaty, s, k)))
        mine = and_(c.c.decision_id == decision_id, c.c.valid_to.is_(None))
        have = {
            (r.country, r.treaty_id, r.weapon_category, r.decided_on, r.reason)
            for r in conn.execute(select(c).where(mine))
        }
        if wanted == have:
            return
        conn.execute(update(c).where(mine).values(valid_to=p))
        if wanted:
            conn.execute(
                insert(c),
                [
                    {
                        "decision_id": decision_id,
                        "country": country,
                        "treaty_id": treaty_id,
                        "weapon_category": category,
                        "decided_on": day,
                        "reason": reason,
                        "valid_from": p,
                    }
                    for country, treaty_id, category, day, reason in sorted(wanted)
                ],
            )
