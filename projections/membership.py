"""Treaty membership derived from treaty actions, and the compliance flags it implies."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import BindParameter, Connection, Select, bindparam, insert, or_, select, update

from domain.decision import Decision, recorded_fields
from domain.values import TREATY_ACTIONS, Action
from projections import tables
from projections.projector import Applied, Handler, Projection
from projections.spans import (
    Flag,
    Span,
    act_date,
    day_of,
    effect_date,
    flag_reason,
    membership_spans,
    wanted_flags,
)

TREATY_ACTION_NAMES = sorted(a.value for a in TREATY_ACTIONS)
FLAGGED_ACTIONS = sorted(a.value for a in Action if a.is_transfer or a.is_use)

_D, _T, _M, _C = tables.decisions, tables.timeline, tables.membership, tables.compliance_flags
_P: BindParameter[int] = bindparam("p")
_IDS: BindParameter[list[str]] = bindparam("ids", expanding=True)
_VALID_AT_P = (_D.c.valid_from <= _P, or_(_D.c.valid_to.is_(None), _D.c.valid_to > _P))
IN_CHUNK = 500
"""Ids per IN list, well under every backend's limit of bound parameters."""

# Built once: a reused statement memoizes its cache key, a fresh one is rebuilt per event.
_VERSIONS = select(_D.c.decision_id, _D.c.doc).where(
    _D.c.stream_id == bindparam("stream"), or_(_D.c.valid_from == _P, _D.c.valid_to == _P)
)
_TREATIES = select(
    tables.records.c.record_id, tables.records.c.position, tables.records.c.doc
).where(tables.records.c.kind == "treaty")
_TREATIES_HELD = "policy_timeline.membership.treaties"


def _live_naming(actions: list[str], *roles: str) -> Select[Any]:
    """Live decisions naming a country with one of `actions`, as of position `p`."""
    query = (
        select(_D.c.first_position, _D.c.decision_id, _D.c.doc, _D.c.status)
        .join_from(_T, _D, _D.c.decision_id == _T.c.decision_id)
        .where(
            _T.c.kind == "country",
            _T.c.key == bindparam("b_country"),
            _T.c.action.in_(actions),
            _T.c.status != "RETRACTED",
            _T.c.valid_from <= _P,
            or_(_T.c.valid_to.is_(None), _T.c.valid_to > _P),
            *_VALID_AT_P,
        )
    )
    return query.where(_T.c.role.in_(roles)) if roles else query


# The ACTOR row of a country's timeline is there exactly when the country is the actor.
_LIVE_TREATY_ACTIONS = _live_naming(TREATY_ACTION_NAMES, "ACTOR")
_LIVE_FLAGGED = _live_naming(FLAGGED_ACTIONS)
_DECISION_AT = select(_D.c.decision_id, _D.c.doc, _D.c.status).where(
    _D.c.decision_id == bindparam("id"), *_VALID_AT_P
)
_STATE = (_M.c.treaty_id == bindparam("b_treaty"), _M.c.country == bindparam("b_country"))
_SPANS = select(_M.c.starts_on, _M.c.status, _M.c.since, _M.c.ends_on).where(
    *_STATE, _M.c.valid_to.is_(None)
)
_CLOSE_SPANS = update(_M).where(*_STATE, _M.c.valid_to.is_(None)).values(valid_to=_P)
_FLAGS = select(
    _C.c.decision_id,
    _C.c.country,
    _C.c.treaty_id,
    _C.c.weapon_category,
    _C.c.decided_on,
    _C.c.reason,
).where(_C.c.decision_id.in_(_IDS), _C.c.valid_to.is_(None))
_CLOSE_FLAGS = (
    update(_C).where(_C.c.decision_id.in_(_IDS), _C.c.valid_to.is_(None)).values(valid_to=_P)
)
Live = dict[str, tuple[int, dict[str, Any], str]]
"""decision id -> (first position, document, status) of its version live at a position."""


