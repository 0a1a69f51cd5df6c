"""Statements attach to their decision; observations keep both values when sources disagree."""

from __future__ import annotations

from typing import Any

from api.importing.commands import import_lines
from projections.service import Store
from tests.conftest import SOURCE, line, seed_lines

APL = "usa-2024-11-20-apl-ukraine"
OTHER = [{"publisher": "Other Monitor", "quote": "a different count"}]


def observation(ident: str, value: float, scope: str = "WORLD", sources: Any = SOURCE) -> str:
    return line(
        "recordObservation",
        id=ident,
        indicator="landmine-casualties",
        scope=scope,
        period="2023",
        value=value,
        unit="casualties",
        sources=sources,
    )


def test_statements_are_attached_to_the_decision_they_are_about(store: Store) -> None:
    import_lines(store, seed_lines())
    statements = store.read.records("statement", refs=[APL])
    # Each line of the article: who said it, and only their own words as the quote.
    assert [(s["by"]["name"], s["stance"], s["quote"]) for s in statements] == [
        (
            "Lloyd Austin",
            "SUPPORTS",
            "They don't lead with their mechanized forces anymore. They lead with dismounted "
            "forces who are able to close in and do things to kind of pave the way for "
            "mechanized forces.",
        ),
        ("Lloyd Austin", "SUPPORTS", "need for things that can help slow down that effort"),
        ("Handicap International", "CONDEMNS", "terrible"),
        ("Handicap International", "CONDEMNS", "catastrophic"),
        (
            "Elliot de Faramond",
            "CONCERNED",
            "Ukrainian civilians will be the primary victims of these weapons, with very "
            "long-term consequences",
        ),
        (
            "Elliot de Faramond",
            "CONDEMNS",
            "What's more, the mines kill without distinguishing between civilians and military "
            "personnel, which contravenes international humanitarian law.",
        ),
        ("Elliot de Faramond", "CONDEMNS", "flagrant violation"),
        ("Elliot de Faramond", "CONCERNED", "dangerous precedent"),
        ("Elliot de Faramond", "CONCERNED", "proven its effectiveness"),
    ]
    assert store.read.records("statement", refs=["usa-2024-11-17-atacms-strikes-russia"]) == []


def test_every_seed_quote_is_the_speakers_own_words_inside_the_cited_sentence(
    store: Store,
) -> None:
    import_lines(store, seed_lines())
    for statement in store.read.records("statement", refs=[APL]):
        cited = [source["quote"] for source in statement["sources"]]
        assert any(f'"{statement["quote"]}' in text for text in cited), statement["id"]


def test_a_statement_recorded_later_is_absent_as_of_an_earlier_position(store: Store) -> None:
    import_lines(store, seed_lines())
    before = store.head()
    import_lines(
        store,
        [
            line(
                "recordStatement",
                id="ukr-welcomes",
                by={"name": "Ukraine", "kind": "STATE", "country": "UKR"},
                about=APL,
                stance="SUPPORTS",
                sources=SOURCE,
            )
        ],
    )
    assert len(store.read.records("statement", refs=[APL])) == 10
    assert len(store.read.records("statement", refs=[APL], as_of=before)) == 9


def test_two_sources_with_different_values_are_both_kept_and_marked_as_a_conflict(
    store: Store,
) -> None:
    import_lines(
        store, [observation("lm-world", 5757), observation("ngo-world", 6000, sources=OTHER)]
    )
    found = store.read.observations("landmine-casualties", scope="WORLD")
    assert [(o["id"], float(o["value"]), o["conflict"]) for o in found] == [
        ("lm-world", 5757, True),
        ("ngo-world", 6000, True),
    ]


def test_agreeing_sources_and_other_scopes_are_no_conflict(store: Store) -> None:
    import_lines(
        store,
        [
            observation("lm-world", 5757),
            observation("copy-world", 5757.0, sources=OTHER),
            observation("lm-ukr", 580, scope="UKR"),
        ],
    )
    found = store.read.observations("landmine-casualties")
    assert [(o["id"], o["conflict"]) for o in found] == [
        ("lm-world", False),
        ("copy-world", False),
        ("lm-ukr", False),
    ]
    assert [o["id"] for o in store.read.observations("landmine-casualties", scope="UKR")] == [
        "lm-ukr"
    ]


def test_a_conflict_appears_only_from_the_position_of_the_disagreeing_source(
    store: Store,
) -> None:
    import_lines(store, [observation("lm-world", 5757)])
    before = store.head()
    import_lines(store, [observation("ngo-world", 6000, sources=OTHER)])
    then = store.read.observations("landmine-casualties", as_of=before)
    assert [(o["id"], o["conflict"]) for o in then] == [("lm-world", False)]
    now = store.read.observations("landmine-casualties")
    assert [(o["id"], o["conflict"]) for o in now] == [("lm-world", True), ("ngo-world", True)]
