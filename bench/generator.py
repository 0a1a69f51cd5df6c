"""A deterministic, streaming generator of realistic import operations."""

from __future__ import annotations

import bisect
import itertools
import json
import random
from collections.abc import Iterator
from typing import Any

import pycountry

from domain.values import TREATY_ACTIONS, WEAPON_CATEGORIES, Action, ActorKind, Stance

COUNTRY_COUNT = 200
WEAPON_COUNT = 300
TREATIES: list[tuple[str, str, list[str]]] = [
    ("mine-ban-treaty", "Convention banning anti-personnel mines", ["antipersonnel-landmine"]),
    ("cluster-munitions-convention", "Convention on Cluster Munitions", ["cluster-munition"]),
    ("arms-trade-treaty", "Arms Trade Treaty", []),
    ("missile-limitation-treaty", "Treaty limiting ground-launched missiles", ["cruise-missile"]),
]
PUBLISHERS = ["Official Gazette", "Reuters", "Le Monde", "Ministry of Defence", "UN News"]
INDICATORS = ["landmine-casualties", "arms-imports", "cluster-munition-casualties"]
TREATY_ACTION_SHARE = 0.03
"""Share of decisions that are treaty actions: rare, as in the real record."""
_JOIN = ["SIGN", "RATIFY", "ENTRY_INTO_FORCE"]
LIFECYCLES = [
    _JOIN,
    [*_JOIN, "ANNOUNCE_WITHDRAWAL", "NOTIFY_WITHDRAWAL", "WITHDRAWAL_EFFECTIVE"],
    ["ACCEDE", "ENTRY_INTO_FORCE"],
    [*_JOIN, "SUSPEND_OBLIGATIONS"],
]
LIFECYCLE_WEIGHTS = [70, 10, 15, 5]
"""What a state does towards a treaty over the years; each step is one decision."""
RETRACTABLE = 97
"""Only every 97th decision may be retracted, so corrections never hit a retracted one."""

# Share of each operation once treaties and weapons are recorded (cumulative weights).
_MIX = [
    ("recordDecision", 75),
    ("correctDecision", 5),
    ("retractDecision", 1),
    ("recordStatement", 12),
    ("recordObservation", 7),
    ("translateRecord", 2),
]
_MIX_OPS = [op for op, _ in _MIX]
_MIX_CUM = list(itertools.accumulate(w for _, w in _MIX))
_ACTIONS = sorted((a for a in Action if a not in TREATY_ACTIONS), key=lambda a: a.value)
_CATEGORIES = sorted(WEAPON_CATEGORIES)


def countries(seed: int = 0) -> list[str]:
    """The ~200 alpha-3 codes the generator uses, most active first."""
    codes = sorted(c.alpha_3 for c in pycountry.countries)
    return random.Random(seed).sample(codes, COUNTRY_COUNT)


def weapon_id(i: int) -> str:
    return f"system-{i:03d}"


def decision_id(k: int) -> str:
    return f"decision-{k:07d}"