def _chunks(ids: list[str]) -> list[list[str]]:
    return [ids[i : i + IN_CHUNK] for i in range(0, len(ids), IN_CHUNK)]


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
        p, e = item.position, item.event
        if isinstance(e, Decision.Recorded):
            # A first version: its fields are in the event, and no earlier version exists.
            slug = e.slug
            versions = [
                recorded_fields(e.action, e.decided_on, e.announced_on, e.effective_on, e.details)
            ]
        else:
            rows = conn.execute(_VERSIONS, {"stream": str(e.originator_id), "p": p}).all()
            versions = [json.loads(r.doc)["fields"] for r in rows]
            slug = str(rows[0].decision_id)
        pairs = {
            (f["treaty"], f["actor"])
            for f in versions
            if f["action"] in TREATY_ACTION_NAMES and f.get("treaty")
        }
        flagged = any(f["action"] in FLAGGED_ACTIONS for f in versions)
        if not pairs and not flagged:
            # Neither a treaty action nor a transfer or use: no membership, no flag moves.
            return
        treaties = self._treaties(conn, p)
        countries = {
            country
            for treaty, country in sorted(pairs)
            if self._refresh_membership(conn, p, treaty, country, treaties.get(treaty, {}))
        }
        live = self._flaggable(conn, p, countries)
        if flagged and slug not in live:
            row = conn.execute(_DECISION_AT, {"id": slug, "p": p}).one_or_none()
            # No live version: nothing to flag, so any flags it carries are closed.
            live[slug] = (0, json.loads(row.doc), row.status) if row else (0, {}, "RETRACTED")
        self._refresh_flags(conn, p, live, treaties)

    @staticmethod
    def _treaties(conn: Connection, position: int) -> dict[str, dict[str, Any]]:
        """The treaties recorded up to `position`."""
        # Read once per transaction: every treaty at or before a position this projection
        # applies was recorded (by the timelines projection, which runs ahead) before it began.
        transaction = conn.get_transaction()
        held = conn.info.get(_TREATIES_HELD)
        if held is None or held[0] is not transaction:
            rows = [
                (r.record_id, int(r.position), json.loads(r.doc)) for r in conn.execute(_TREATIES)
            ]
            held = (transaction, rows)
            conn.info[_TREATIES_HELD] = held
        return {record_id: doc for record_id, at, doc in held[1] if at <= position}

    @staticmethod
    def _flagged(conn: Connection, position: int, country: str) -> Live:
        """Live transfers and uses naming `country` as of `position`."""
        rows = conn.execute(_LIVE_FLAGGED, {"b_country": country, "p": position})
        return {r.decision_id: (int(r.first_position), json.loads(r.doc), r.status) for r in rows}

    @staticmethod
    def _treaty_actions(
        conn: Connection, position: int, country: str, treaty: str
    ) -> list[tuple[int, dict[str, Any]]]:
        """(first position, fields) of live actions of `country` towards `treaty`, in order."""
        rows = conn.execute(_LIVE_TREATY_ACTIONS, {"b_country": country, "p": position})
        # Documents are written by one serializer: skip decoding those of other treaties.
        needle = '"treaty":' + json.dumps(treaty, ensure_ascii=False)
        found = []
        for r in rows:
            if needle in r.doc:
                fields = json.loads(r.doc)["fields"]
                if fields["actor"] == country and fields.get("treaty") == treaty:
                    found.append((int(r.first_position), r.decision_id, fields))
        return [(pos, fields) for pos, _, fields in sorted(found, key=lambda x: x[:2])]

    def _refresh_membership(
        self, conn: Connection, p: int, treaty: str, country: str, doc: dict[str, Any]
    ) -> bool:
        """Rewrite the spans of one state towards one treaty; True when they changed."""
        actions = self._treaty_actions(conn, p, country, treaty)
        eif = day_of(doc["entryIntoForceOn"]) if doc.get("entryIntoForceOn") else None
        wanted = set(membership_spans(actions, eif))
        state = {"b_treaty": treaty, "b_country": country}
        have = {
            Span(r.starts_on, r.status, r.since, r.ends_on) for r in conn.execute(_SPANS, state)
        }
        if wanted == have:
            return False
        conn.execute(_CLOSE_SPANS, {**state, "p": p})
        if wanted:
            conn.execute(
                insert(_M),
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

    def _flaggable(self, conn: Connection, p: int, countries: set[str]) -> Live:
        """Transfers to and uses by these countries, whose flags may have changed."""
        live: Live = {}
        for country in countries:
            live.update(self._flagged(conn, p, country))
        return live

    @staticmethod
    def _refresh_flags(
        conn: Connection, p: int, live: Live, treaties: dict[str, dict[str, Any]]
    ) -> None:
        """Rewrite the flags of these decisions (as of `p`) where they changed."""
        ids = sorted(live)
        have: dict[str, set[Flag]] = {i: set() for i in ids}
        for chunk in _chunks(ids):
            for r in conn.execute(_FLAGS, {"ids": chunk}):
                have[r.decision_id].add(
                    (r.country, r.treaty_id, r.weapon_category, r.decided_on, r.reason)
                )
        spans: dict[tuple[str, str], list[Span]] = {}

        def span_on(treaty_id: str, country: str, day: dt.date) -> Span | None:
            key = (treaty_id, country)
            if key not in spans:
                rows = conn.execute(_SPANS, {"b_treaty": treaty_id, "b_country": country})
                spans[key] = [Span(r.starts_on, r.status, r.since, r.ends_on) for r in rows]
            for s in spans[key]:
                if s.starts_on <= day and (s.ends_on is None or s.ends_on > day):
                    return s
            return None

        changed: list[str] = []
        rows: list[dict[str, Any]] = []
        for decision_id in ids:
            wanted = wanted_flags(live[decision_id], treaties, span_on)
            if wanted == have[decision_id]:
                continue
            changed.append(decision_id)
            rows += [
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
            ]
        for chunk in _chunks(changed):
            conn.execute(_CLOSE_FLAGS, {"ids": chunk, "p": p})
        if rows:
            conn.execute(insert(_C), rows)


__all__ = [
    "MembershipProjection",
    "Span",
    "act_date",
    "effect_date",
    "flag_reason",
    "membership_spans",
]
