"""Timelines: fuzzy-date order, keyset pages, corrections and retractions as of any position."""

from __future__ import annotations

import pytest

from api.importing.commands import import_lines
from domain.errors import InvalidInput
from projections.service import Store
from tests.conftest import SOURCE, line, seed_lines


def test_the_ukraine_timeline_lists_the_seed_decisions_in_date_order(store: Store) -> None:
    import_lines(store, seed_lines())
    page = store.read.timeline("country", "UKR")
    assert [(e["date"]["edtf"], e["role"], e["decisionId"]) for e in page.entries] == [
        ("1999-02-24", "ACTOR", "ukr-1999-02-24-sign-ottawa"),
        ("2005-12-27", "ACTOR", "ukr-2005-12-27-ratify-ottawa"),
        ("2024-11-17", "RECIPIENT", "usa-2024-11-17-atacms-strikes-russia"),
        ("2024-11-20", "RECIPIENT", "usa-2024-11-20-apl-ukraine"),
    ]


def test_the_apl_decision_departs_from_the_2022_policy_without_reversing_it(
    store: Store,
) -> None:
    import_lines(store, seed_lines())
    assert store.read.related(["usa-2024-11-20-apl-ukraine"], "departsFrom", False) == {
        "usa-2024-11-20-apl-ukraine": ["usa-2022-06-21-apl-policy"]
    }
    assert store.read.related(["usa-2022-06-21-apl-policy"], "departsFrom", True) == {
        "usa-2022-06-21-apl-policy": ["usa-2024-11-20-apl-ukraine"]
    }
    assert store.read.related(["usa-2022-06-21-apl-policy"], "reverses", True) == {
        "usa-2022-06-21-apl-policy": []
    }


def test_links_read_both_ways_at_once_are_those_read_one_way_at_a_time(store: Store) -> None:
    import_lines(store, seed_lines())
    # Decisions reversing and making exceptions to others; a retraction after them.
    common = {"actor": "FRA", "action": "PLEDGE", "recipient": "UKR", "sources": SOURCE}
    made = [("fra-0", None, None), ("fra-1", None, None), ("fra-2", None, None)]
    made += [("fra-r", "fra-2", "usa-2022-06-21-apl-policy"), ("fra-s", "fra-2", "fra-1")]
    made += [("fra-t", "fra-0", None)]
    lines = [
        line(
            "recordDecision",
            id=name,
            decidedOn=f"20{20 + i}",
            headline=f"Decision {i}",
            **({"reverses": reverses} if reverses else {}),
            **({"departsFrom": departs} if departs else {}),
            **common,
        )
        for i, (name, reverses, departs) in enumerate(made)
    ]
    assert not import_lines(store, lines).errors
    before = store.head()
    retract = line("retractDecision", id="fra-s", reason="recorded twice", sources=SOURCE)
    assert not import_lines(store, [retract]).errors
    ids = [name for name, _, _ in made] + ["usa-2022-06-21-apl-policy", "unknown"]
    for as_of in (None, before):
        sides = store.read.related_sides(ids, ("reverses", "departsFrom"), as_of)
        assert sides == {
            (relation, inverse): store.read.related(ids, relation, inverse, as_of)
            for relation in ("reverses", "departsFrom")
            for inverse in (False, True)
        }
        # The retracted fra-s reverses fra-2 only before its retraction.
        reversing = ["fra-r", "fra-s"] if as_of == before else ["fra-r"]
        assert sides["reverses", True]["fra-2"] == reversing
        assert sides["departsFrom", True]["usa-2022-06-21-apl-policy"] == [
            "fra-r",
            "usa-2024-11-20-apl-ukraine",
        ]
        assert sides["reverses", False]["fra-t"] == ["fra-0"]


def test_records_of_two_kinds_read_at_once_are_those_read_a_kind_at_a_time(store: Store) -> None:
    import_lines(store, seed_lines())
    before = store.head()
    weapon = {"id": "system-x", "name": "System X", "category": "cruise-missile", "sources": SOURCE}
    assert not import_lines(store, [line("recordWeapon", **weapon)]).errors
    wanted = {
        "weapon": ["atacms", "system-x", "ottawa-convention"],
        "treaty": ["ottawa-convention", "unknown"],
        "statement": [],
    }
    for as_of in (None, before):
        found = store.read.records_by_kind(wanted, as_of)
        assert found == {
            kind: store.read.records(kind, ids=ids, as_of=as_of) if ids else []
            for kind, ids in wanted.items()
        }
        assert [w["id"] for w in found["weapon"]] == ["atacms", "system-x"][: 1 if as_of else 2]
        assert [t["id"] for t in found["treaty"]] == ["ottawa-convention"]
    assert store.read.records_by_kind({"weapon": []}) == {"weapon": []}


