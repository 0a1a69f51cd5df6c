"""A retracted decision is linked to nothing from its retraction on: neither its own
`reverses`/`departsFrom`/`supersedes`/`implements` nor another decision's link to it stay
current, in GraphQL (ordinary and compiled), the embed page and TimelineJS; `asOf` before the
retraction still shows them. Both backends."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from strawberry.http import process_result

from api.graphql.build import build_schema
from api.graphql.compiled import CompiledPath
from api.graphql.context import Context
from api.importing.commands import import_lines
from projections.readmodels.rebuild import rebuild
from projections.service import Store
from tests.conftest import SOURCE, line
from tests.embed_support import Client

SCHEMA = build_schema()
COMMON = {"actor": "FRA", "action": "PLEDGE", "recipient": "UKR", "sources": SOURCE}
LINKS = """query ($id: ID!, $asOf: Int) {
  decision(id: $id, asOf: $asOf) {
    id status
    reverses { id status } reversedBy { id status }
    departsFrom { id } departedFromBy { id }
    supersedes { id } supersededBy { id }
    implements { id } implementedBy { id }
  }
}"""


def decision(name: str, day: str, **links: str) -> str:
    return line(
        "recordDecision", id=name, decidedOn=day, headline=f"Headline {name}", **links, **COMMON
    )


def retract(name: str) -> str:
    return line("retractDecision", id=name, reason="recorded in error", sources=SOURCE)


def load(store: Store, lines: list[str]) -> int:
    """Import `lines`; the log position after them."""
    result = import_lines(store, lines)
    assert not result.errors, result.errors
    return store.head()


def ask(store: Store, name: str, as_of: int | None = None) -> dict[str, Any]:
    """`decision(id:)` with every relation both ways, through ordinary execution and through
    the compiled path: the same answer (the compiled path must answer it)."""
    compiled = CompiledPath(SCHEMA._schema, SCHEMA.validated_documents, lambda: store.read)
    variables = {"id": name, "asOf": as_of}

    async def both() -> tuple[Any, Any]:
        ordinary = await SCHEMA.execute(
            LINKS, variable_values=variables, context_value=Context(store=store)
        )
        return ordinary, await compiled.execute(LINKS, variables, None)

    ordinary, fast = asyncio.run(both())
    assert fast is not None
    expected = process_result(ordinary)
    assert process_result(fast) == expected
    assert "errors" not in expected, expected
    data: dict[str, Any] = expected["data"]["decision"]
    return data


def ids(answer: dict[str, Any], field: str) -> list[str]:
    return [d["id"] for d in answer[field]]


def article(html: str, name: str) -> str:
    found = re.search(rf'<article id="{re.escape(name)}".*?</article>', html, re.S)
    assert found, name
    return found.group(0)


def test_retracting_a_decision_closes_its_links_both_ways_from_the_retraction_on(
    store: Store,
) -> None:
    before = load(
        store,
        [
            decision("fra-a", "2020"),
            decision("fra-b", "2021", reverses="fra-a"),
            decision("fra-c", "2022", departsFrom="fra-a"),
            decision("fra-d", "2023", supersedes="fra-b", implements="fra-b"),
        ],
    )
    after = load(store, [retract("fra-b")])

    a_before, a_after = ask(store, "fra-a", before), ask(store, "fra-a")
    assert ids(a_before, "reversedBy") == ["fra-b"]
    assert ids(a_after, "reversedBy") == []
    # The exception made by another, live decision stays.
    assert ids(a_after, "departedFromBy") == ["fra-c"]

    b_before, b_after = ask(store, "fra-b", before), ask(store, "fra-b")
    assert (b_before["status"], ids(b_before, "reverses")) == ("ACTIVE", ["fra-a"])
    assert b_after["status"] == "RETRACTED"
    assert {f: ids(b_after, f) for f in ("reverses", "supersededBy", "implementedBy")} == {
        "reverses": [],
        "supersededBy": [],
        "implementedBy": [],
    }
    assert ids(b_before, "supersededBy") == ids(b_before, "implementedBy") == ["fra-d"]
    d_after = ask(store, "fra-d", after)
    assert (ids(d_after, "supersedes"), ids(d_after, "implements")) == ([], [])
    assert ids(ask(store, "fra-d", before), "supersedes") == ["fra-b"]

    # The readers the embed uses, both ways at once, agree.
    sides = store.read.related_sides(["fra-a", "fra-b"], ("reverses", "departsFrom"))
    assert sides["reverses", True] == {"fra-a": [], "fra-b": []}
    assert sides["reverses", False] == {"fra-a": [], "fra-b": []}
    assert sides["departsFrom", True]["fra-a"] == ["fra-c"]


def test_the_embed_page_and_timelinejs_no_longer_show_a_link_to_a_retracted_decision(
    store: Store,
) -> None:
    before = load(store, [decision("fra-a", "2020"), decision("fra-b", "2021", reverses="fra-a")])
    client = Client(store)
    pinned = client.get(f"/embed/timeline?country=FRA&asOf={before}")
    assert pinned.status_code == 200
    assert "Reversed by:" in article(pinned.text, "fra-a")
    assert 'href="#fra-b"' in article(pinned.text, "fra-a")

    load(store, [retract("fra-b")])
    page = client.get("/embed/timeline?country=FRA")
    assert page.status_code == 200
    a = article(page.text, "fra-a")
    assert "Reversed by:" not in a and "fra-b" not in a
    # The retracted entry keeps its place as a notice, and links to nothing.
    b = article(page.text, "fra-b")
    assert "retracted" in b
    assert "Reverses:" not in b
    # The pinned view still says what the record said then.
    again = client.get(f"/embed/timeline?country=FRA&asOf={before}")
    assert again.text == pinned.text

    document = client.get("/timelinejs.json?country=FRA").json()
    assert [e["unique_id"] for e in document["events"]] == ["fra-a"]
    assert "fra-b" not in str(document["events"])


def test_a_decision_linking_to_a_retracted_one_links_to_nothing_from_then_on(
    store: Store,
) -> None:
    """Retracting the target; a link recorded, or corrected, to an already retracted decision;
    a correction that moves a link; and all of it inside one import batch."""
    before = load(
        store,
        [
            decision("fra-a", "2020"),
            decision("fra-x", "2020-06"),
            decision("fra-b", "2021", reverses="fra-a"),
            decision("fra-e", "2022", departsFrom="fra-x"),
        ],
    )
    retracted = load(store, [retract("fra-a")])
    assert ids(ask(store, "fra-b", before), "reverses") == ["fra-a"]
    assert ids(ask(store, "fra-b"), "reverses") == []
    assert ids(ask(store, "fra-a", before), "reversedBy") == ["fra-b"]
    assert ids(ask(store, "fra-a"), "reversedBy") == []

    # Recorded after the retraction, or corrected to point at it: no current link.
    load(
        store,
        [
            decision("fra-c", "2023", reverses="fra-a", departsFrom="fra-x"),
            line(
                "correctDecision",
                id="fra-e",
                changes={"reverses": "fra-a"},
                reason="the source says rescinded",
                sources=SOURCE,
            ),
        ],
    )
    c = ask(store, "fra-c")
    assert (ids(c, "reverses"), ids(c, "departsFrom")) == ([], ["fra-x"])
    e = ask(store, "fra-e")
    assert (e["status"], ids(e, "reverses"), ids(e, "departsFrom")) == ("CORRECTED", [], ["fra-x"])
    assert ids(ask(store, "fra-a", retracted), "reversedBy") == []

    # A correction moving a link to another live decision: the old one closes, the new opens.
    moved = load(
        store,
        [
            line(
                "correctDecision",
                id="fra-c",
                changes={"departsFrom": "fra-e"},
                reason="wrong policy named",
                sources=SOURCE,
            )
        ],
    )
    assert ids(ask(store, "fra-x", moved - 1), "departedFromBy") == ["fra-c", "fra-e"]
    assert ids(ask(store, "fra-x"), "departedFromBy") == ["fra-e"]
    assert ids(ask(store, "fra-e"), "departedFromBy") == ["fra-c"]

    # Everything in one batch: links closed before their rows are even inserted.
    load(
        store,
        [
            decision("fra-p", "2024"),
            decision("fra-q", "2024-02", reverses="fra-p"),
            decision("fra-r", "2024-03", departsFrom="fra-q"),
            retract("fra-p"),
            retract("fra-r"),
            decision("fra-s", "2024-04", reverses="fra-p", departsFrom="fra-q"),
        ],
    )
    assert ids(ask(store, "fra-p"), "reversedBy") == []
    q = ask(store, "fra-q")
    assert (ids(q, "reverses"), ids(q, "departedFromBy")) == ([], ["fra-s"])
    assert ids(ask(store, "fra-s"), "reverses") == []


def test_a_rebuild_answers_what_the_live_projection_answered(store: Store) -> None:
    load(
        store,
        [
            decision("fra-a", "2020"),
            decision("fra-b", "2021", reverses="fra-a"),
            retract("fra-a"),
            decision("fra-c", "2022", reverses="fra-a", departsFrom="fra-b"),
        ],
    )
    live = store.projector.digests()
    answers = [ask(store, n, p) for n in ("fra-a", "fra-b", "fra-c") for p in (2, 3, None)]
    rebuilt = rebuild(store)
    assert rebuilt.digests == live
    assert [ask(store, n, p) for n in ("fra-a", "fra-b", "fra-c") for p in (2, 3, None)] == answers


@pytest.mark.parametrize("retracted", ["fra-a", "fra-b"])
def test_history_still_tells_what_the_retracted_decision_read(store: Store, retracted: str) -> None:
    load(store, [decision("fra-a", "2020"), decision("fra-b", "2021", reverses="fra-a")])
    load(store, [retract(retracted)])
    doc = store.read.decisions(["fra-b"])["fra-b"]
    # The record keeps what it read; only the link is no longer current.
    assert doc["reverses"] == "fra-a"
