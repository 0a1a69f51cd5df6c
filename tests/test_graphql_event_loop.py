"""No resolver runs SQL on the event loop: reads and writes go through worker threads, so one
slow query never stalls every other request the process is serving."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

from sqlalchemy import event

from api.graphql.build import build_schema
from api.graphql.context import Context
from api.http.keys import KeyRing
from api.importing.commands import import_lines
from projections.service import Store
from tests.conftest import ROOT, SOURCE, seed_lines

APL = "usa-2024-11-20-apl-ukraine"
READS = """
query ($id: ID!) {
  countryTimeline(country: "UKR", first: 5) { edges { node { decisionId headline(lang: "fr") } } }
  weaponTimeline(category: "antipersonnel-landmine") { edges { node { decisionId } } }
  decision(id: $id) {
    headline summary(lang: "uk")
    reverses { id } reversedBy { headline } supersedes { id } supersededBy { id }
    departsFrom { id } departedFromBy { id } implements { id } implementedBy { id }
    history { eventType } statements { id quote(lang: "fr") }
    complianceFlags { treaty reason(lang: "fr") } translations { lang }
  }
  treaty(id: "ottawa-convention") {
    name(lang: "uk") parties { country } partyCount signatories { country }
    standing(country: "UKR") { status partySince } translations { lang }
  }
  weapon(id: "atacms") { name(lang: "fr") translations { lang } }
  complianceFlags(country: "UKR") { decisionId reason }
  observations(indicator: "landmine-casualties") { id note(lang: "fr") conflict }
  indicators { id label }
  auditLog(first: 2) { position chainHash }
  integrity { ok headPosition }
  diff(from: 0, to: 3) { position kind }
  inclusionProof(position: 1) { treeSize rootHash }
}"""
WRITE = """
mutation ($input: RecordDecisionInput!) {
  recordDecision(input: $input) {
    __typename
    ... on RecordDecisionSuccess { position decision { id reverses { id } } }
  }
}"""
REVERSAL = {
    "id": "usa-2025-apl-reversal",
    "actor": "USA",
    "action": "RESTRICT_USE",
    "headline": "The transfer of landmines is reversed",
    "decidedOn": "2025-01",
    "reverses": APL,
    "sources": SOURCE,
}


def _threads_running_sql(store: Store) -> list[int]:
    """The threads every statement the store's engines send from now on runs in."""
    threads: list[int] = []

    def seen(*_: Any) -> None:
        threads.append(threading.get_ident())

    for engine in {store.engine, store.read_engine}:
        event.listen(engine, "before_cursor_execute", seen)
    return threads


def _execute(
    store: Store, query: str, variables: dict[str, Any], **context: Any
) -> tuple[int, Any]:
    """Run one operation as the server does: the event loop's thread, and the result."""

    async def run() -> tuple[int, Any]:
        result = await build_schema().execute(
            query, context_value=Context(store=store, **context), variable_values=variables
        )
        return threading.get_ident(), result

    return asyncio.run(run())


def test_no_query_resolver_reads_the_database_on_the_event_loop(store: Store) -> None:
    seed = seed_lines()
    ids = {json.loads(text)["input"]["id"] for text in seed}
    translations = (ROOT / "data" / "seed.translations.jsonl").read_text(encoding="utf-8")
    of_seed = [t for t in translations.splitlines() if json.loads(t)["input"]["record"] in ids]
    for lines in (seed, of_seed):
        assert not import_lines(store, lines).errors
    threads = _threads_running_sql(store)
    loop, result = _execute(store, READS, {"id": APL})
    assert result.errors is None, result.errors
    assert result.data["decision"]["complianceFlags"], "the seed's transfer is flagged"
    assert threads, "the query read the database"
    assert loop not in threads


def test_a_mutation_writes_and_answers_off_the_event_loop(store: Store) -> None:
    import_lines(store, seed_lines())
    key, _ = KeyRing(store.engine).create("editor")
    threads = _threads_running_sql(store)
    loop, result = _execute(store, WRITE, {"input": REVERSAL}, key=key)
    assert result.errors is None, result.errors
    answer = result.data["recordDecision"]
    assert answer["__typename"] == "RecordDecisionSuccess"
    assert answer["decision"] == {"id": REVERSAL["id"], "reverses": [{"id": APL}]}
    assert threads, "the mutation wrote to the database"
    assert loop not in threads