def test_weapon_timelines_exist_per_system_and_per_category(store: Store) -> None:
    import_lines(store, seed_lines())
    system = store.read.timeline("system", "atacms").entries
    category = store.read.timeline("category", "short-range-ballistic-missile").entries
    assert [e["decisionId"] for e in system] == ["usa-2024-11-17-atacms-strikes-russia"]
    assert [e["decisionId"] for e in category] == ["usa-2024-11-17-atacms-strikes-russia"]
    assert system[0]["weapons"] == [
        {"system": "atacms", "category": "short-range-ballistic-missile"}
    ]


def _decisions(*items: tuple[str, str]) -> list[str]:
    return [
        line(
            "recordDecision",
            id=ident,
            actor="FRA",
            action="DELIVER",
            decidedOn=date,
            headline=ident,
            sources=SOURCE,
        )
        for ident, date in items
    ]


def test_a_month_precision_date_sorts_by_its_first_day_and_ties_by_position(store: Store) -> None:
    import_lines(
        store,
        _decisions(
            ("mid-nov", "2024-11-15"),
            ("nov", "2024-11"),
            ("first-nov", "2024-11-01"),
            ("oct", "2024-10-31"),
            ("year", "2024"),
        ),
    )
    ids = [e["decisionId"] for e in store.read.timeline("country", "FRA").entries]
    assert ids == ["year", "oct", "nov", "first-nov", "mid-nov"]


def test_keyset_pages_are_stable_while_new_events_arrive(store: Store) -> None:
    import_lines(store, _decisions(*[(f"d{i:02d}", f"2020-01-{i + 1:02d}") for i in range(25)]))
    first = store.read.timeline("country", "FRA", first=10)
    assert first.has_next and not first.has_previous
    import_lines(store, _decisions(("early", "2019"), ("late", "2021")))
    second = store.read.timeline("country", "FRA", first=10, after=first.cursors[-1])
    assert [e["decisionId"] for e in second.entries] == [f"d{i:02d}" for i in range(10, 20)]
    assert second.has_previous


def test_forged_cursors_and_oversized_pages_are_clear_errors(store: Store) -> None:
    with pytest.raises(InvalidInput, match="after: not a cursor returned by this timeline"):
        store.read.timeline("country", "FRA", after="bm90IGEgY3Vyc29y")
    with pytest.raises(InvalidInput, match="first: must be between 0 and 100"):
        store.read.timeline("country", "FRA", first=101)


def test_from_to_and_actions_filter_the_timeline(store: Store) -> None:
    import_lines(store, seed_lines())
    page = store.read.timeline("country", "UKR", from_="2024", to="2024-11-18")
    assert [e["decisionId"] for e in page.entries] == ["usa-2024-11-17-atacms-strikes-russia"]
    page = store.read.timeline("country", "UKR", actions=["SIGN", "RATIFY"])
    assert [e["action"] for e in page.entries] == ["SIGN", "RATIFY"]


def test_corrections_and_retractions_are_visible_now_and_invisible_as_of_before(
    store: Store,
) -> None:
    import_lines(store, _decisions(("a", "2024-03"), ("b", "2024-05")))
    before = store.head()
    import_lines(
        store,
        [
            line(
                "correctDecision",
                id="a",
                changes={"decidedOn": "2024-06", "headline": "A!"},
                reason="the date was wrong",
                sources=SOURCE,
            ),
            line("retractDecision", id="b", reason="never happened", sources=SOURCE),
        ],
    )
    now = store.read.timeline("country", "FRA").entries
    assert [(e["decisionId"], e["headline"], e["status"]) for e in now] == [
        ("a", "A!", "CORRECTED")
    ]
    with_retracted = store.read.timeline("country", "FRA", include_retracted=True).entries
    assert [(e["decisionId"], e["status"]) for e in with_retracted] == [
        ("b", "RETRACTED"),
        ("a", "CORRECTED"),
    ]
    then = store.read.timeline("country", "FRA", as_of=before).entries
    assert [(e["decisionId"], e["headline"], e["status"]) for e in then] == [
        ("a", "a", "ACTIVE"),
        ("b", "b", "ACTIVE"),
    ]
    history = store.read.history(["a"])["a"]
    assert [(h["eventType"], h["reason"]) for h in history] == [
        ("Recorded", None),
        ("Corrected", "the date was wrong"),
    ]
    assert store.read.decision("a", as_of=before)["headline"] == "a"  # type: ignore[index]


def test_changes_for_subscribers_never_cut_one_write_in_two(store: Store) -> None:
    import_lines(store, seed_lines())
    apl = store.read.decision("usa-2024-11-20-apl-ukraine")
    assert apl is not None
    before = apl["position"] - 1
    # The APL decision wrote three rows at one position: USA, UKR and its weapon category.
    changes = store.read.changes_after(before, limit=1)
    assert {(c["kind"], c["key"]) for c in changes} == {
        ("country", "USA"),
        ("country", "UKR"),
        ("category", "antipersonnel-landmine"),
    }
    assert {c["position"] for c in changes} == {apl["position"]}
