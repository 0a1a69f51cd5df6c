"""Pure functions of treaty membership: status spans and the flags they imply."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from domain.dates import FuzzyDate
from domain.decision import sort_date
from domain.values import Action, country_name

JOINS = ("RATIFY", "ACCEDE")
Flag = tuple[str, str, str, dt.date, str]
"""(country, treaty id, weapon category, decided on, reason) of one compliance flag."""


@dataclass(frozen=True, order=True)
class Span:
    """One status of a state towards a treaty over a calendar range [starts_on, ends_on)."""

    starts_on: dt.date
    status: str
    since: dt.date
    ends_on: dt.date | None


def day_of(edtf: str) -> dt.date:
    """The first day an EDTF date may mean."""
    return FuzzyDate(edtf).earliest


def effect_date(fields: dict[str, Any]) -> dt.date:
    """When an action takes effect: effectiveOn, else decidedOn, announcedOn, reportedOn."""
    for role in ("effectiveOn", "decidedOn", "announcedOn", "reportedOn"):
        if fields.get(role):
            return day_of(fields[role])
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
                joined = day_of(f["effectiveOn"])
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
                steps.append((day_of(f["effectiveOn"]), position, 1, "leave"))
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


def wanted_flags(
    version: tuple[int, dict[str, Any], str],
    treaties: dict[str, dict[str, Any]],
    span_on: Callable[[str, str, dt.date], Span | None],
) -> set[Flag]:
    """The flags one decision version should carry, given the current membership spans."""
    _, doc, status = version
    wanted: set[Flag] = set()
    if status == "RETRACTED":
        return wanted
    f = doc["fields"]
    action = Action(f["action"])
    country = f["actor"] if action.is_use else f.get("recipient")
    if not (action.is_use or action.is_transfer) or not country:
        return wanted
    day = act_date(f)
    categories = sorted({w["category"] for w in doc["weapons"]})
    for treaty_id, treaty in sorted(treaties.items()):
        banned = [k for k in categories if k in treaty.get("prohibits", [])]
        if not banned:
            continue
        span = span_on(treaty_id, country, day)
        if span is None:
            continue
        for k in banned:
            wanted.add((country, treaty_id, k, day, flag_reason(country, treaty, span, k)))
    return wanted
