"""Treaty membership derived from treaty actions, and the compliance flags it implies."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, cast

import orjson
from sqlalchemy import BindParameter, Connection, Table, bindparam, or_, select, update

from domain.decision import Decision, recorded_fields
from domain.values import TREATY_ACTIONS, Action
from projections.eventlog.bulk import insert_rows
from projections.readmodels import tables
from projections.readmodels.documents import DecisionFields, DecisionVersion, TreatyDoc
from projections.readmodels.projector import Applied, Handler, Projection
from projections.readmodels.spans import (
    Flag,
    LiveVersion,
    Span,
    act_date,
    bound_periods,
    bound_states,
    day_of,
    effect_date,
    membership_spans,
    wanted_flags,
)

TREATY_ACTION_NAMES = sorted(a.value for a in TREATY_ACTIONS)
FLAGGED_ACTIONS = sorted(a.value for a in Action if a.is_transfer or a.is_use)
_FLAGGED_SET = frozenset(FLAGGED_ACTIONS)

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
_HELD = "policy_timeline.membership.batch"
_F = tables.flaggable
_FLAGGABLE = (
    select(_F.c.decision_id)
    .where(
        _F.c.country == bindparam("b_country"),
        _F.c.weapon_category.in_(bindparam("categories", expanding=True)),
        _F.c.valid_from <= _P,
        or_(_F.c.valid_to.is_(None), _F.c.valid_to > _P),
    )
    .distinct()
)
_CLOSE_FLAGGABLE = (
    update(_F)
    .where(_F.c.decision_id == bindparam("id"), _F.c.valid_to.is_(None))
    .values(valid_to=_P)
)
_DECISIONS_AT = select(_D.c.decision_id, _D.c.doc, _D.c.status).where(
    _D.c.decision_id.in_(_IDS), *_VALID_AT_P
)
_RECORDED_DOCS = select(_D.c.decision_id, _D.c.valid_from, _D.c.doc, _D.c.status).where(
    _D.c.decision_id.in_(_IDS)
)
_ALL_SPANS = select(
    _M.c.treaty_id,
    _M.c.country,
    _M.c.starts_on,
    _M.c.status,
    _M.c.since,
    _M.c.ends_on,
    _M.c.signed_on,
    _M.c.withdrawal_on,
).where(_M.c.valid_to.is_(None))


@dataclass
class _Batch:
    """What the handlers of one batch share, read once when the batch begins."""

    treaties: list[tuple[str, int, TreatyDoc]]
    spans: dict[tuple[str, str], list[Span]]
    """Current membership spans per (treaty, state), kept up to date as they are rewritten."""
    docs: dict[str, LiveVersion]
    """New transfers and uses of the batch: decision id -> (position, document, status)."""
    pending: dict[Table, list[dict[str, Any]]] = field(default_factory=dict)
    """Rows to insert, per table: written in bulk before those tables are next read."""

    def defer(self, table: Table, rows: list[dict[str, Any]]) -> None:
        self.pending.setdefault(table, []).extend(rows)

    def write(self, conn: Connection) -> None:
        for table, rows in self.pending.items():
            insert_rows(conn, table, rows)
        self.pending.clear()


# Live treaty actions of a state, as of position `p`: the ACTOR row of a country's timeline
# is there exactly when the country is the actor.
_LIVE_TREATY_ACTIONS = (
    select(_D.c.first_position, _D.c.decision_id, _D.c.doc, _D.c.status)
    .join_from(_T, _D, _D.c.decision_id == _T.c.decision_id)
    .where(
        _T.c.kind == "country",
        _T.c.key == bindparam("b_country"),
        _T.c.role == "ACTOR",
        _T.c.action.in_(TREATY_ACTION_NAMES),
        _T.c.status != "RETRACTED",
        _T.c.valid_from <= _P,
        or_(_T.c.valid_to.is_(None), _T.c.valid_to > _P),
        *_VALID_AT_P,
    )
)
_DECISION_AT = select(_D.c.decision_id, _D.c.doc, _D.c.status).where(
    _D.c.decision_id == bindparam("id"), *_VALID_AT_P
)
_STATE = (_M.c.treaty_id == bindparam("b_treaty"), _M.c.country == bindparam("b_country"))
_CLOSE_SPANS = update(_M).where(*_STATE, _M.c.valid_to.is_(None)).values(valid_to=_P)
_FLAG_COLUMNS = (
    "country",
    "treaty_id",
    "weapon_category",
    "decided_on",
    "act",
    "status",
    "since",
    "status_on",
    "withdrawal_on",
)
_FLAGS = select(_C.c.decision_id, *(_C.c[name] for name in _FLAG_COLUMNS)).where(
    _C.c.decision_id.in_(_IDS), _C.c.valid_to.is_(None)
)
_CLOSE_FLAGS = (
    update(_C).where(_C.c.decision_id.in_(_IDS), _C.c.valid_to.is_(None)).values(valid_to=_P)
)
Live = dict[str, LiveVersion]
"""decision id -> (first position, document, status) of its version live at a position."""


def _flag_key(flag: Flag) -> tuple[str, ...]:
    """A total order of flags (a withdrawal date may be None)."""
    return tuple(str(v) for v in flag)


def _version(text: str) -> DecisionVersion:
    """A decision version as the timelines projection stored it."""
    version: DecisionVersion = orjson.loads(text)
    return version


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

    version = 3
    writes = (tables.membership, tables.compliance_flags, tables.flaggable)

    def begin(self, conn: Connection, items: list[Applied]) -> None:
        # Read once per batch: the treaties, every current span, and the documents of the
        # batch's new transfers and uses (written by the timelines projection, which runs
        # first), instead of a query per event.
        treaties = [
            (r.record_id, int(r.position), orjson.loads(r.doc)) for r in conn.execute(_TREATIES)
        ]
        spans: dict[tuple[str, str], list[Span]] = defaultdict(list)
        for r in conn.execute(_ALL_SPANS):
            spans[(r.treaty_id, r.country)].append(
                Span(r.starts_on, r.status, r.since, r.ends_on, r.signed_on, r.withdrawal_on)
            )
        positions = {
            item.event.slug: item.position
            for item in items
            if isinstance(item.event, Decision.Recorded) and item.event.action.value in _FLAGGED_SET
        }
        docs: dict[str, LiveVersion] = {}
        for chunk in _chunks(sorted(positions)):
            for r in conn.execute(_RECORDED_DOCS, {"ids": chunk}):
                if int(r.valid_from) == positions[r.decision_id]:
                    docs[r.decision_id] = (int(r.valid_from), orjson.loads(r.doc), r.status)
        conn.info[_HELD] = _Batch(treaties, {k: sorted(v) for k, v in spans.items()}, docs)

    def flush(self, conn: Connection) -> None:
        batch = conn.info.pop(_HELD, None)
        if batch is not None:
            batch.write(conn)

    def decision_changed(self, conn: Connection, item: Applied) -> None:
        # The timelines projection runs first; its rows are read as of this position.
        batch: _Batch = conn.info[_HELD]
        p, e = item.position, item.event
        recorded = isinstance(e, Decision.Recorded)
        if recorded:
            # A first version: its fields are in the event, and no earlier version exists.
            slug = e.slug
            fields = recorded_fields(
                e.action, e.decided_on, e.announced_on, e.effective_on, e.details
            )
            versions = [cast(DecisionFields, fields)]
        else:
            rows = conn.execute(_VERSIONS, {"stream": str(e.originator_id), "p": p}).all()
            versions = [_version(r.doc)["fields"] for r in rows]
            slug = str(rows[0].decision_id)
        pairs = {
            (treaty, f["actor"])
            for f in versions
            if f["action"] in TREATY_ACTION_NAMES and (treaty := f.get("treaty"))
        }
        flagged = any(f["action"] in _FLAGGED_SET for f in versions)
        if not pairs and not flagged:
            # Neither a treaty action nor a transfer or use: no membership, no flag moves.
            return
        treaties = {record_id: doc for record_id, at, doc in batch.treaties if at <= p}
        changed = [
            (treaty, country)
            for treaty, country in sorted(pairs)
            if self._refresh_membership(conn, p, treaty, country, treaties.get(treaty))
        ]
        live = self._affected(conn, p, changed, treaties)
        if flagged:
            if slug in batch.docs:
                live[slug] = batch.docs.pop(slug)
            else:
                row = conn.execute(_DECISION_AT, {"id": slug, "p": p}).one_or_none()
                # No live version: nothing to flag, so any flags it carries are closed.
                live[slug] = (0, _version(row.doc), row.status) if row else (0, None, "RETRACTED")
            self._index_flaggable(conn, p, slug, live[slug], closing=not recorded)
        self._refresh_flags(conn, p, live, treaties, new=slug if recorded else None)

    @staticmethod
    def _index_flaggable(
        conn: Connection,
        p: int,
        slug: str,
        version: LiveVersion,
        closing: bool,
    ) -> None:
        """Keep `pt_flaggable` in step with the live version of one transfer or use."""
        batch: _Batch = conn.info[_HELD]
        if closing:
            batch.write(conn)
            conn.execute(_CLOSE_FLAGGABLE, {"id": slug, "p": p})
        _, doc, status = version
        if status == "RETRACTED" or doc is None:
            return
        countries = sorted({country for country, _ in bound_states(doc["fields"])})
        categories = sorted({w["category"] for w in doc["weapons"]})
        batch.defer(
            _F,
            [
                {
                    "decision_id": slug,
                    "country": country,
                    "weapon_category": category,
                    "valid_from": p,
                    "valid_to": None,
                }
                for country in countries
                for category in categories
            ],
        )

    @staticmethod
    def _affected(
        conn: Connection,
        p: int,
        changed: list[tuple[str, str]],
        treaties: dict[str, TreatyDoc],
    ) -> Live:
        """Live transfers and uses whose flags a change of these memberships may move.

        Only a decision flagged under a state's membership, and carrying a category that
        the treaty prohibits, can gain or lose a flag when that membership changes."""
        ids: set[str] = set()
        if changed:
            conn.info[_HELD].write(conn)
        for treaty, country in changed:
            found = treaties.get(treaty)
            prohibits = sorted(found.get("prohibits", [])) if found else []
            if prohibits:
                params = {"b_country": country, "categories": prohibits, "p": p}
                ids.update(r.decision_id for r in conn.execute(_FLAGGABLE, params))
        live: Live = {}
        for chunk in _chunks(sorted(ids)):
            for r in conn.execute(_DECISIONS_AT, {"ids": chunk, "p": p}):
                live[r.decision_id] = (0, _version(r.doc), r.status)
        return live

    @staticmethod
    def _treaty_actions(
        conn: Connection, position: int, country: str, treaty: str
    ) -> list[tuple[int, DecisionFields]]:
        """(first position, fields) of live actions of `country` towards `treaty`, in order."""
        rows = conn.execute(_LIVE_TREATY_ACTIONS, {"b_country": country, "p": position})
        # Documents are written by one serializer: skip decoding those of other treaties.
        needle = '"treaty":' + orjson.dumps(treaty).decode()
        found = []
        for r in rows:
            if needle in r.doc:
                fields = _version(r.doc)["fields"]
                if fields["actor"] == country and fields.get("treaty") == treaty:
                    found.append((int(r.first_position), r.decision_id, fields))
        return [(pos, fields) for pos, _, fields in sorted(found, key=lambda x: x[:2])]

    def _refresh_membership(
        self, conn: Connection, p: int, treaty: str, country: str, doc: TreatyDoc | None
    ) -> bool:
        """Rewrite the spans of one state towards one treaty; True when the periods it was
        bound changed (a signature alone moves no compliance flag)."""
        actions = self._treaty_actions(conn, p, country, treaty)
        eif_text = doc.get("entryIntoForceOn") if doc else None
        eif = day_of(eif_text) if eif_text else None
        wanted = set(membership_spans(actions, eif))
        state = {"b_treaty": treaty, "b_country": country}
        spans: dict[tuple[str, str], list[Span]] = conn.info[_HELD].spans
        before = spans.get((treaty, country), [])
        if wanted == set(before):
            return False
        spans[(treaty, country)] = sorted(wanted)
        conn.execute(_CLOSE_SPANS, {**state, "p": p})
        if wanted:
            insert_rows(
                conn,
                _M,
                [
                    {
                        "treaty_id": treaty,
                        "country": country,
                        "status": s.status,
                        "since": s.since,
                        "starts_on": s.starts_on,
                        "ends_on": s.ends_on,
                        "signed_on": s.signed_on,
                        "withdrawal_on": s.withdrawal_on,
                        "valid_from": p,
                        "valid_to": None,
                    }
                    for s in sorted(wanted)
                ],
            )
        return bound_periods(list(wanted)) != bound_periods(before)

    @staticmethod
    def _refresh_flags(
        conn: Connection,
        p: int,
        live: Live,
        treaties: dict[str, TreatyDoc],
        new: str | None = None,
    ) -> None:
        """Rewrite the flags of these decisions (as of `p`) where they changed.

        `new` names a decision recorded at `p`: it has no flags yet, so none are read."""
        ids = sorted(live)
        have: dict[str, set[Flag]] = {i: set() for i in ids}
        batch: _Batch = conn.info[_HELD]
        known = [i for i in ids if i != new]
        if known:
            batch.write(conn)
        for chunk in _chunks(known):
            for r in conn.execute(_FLAGS, {"ids": chunk}):
                have[r.decision_id].add(tuple(r[1:]))
        spans: dict[tuple[str, str], list[Span]] = conn.info[_HELD].spans

        def span_on(treaty_id: str, country: str, day: dt.date) -> Span | None:
            for s in spans.get((treaty_id, country), []):
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
                    **dict(zip(_FLAG_COLUMNS, flag, strict=True)),
                    "valid_from": p,
                }
                for flag in sorted(wanted, key=_flag_key)
            ]
        for chunk in _chunks([i for i in changed if i != new]):
            conn.execute(_CLOSE_FLAGS, {"ids": chunk, "p": p})
        for row in rows:
            row["valid_to"] = None
        batch.defer(_C, rows)


__all__ = [
    "MembershipProjection",
    "Span",
    "act_date",
    "effect_date",
    "membership_spans",
]