class Generator:
    """Yields `{"op", "input"}` dicts; keeps only counters, so memory is flat in N."""

    def __init__(self, seed: int = 0, treaty_share: float = TREATY_ACTION_SHARE) -> None:
        self.rng = random.Random(seed)
        self.treaty_share = treaty_share
        self.countries = countries(seed)
        # Zipf-like activity: a few countries decide much more than most.
        self._country_cum = list(
            itertools.accumulate(1 / (i + 1) ** 0.8 for i in range(COUNTRY_COUNT))
        )
        self.weapons = [(weapon_id(i), _CATEGORIES[i % len(_CATEGORIES)]) for i in range(300)]
        self.decisions = 0
        self.translations = 0
        self.next_retraction = RETRACTABLE - 1
        # Each (state, treaty) pair walks one lifecycle, a step per treaty action: treaty
        # actions stay bounded by states x treaties, whatever N is (memory stays flat too).
        self.lifecycles: dict[tuple[str, str], tuple[list[str], int]] = {}

    def operations(self, n: int) -> Iterator[dict[str, Any]]:
        """The first `n` operations: treaties, then weapons, then the everyday mix."""
        emitted = 0
        setup = itertools.chain(
            (self._treaty(*t) for t in TREATIES),
            (self._weapon(i) for i in range(min(WEAPON_COUNT, max(1, n // 5)))),
        )
        for op in setup:
            if emitted >= n:
                return
            yield op
            emitted += 1
        self.weapons = self.weapons[: min(WEAPON_COUNT, max(1, n // 5))]
        while emitted < n:
            yield self._next()
            emitted += 1

    def _next(self) -> dict[str, Any]:
        rng = self.rng
        op = _MIX_OPS[bisect.bisect(_MIX_CUM, rng.random() * _MIX_CUM[-1])]
        if self.decisions < 10 or op == "recordDecision":
            return self._decision()
        if op == "retractDecision":
            if self.next_retraction >= self.decisions:
                return self._decision()
            k, self.next_retraction = self.next_retraction, self.next_retraction + RETRACTABLE
            return _op(
                op, id=decision_id(k), reason="The report was withdrawn.", sources=self._sources()
            )
        if op == "correctDecision":
            return self._correction()
        if op == "recordStatement":
            return self._statement()
        if op == "translateRecord":
            return self._translation()
        return self._observation()

    def _country(self) -> str:
        x = self.rng.random() * self._country_cum[-1]
        return self.countries[bisect.bisect(self._country_cum, x)]

    def _date(self) -> str:
        rng = self.rng
        year, month, day = rng.randint(1990, 2025), rng.randint(1, 12), rng.randint(1, 28)
        kind = rng.random()
        text = (
            f"{year}"
            if kind < 0.15
            else f"{year}-{month:02d}"
            if kind < 0.4
            else (f"{year}-{month:02d}-{day:02d}")
        )
        mark = rng.random()
        return text + ("?" if mark < 0.05 else "~" if mark < 0.1 else "")

    def _retrieved(self) -> str:
        # Sources are retrieved recently, whatever the date of what they report.
        return f"2026-{self.rng.randint(1, 11):02d}-{self.rng.randint(1, 28):02d}"

    def _sources(self) -> list[dict[str, Any]]:
        rng = self.rng
        sources = []
        for _ in range(rng.randint(1, 3)):
            n = rng.randrange(1_000_000)
            source: dict[str, Any] = {
                "publisher": rng.choice(PUBLISHERS),
                "title": f"Report {n}",
                "retrievedOn": self._retrieved(),
            }
            if rng.random() < 0.6:
                source["url"] = f"https://news.example.org/{n}"
            if rng.random() < 0.4:
                source["quote"] = f"Officials confirmed the decision reported as item {n}."
            sources.append(source)
        return sources

    def _treaty(self, slug: str, name: str, prohibits: list[str]) -> dict[str, Any]:
        return _op(
            "recordTreaty",
            id=slug,
            name=name,
            adoptedOn=self._date(),
            prohibits=prohibits,
            sources=self._sources(),
        )

    def _weapon(self, i: int) -> dict[str, Any]:
        slug, category = self.weapons[i]
        return _op(
            "recordWeapon",
            id=slug,
            name=f"Weapon system {i}",
            category=category,
            designation=f"WS-{i}",
            aliases=[f"WS{i}"],
            sources=self._sources(),
        )

    def _decision(self) -> dict[str, Any]:
        rng = self.rng
        k = self.decisions
        self.decisions += 1
        actor = self._country()
        step = self._treaty_step(actor) if rng.random() < self.treaty_share else None
        action = Action(step[1]) if step else rng.choice(_ACTIONS)
        data: dict[str, Any] = {
            "id": decision_id(k),
            "actor": actor,
            "action": action.value,
            "headline": f"{actor} decision {k}: {action.value.lower()}",
        }
        if step is not None:
            slug, _name, prohibits = TREATIES[step[0]]
            data["treaty"] = slug
            if prohibits:
                data["weapons"] = [{"category": prohibits[0]}]
        else:
            recipient = self._country()
            if recipient != actor and rng.random() < 0.7:
                data["recipient"] = recipient
            if rng.random() < 0.7:
                data["weapons"] = [
                    {"system": rng.choice(self.weapons)[0]} for _ in range(rng.randint(1, 2))
                ]
            else:
                data["weapons"] = [{"category": rng.choice(_CATEGORIES)}]
        for role in ("decidedOn", "announcedOn", "effectiveOn"):
            if rng.random() < 0.5 or (role == "effectiveOn" and len(data) < 5):
                data[role] = self._date()
        if not any(r in data for r in ("decidedOn", "announcedOn", "effectiveOn")):
            data["decidedOn"] = self._date()
        if rng.random() < 0.3:
            data["officials"] = [
                {
                    "name": f"Minister {rng.randrange(5000)}",
                    "office": "Minister",
                    "announced": rng.random() < 0.5,
                }
            ]
        if rng.random() < 0.5:
            data["summary"] = f"The government of {actor} took decision {k} after deliberation."
        if k > 0 and rng.random() < 0.03:
            data["reverses"] = decision_id(rng.randrange(k))
        data["sources"] = self._sources()
        return _op("recordDecision", **data)

    def _treaty_step(self, actor: str) -> tuple[int, str] | None:
        """The next step of `actor` towards a random treaty, or None when that walk is over."""
        rng = self.rng
        treaty = rng.randrange(len(TREATIES))
        key = (actor, TREATIES[treaty][0])
        if key not in self.lifecycles:
            self.lifecycles[key] = (rng.choices(LIFECYCLES, LIFECYCLE_WEIGHTS)[0], 0)
        steps, done = self.lifecycles[key]
        if done >= len(steps):
            return None
        self.lifecycles[key] = (steps, done + 1)
        return treaty, steps[done]

    def _correctable(self) -> int:
        k = self.rng.randrange(self.decisions)
        return k - 1 if k % RETRACTABLE == RETRACTABLE - 1 else k

    def _correction(self) -> dict[str, Any]:
        k = self._correctable()
        n = self.rng.randrange(1_000_000)
        changes: dict[str, Any] = {"headline": f"Corrected headline {n} of decision {k}"}
        if self.rng.random() < 0.3:
            changes["effectiveOn"] = self._date()
        return _op(
            "correctDecision",
            id=decision_id(k),
            changes=changes,
            reason=f"Correction {n}",
            sources=self._sources(),
        )

    def _translation(self) -> dict[str, Any]:
        k = self._correctable()
        lang = self.rng.choice(("fr", "uk"))
        self.translations += 1
        return _op(
            "translateRecord",
            id=f"translation-{self.translations:07d}",
            kind="DECISION",
            record=decision_id(k),
            lang=lang,
            headline=f"Décision {k}" if lang == "fr" else f"Рішення {k}",
            sources=[{"publisher": "Newsroom translation desk"}],
        )

    def _statement(self) -> dict[str, Any]:
        rng = self.rng
        n = rng.randrange(10**9)
        kind = rng.choice(list(ActorKind))
        by: dict[str, Any] = {"name": f"Speaker {rng.randrange(2000)}", "kind": kind.value}
        if kind is not ActorKind.ORGANIZATION:
            by["country"] = self._country()
        return _op(
            "recordStatement",
            id=f"statement-{n:09d}-{self.decisions}",
            by=by,
            about=decision_id(rng.randrange(self.decisions)),
            stance=rng.choice(list(Stance)).value,
            quote=f"We note decision {n}.",
            madeOn=self._date(),
            sources=self._sources(),
        )

    def _observation(self) -> dict[str, Any]:
        rng = self.rng
        scope = "WORLD" if rng.random() < 0.2 else self._country()
        return _op(
            "recordObservation",
            id=f"observation-{self.decisions}-{rng.randrange(10**6)}",
            indicator=rng.choice(INDICATORS),
            scope=scope,
            period=str(rng.randint(1990, 2025)),
            value=rng.randrange(100_000),
            unit="count",
            sources=self._sources(),
        )


def _op(op_name: str, **data: Any) -> dict[str, Any]:
    return {"op": op_name, "input": data}


def operations(
    n: int, seed: int = 0, treaty_share: float = TREATY_ACTION_SHARE
) -> Iterator[dict[str, Any]]:
    """The first `n` operations for `seed`: always the same for the same arguments.

    `treaty_share` raises the share of treaty actions, e.g. for tests of membership."""
    return Generator(seed, treaty_share).operations(n)


def lines(n: int, seed: int = 0, treaty_share: float = TREATY_ACTION_SHARE) -> Iterator[str]:
    """The same operations as JSON Lines text."""
    for op in operations(n, seed, treaty_share):
        yield json.dumps(op, separators=(",", ":"))
