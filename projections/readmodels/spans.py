"""Pure functions of treaty membership: status spans and the flags they imply."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from domain.dates import FuzzyDate
from domain.decision import sort_date
from domain.values import Action
from projections.readmodels.documents import DecisionFields, DecisionVersion, TreatyDoc

JOINS = ("RATIFY", "ACCEDE")
BOUND = frozenset({"PARTY", "WITHDRAWAL_NOTIFIED", "OBLIGATIONS_SUSPENDED"})
"""Statuses of a state bound by a treaty: what `parties` lists and compliance flags rest on."""
Flag = tuple[str, str, str, dt.date, str, str, dt.date, dt.date, dt.date | None]
"""(country, treaty id, weapon category, decided on, act, status, party since, status since,
withdrawal effective on) of one compliance flag."""
LiveVersion = tuple[int, DecisionVersion | None, str]
"""(first position, stored version or None when there is none, status) of a decision."""


@dataclass(frozen=True, order=True)
class Span:
    """One status of a state towards a treaty over a calendar range [starts_on, ends_on)."""

    starts_on: dt.date
    status: str
    since: dt.date | None
    """The day the state became bound (bound statuses only)."""
    ends_on: dt.date | None
    signed_on: dt.date | None = None
    withdrawal_on: dt.date | None = None
    """When a notified withdrawal takes effect, or when it took effect (WITHDRAWN)."""


def day_of(edtf: str) -> dt.date:
    """The first day an EDTF date may mean."""
    return FuzzyDate(edtf).earliest


def effect_date(fields: DecisionFields) -> dt.date:
    """When an action takes effect: effectiveOn, else decidedOn, announcedOn, reportedOn."""
    for role in ("effectiveOn", "decidedOn", "announcedOn", "reportedOn"):
        if day := fields.get(role):
            return day_of(str(day))
    raise ValueError("a decision has at least one date")


def act_date(fields: DecisionFields) -> dt.date:
    """When an action was taken: decidedOn, else announcedOn, else effectiveOn."""
    return sort_date(fields).earliest


def _steps(
    actions: list[tuple[int, DecisionFields]], floor: dt.date
) -> list[tuple[dt.date, int, int, str, dt.date | None]]:
    """(day, position, order, kind, withdrawal day) of each act that may change standing."""
    in_force = sorted(effect_date(f) for _, f in actions if f["action"] == "ENTRY_INTO_FORCE")
    steps: list[tuple[dt.date, int, int, str, dt.date | None]] = []
    for position, f in actions:
        action = f["action"]
        if action == "SIGN":
            steps.append((act_date(f), position, 0, "sign", None))
        elif action in JOINS:
            if f.get("effectiveOn"):
                joined = day_of(f["effectiveOn"])
            else:
                # Without its own effective date, a ratification takes effect when a later
                # ENTRY_INTO_FORCE for the same state says so, else on its own date.
                later = [d for d in in_force if d >= act_date(f)]
                joined = later[0] if later else act_date(f)
            steps.append((max(joined, floor), position, 0, "join", None))
        elif action == "ENTRY_INTO_FORCE":
            steps.append((max(effect_date(f), floor), position, 0, "join", None))
        elif action == "NOTIFY_WITHDRAWAL":
            leaves = day_of(f["effectiveOn"]) if f.get("effectiveOn") else None
            steps.append((act_date(f), position, 0, "notify", leaves))
            if leaves is not None:
                steps.append((leaves, position, 1, "leave", leaves))
        elif action == "WITHDRAWAL_EFFECTIVE":
            day = effect_date(f)
            steps.append((day, position, 0, "leave", day))
        elif action == "SUSPEND_OBLIGATIONS":
            steps.append((effect_date(f), position, 0, "suspend", None))
    return sorted(steps)


def bound_periods(spans: list[Span]) -> set[tuple[object, ...]]:
    """What compliance flags read of a state's spans: its bound periods, signatures aside."""
    return {
        (s.starts_on, s.status, s.since, s.ends_on, s.withdrawal_on)
        for s in spans
        if s.status in BOUND
    }


def membership_spans(
    actions: list[tuple[int, DecisionFields]], entry_into_force: dt.date | None
) -> list[Span]:
    """The standing of one state towards one treaty, from its (position, fields) depositary acts.

    Before its first span, and wherever no span covers a day, a state is NON_PARTY."""
    spans: list[Span] = []
    now = Span(dt.date.min, "", None, None)

    def move(day: dt.date, **change: Any) -> None:
        nonlocal now
        if now.status and now.starts_on != day:
            spans.append(replace(now, ends_on=day))
        now = replace(now, starts_on=day, **change)

    for day, _, _, kind, leaves in _steps(actions, entry_into_force or dt.date.min):
        bound = now.status in BOUND
        if kind == "sign":
            # A signature counts only before a state is bound, or again after it withdrew.
            if not now.status or now.status == "WITHDRAWN":
                move(day, signed_on=day, status="SIGNATORY", since=None, withdrawal_on=None)
        elif kind == "join" and not bound:
            move(day, status="PARTY", since=day, withdrawal_on=None)
        elif kind == "notify" and bound and now.status != "WITHDRAWAL_NOTIFIED":
            move(day, status="WITHDRAWAL_NOTIFIED", withdrawal_on=leaves)
        elif kind == "leave" and bound:
            move(day, status="WITHDRAWN", since=None, withdrawal_on=leaves)
        elif kind == "suspend" and now.status == "PARTY":
            move(day, status="OBLIGATIONS_SUSPENDED")
    if now.status:
        spans.append(now)
    return spans


def bound_states(fields: DecisionFields) -> list[tuple[str, str]]:
    """(state, act) pairs a transfer or use may bind: who uses, who acquires, who supplies."""
    action = Action(fields["action"])
    actor, recipient = fields["actor"], fields.get("recipient")
    if action is Action.AUTHORIZE_USE:
        # The state authorized to use the weapon; without a recipient, the actor's own forces.
        return [(recipient or actor, "USE")]
    if action is Action.FIRST_USE_REPORTED:
        return [(actor, "USE")]
    if action.is_transfer:
        pairs = [(actor, "TRANSFER")]
        if recipient:
            pairs.insert(0, (recipient, "ACQUIRE"))
        return pairs
    return []


def wanted_flags(
    version: LiveVersion,
    treaties: dict[str, TreatyDoc],
    span_on: Callable[[str, str, dt.date], Span | None],
) -> set[Flag]:
    """The flags one decision version should carry, given the current standing spans."""
    _, doc, status = version
    wanted: set[Flag] = set()
    if status == "RETRACTED" or doc is None:
        return wanted
    f = doc["fields"]
    pairs = bound_states(f)
    if not pairs:
        return wanted
    day = act_date(f)
    categories = sorted({w["category"] for w in doc["weapons"]})
    for treaty_id, treaty in sorted(treaties.items()):
        banned = [k for k in categories if k in treaty.get("prohibits", [])]
        for country, act in pairs if banned else []:
            span = span_on(treaty_id, country, day)
            if span is None or span.status not in BOUND or span.since is None:
                continue
            for k in banned:
                wanted.add(
                    (
                        country,
                        treaty_id,
                        k,
                        day,
                        act,
                        span.status,
                        span.since,
                        span.starts_on,
                        span.withdrawal_on,
                    )
                )
    return wanted
