"""The bundled membership of both treaties: built from the UNTC tables, loaded by serve --seed."""

from __future__ import annotations

import csv
import datetime as dt
import importlib.util
import json
import re
import sys
from types import ModuleType
from typing import Any

import httpx
import pytest

from api.cli.main import BUNDLED
from api.http.app import create_app
from projections.service import Store
from tests.conftest import ROOT, SEED

BUILD = ROOT / "data" / "membership" / "build.py"
REFERENCE = ROOT / "data" / "reference"
OTTAWA, CCM = "ottawa-convention", "cluster-munition-convention"
DATES = ["1999-03-01", "2000-01-01", "2006-06-01", "2024-11-20", "2026-02-03"]
D = dt.date.fromisoformat


def builder() -> ModuleType:
    spec = importlib.util.spec_from_file_location("membership_build", BUILD)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while defined
    spec.loader.exec_module(module)
    return module


def operations() -> list[dict[str, Any]]:
    return [json.loads(t)["input"] for t in BUNDLED[1].read_text(encoding="utf-8").splitlines()]


def table(name: str) -> list[dict[str, str]]:
    with (REFERENCE / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def bound_in_table(name: str, day: str) -> set[str]:
    """States the UNTC table binds on `day`, read straight from the CSV (the test's oracle)."""
    return {
        r["iso3"]
        for r in table(name)
        if r["entry_into_force_on"]
        and r["entry_into_force_on"] <= day
        and not (r["withdrawal_effective_on"] and r["withdrawal_effective_on"] <= day)
    }


def test_the_committed_import_file_is_what_the_script_builds_from_the_reference_tables() -> None:
    assert BUNDLED[1].read_text(encoding="utf-8") == builder().build(), (
        "data/membership.jsonl is out of date: run `make data` and commit it"
    )


def test_every_act_cites_the_untc_status_and_says_how_its_entry_into_force_was_obtained() -> None:
    ops = operations()
    treaty_acts = [o for o in ops if o["action"] in {"SIGN", "RATIFY", "ACCEDE"}]
    assert len({o["id"] for o in ops}) == len(ops)
    for op in treaty_acts:
        [untc] = [s for s in op["sources"] if s["publisher"] == "United Nations Treaty Collection"]
        assert untc["publishedOn"] == "2026-02-03" and "3 February 2026" in untc["title"]
        assert untc["url"].startswith("https://treaties.un.org/")
    derived = [o for o in treaty_acts if o["action"] != "SIGN" and "derived" in o["summary"]]
    read = [o for o in treaty_acts if o["action"] != "SIGN" and "derived" not in o["summary"]]
    assert [o["id"] for o in read] == ["ssd-2011-11-11-accede-ottawa"]
    assert (
        len(derived)
        == sum(1 for t in ("ottawa.csv", "ccm.csv") for r in table(t) if r["consent_on"]) - 2
    )
    by_id = {o["id"]: o for o in ops}
    assert "recorded as a ratification" in by_id["jpn-1998-09-30-ratify-ottawa"]["summary"]
    assert "recorded as an accession" in by_id["mne-2006-10-23-accede-ottawa"]["summary"]


def test_the_seed_story_and_the_membership_file_record_each_ukrainian_act_once() -> None:
    seed = [json.loads(t)["input"] for t in SEED.read_text(encoding="utf-8").splitlines()]
    acts = [
        (o["actor"], o["action"], o["decidedOn"], o.get("effectiveOn"))
        for o in seed + operations()
        if o.get("actor") == "UKR"
        and o.get("treaty") == OTTAWA
        and o["action"] in {"SIGN", "RATIFY"}
    ]
    [row] = [r for r in table("ottawa.csv") if r["iso3"] == "UKR"]
    assert sorted(acts) == [
        ("UKR", "RATIFY", row["consent_on"], row["entry_into_force_on"]),
        ("UKR", "SIGN", row["signed_on"], None),
    ]


@pytest.fixture
def loaded(bundled_load: tuple[Store, int]) -> tuple[Store, int]:
    """One store per backend holding what serve --seed loads; the position after the seed."""
    return bundled_load


async def ask(store: Store, query: str) -> dict[str, Any]:
    transport = httpx.ASGITransport(app=create_app(store))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.post("/graphql", json={"query": query})
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    return body["data"]


def test_party_counts_are_the_article_s_and_the_untc_s_at_the_dates_that_matter(
    loaded: tuple[Store, int],
) -> None:
    store, _ = loaded

    def count(treaty: str, day: str) -> int:
        return len(store.read.parties(treaty, valid_at=D(day)))

    assert count(OTTAWA, "2024-11-20") == 164  # the article: "164 States Parties"
    assert count(OTTAWA, "2026-02-03") == 162  # UNTC header: Parties 162 (Poland still bound)
    assert count(OTTAWA, "2026-02-20") == 161  # Poland's withdrawal, prospective on 2026-02-03
    # UNTC's header counts Vanuatu among the CCM's 112 parties, but the convention binds it
    # only from 2026-03-01: 111 states are bound on 2026-02-03.
    assert count(CCM, "2026-02-03") == 111
    assert count(CCM, "2026-03-01") == 112
    for day in [*DATES, "2025-03-06", "2025-12-27", "2026-01-10"]:
        for treaty, name in ((OTTAWA, "ottawa.csv"), (CCM, "ccm.csv")):
            parties = {r["country"] for r in store.read.parties(treaty, valid_at=D(day))}
            assert parties == bound_in_table(name, day), (treaty, day)


def test_signatories_not_yet_bound_are_the_untc_s(loaded: tuple[Store, int]) -> None:
    store, _ = loaded

    def signatories(treaty: str, day: str) -> list[str]:
        return [r["country"] for r in store.read.signatories(treaty, valid_at=D(day))]

    assert signatories(OTTAWA, "2026-02-03") == []
    assert signatories(OTTAWA, "2024-11-20") == ["MHL"]
    assert signatories(CCM, "2026-02-03") == sorted(
        ["AGO", "CAF", "CYP", "COD", "DJI", "HTI", "IDN", "JAM", "KEN", "LBR", "TZA", "UGA"]
    )


def test_standing_of_the_states_the_story_names_at_the_dates_that_matter(
    loaded: tuple[Store, int],
) -> None:
    store, _ = loaded

    def standing(treaty: str, country: str, day: str) -> tuple[Any, ...]:
        s = store.read.standing(treaty, country, valid_at=D(day))
        return (s["status"], s["since"], s["withdrawalOn"])

    ukraine = [standing(OTTAWA, "UKR", day)[0] for day in DATES]
    assert ukraine == ["SIGNATORY", "SIGNATORY", "PARTY", "PARTY", "PARTY"]
    assert standing(OTTAWA, "USA", "2026-02-03") == ("NON_PARTY", None, None)
    assert standing(OTTAWA, "RUS", "2026-02-03") == ("NON_PARTY", None, None)
    assert standing(OTTAWA, "POL", "2026-02-03") == (
        "WITHDRAWAL_NOTIFIED",
        D("2013-06-01"),
        D("2026-02-20"),
    )
    assert standing(OTTAWA, "FIN", "2026-02-03") == ("WITHDRAWN", None, D("2026-01-10"))
    for state in ("EST", "LVA", "LTU"):
        assert standing(OTTAWA, state, "2026-02-03") == ("WITHDRAWN", None, D("2025-12-27"))
        assert standing(OTTAWA, state, "2025-07-01")[0] == "WITHDRAWAL_NOTIFIED"
    assert standing(CCM, "LTU", "2024-11-20") == (
        "WITHDRAWAL_NOTIFIED",
        D("2011-09-01"),
        D("2025-03-06"),
    )
    assert standing(CCM, "LTU", "2026-02-03") == ("WITHDRAWN", None, D("2025-03-06"))
    assert standing(CCM, "VUT", "2026-02-03") == ("NON_PARTY", None, None)
    assert standing(CCM, "UKR", "2026-02-03") == ("NON_PARTY", None, None)
    assert standing(OTTAWA, "SSD", "2011-07-09")[:2] == ("PARTY", D("2011-07-09"))


@pytest.mark.anyio
async def test_ukraine_s_decree_and_law_are_reported_national_acts_that_leave_it_a_party(
    loaded: tuple[Store, int],
) -> None:
    store, seeded = loaded
    data = await ask(
        store,
        """{
          decree: decision(id: "ukr-2025-06-29-decree-withdraw-ottawa") {
            action certainty decidedOn { edtf } sources { publisher url } }
          law: decision(id: "ukr-2025-07-15-law-suspend-ottawa") {
            action certainty sources { url } }
          treaty(id: "ottawa-convention") {
            now: standing(country: "UKR", validAt: "2026-02-03") { status partySince }
            count: partyCount(validAt: "2024-11-20")
            seedOnly: partyCount(validAt: "2024-11-20", asOf: SEEDED)
          }
          complianceFlags(country: "UKR") { decisionId act reason }
        }""".replace("SEEDED", str(seeded)),
    )
    assert data["decree"]["action"] == "ANNOUNCE_WITHDRAWAL"
    assert data["decree"]["certainty"] == "REPORTED"
    assert data["decree"]["decidedOn"] == {"edtf": "2025-06-29"}
    assert "uanews.net" in data["decree"]["sources"][0]["url"]
    assert (data["law"]["action"], data["law"]["certainty"]) == ("SUSPEND", "REPORTED")
    assert {s["url"].split("/")[2] for s in data["law"]["sources"]} == {
        "babel.ua",
        "tass.com",
        "treaties.un.org",
    }
    assert data["treaty"] == {
        "now": {"status": "PARTY", "partySince": "2006-06-01"},
        "count": 164,
        "seedOnly": 1,
    }
    assert data["complianceFlags"] == [
        {
            "decisionId": "usa-2024-11-20-apl-ukraine",
            "act": "ACQUIRE",
            "reason": "Ukraine has been a party to the Mine Ban Treaty since 1 June 2006; "
            "the treaty forbids it to acquire antipersonnel landmines",
        }
    ]


BUNDLED_EXAMPLE = re.compile(r"```graphql bundled\n(.*?)```\s*(?:\n[^`]*?)?```json\n(.*?)```", re.S)
PAGES = [ROOT / "docs" / "model.md", *sorted((ROOT / "docs" / "projections").glob("*.md"))]


@pytest.mark.anyio
async def test_every_bundled_example_in_the_docs_gives_the_documented_answer(
    loaded: tuple[Store, int],
) -> None:
    store, _ = loaded
    seen = 0
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        found = BUNDLED_EXAMPLE.findall(text)
        assert len(found) == text.count("```graphql bundled"), f"{page.name}: an answer is missing"
        for query, answer in found:
            assert {"data": await ask(store, query)} == json.loads(answer), f"{page.name}:\n{query}"
            seen += 1
    assert seen >= 2


def test_a_rebuild_of_the_bundled_record_gives_the_same_standing_and_flags(
    loaded: tuple[Store, int],
) -> None:
    store, _ = loaded
    before = store.projector.digests()
    store.projector.rebuild()
    assert store.projector.digests() == before
