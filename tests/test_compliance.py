"""Compliance flags: transfers and uses that a treaty party's obligations forbid."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import httpx
import pytest

from api.graphql.reasons import flag_reason
from api.http.app import create_app
from api.importing.commands import import_lines
from projections.service import Store
from tests.conftest import ROOT, SOURCE, line, seed_lines

D = dt.date
APL = "usa-2024-11-20-apl-ukraine"
CCM = "cluster-munition-convention"
DOC = ROOT / "docs" / "projections.md"


def decision(ident: str, actor: str, action: str, date: str, **fields: Any) -> str:
    """One decision as an import line."""
    return line(
        "recordDecision",
        id=ident,
        actor=actor,
        action=action,
        decidedOn=date,
        headline=ident,
        sources=SOURCE,
        **fields,
    )


def cluster_transfer(ident: str = "usa-dpicm", recipient: str = "UKR") -> str:
    return decision(
        ident,
        "USA",
        "DELIVER",
        "2023-07-07",
        recipient=recipient,
        weapons=[{"category": "cluster-munition"}],
    )


def flags(store: Store, **kw: Any) -> list[tuple[str, str, str, str]]:
    rows = store.read.compliance_flags(**kw)
    return [(f["decisionId"], f["country"], f["treaty"], f["weaponCategory"]) for f in rows]


def reason(store: Store, flag: dict[str, Any], lang: str = "en") -> str:
    [treaty] = store.read.records("treaty", ids=[flag["treaty"]])
    return flag_reason(flag, treaty, lang)


def test_the_apl_transfer_to_ukraine_is_flagged_with_a_plain_reason(store: Store) -> None:
    import_lines(store, seed_lines())
    [flag] = store.read.compliance_flags(country="UKR")
    assert {k: flag[k] for k in ("decisionId", "country", "treaty", "weaponCategory")} == {
        "decisionId": APL,
        "country": "UKR",
        "treaty": "ottawa-convention",
        "weaponCategory": "antipersonnel-landmine",
    }
    assert (flag["act"], flag["status"], flag["since"]) == ("ACQUIRE", "PARTY", D(2006, 6, 1))
    assert reason(store, flag) == (
        "Ukraine has been a party to the Mine Ban Treaty since 1 June 2006; "
        "the treaty forbids it to acquire antipersonnel landmines"
    )
    assert flags(store, decision=APL) == flags(store)
    # ATACMS are prohibited by no recorded treaty; the US is party to none.
    assert flags(store, decision="usa-2024-11-17-atacms-strikes-russia") == []
    assert flags(store, country="USA") == []


def test_a_transfer_to_a_state_that_is_no_party_carries_no_flag(store: Store) -> None:
    import_lines(store, seed_lines())
    import_lines(store, [cluster_transfer()])
    assert flags(store, decision="usa-dpicm") == []


def test_a_transfer_before_the_recipient_became_a_party_carries_no_flag(store: Store) -> None:
    import_lines(store, seed_lines()[:5])
    import_lines(
        store,
        [
            decision(
                "early-apl",
                "RUS",
                "DELIVER",
                "2003",
                recipient="UKR",
                weapons=[{"category": "antipersonnel-landmine"}],
            )
        ],
    )
    assert flags(store, decision="early-apl") == []


def test_a_ratification_recorded_later_flags_an_earlier_transfer_only_from_then_on(
    store: Store,
) -> None:
    import_lines(store, seed_lines())
    import_lines(store, [cluster_transfer()])
    before = store.head()
    import_lines(
        store,
        [decision("ukr-ccm", "UKR", "ACCEDE", "2020-01-01", treaty=CCM)],
    )
    ratified = store.head()
    assert flags(store, decision="usa-dpicm") == [("usa-dpicm", "UKR", CCM, "cluster-munition")]
    [flag] = store.read.compliance_flags(decision="usa-dpicm")
    assert reason(store, flag) == (
        "Ukraine has been a party to the CCM since 1 January 2020; "
        "the treaty forbids it to acquire cluster munitions"
    )
    assert flags(store, decision="usa-dpicm", as_of=before) == []
    import_lines(
        store, [line("retractDecision", id="ukr-ccm", reason="no such accession", sources=SOURCE)]
    )
    assert flags(store, decision="usa-dpicm") == []
    assert flags(store, decision="usa-dpicm", as_of=ratified) == [
        ("usa-dpicm", "UKR", CCM, "cluster-munition")
    ]


def test_correcting_or_retracting_the_transfer_moves_or_removes_its_flag(store: Store) -> None:
    import_lines(store, seed_lines())
    flagged = store.head()
    import_lines(
        store,
        [
            line(
                "correctDecision",
                id=APL,
                changes={"weapons": [{"category": "anti-vehicle-landmine"}]},
                reason="they were anti-vehicle mines",
                sources=SOURCE,
            )
        ],
    )
    assert flags(store, decision=APL) == []
    import_lines(
        store,
        [
            line(
                "correctDecision",
                id=APL,
                changes={"weapons": [{"category": "antipersonnel-landmine"}]},
                reason="they were antipersonnel mines after all",
                sources=SOURCE,
            )
        ],
    )
    restored = store.head()
    assert len(flags(store, decision=APL)) == 1
    import_lines(store, [line("retractDecision", id=APL, reason="never decided", sources=SOURCE)])
    assert flags(store, country="UKR") == []
    assert len(flags(store, country="UKR", as_of=flagged)) == 1
    assert len(flags(store, country="UKR", as_of=restored)) == 1


def test_a_use_by_a_party_is_flagged_for_the_actor(store: Store) -> None:
    import_lines(store, seed_lines())
    import_lines(
        store,
        [
            decision(
                "ukr-apl-use",
                "UKR",
                "FIRST_USE_REPORTED",
                "2024-12-02",
                weapons=[{"category": "antipersonnel-landmine"}],
            )
        ],
    )
    assert flags(store, decision="ukr-apl-use") == [
        ("ukr-apl-use", "UKR", "ottawa-convention", "antipersonnel-landmine")
    ]


def test_a_withdrawal_that_took_effect_ends_flags_and_a_notified_one_names_itself(
    store: Store,
) -> None:
    import_lines(store, seed_lines())
    import_lines(
        store,
        [
            decision(
                "ukr-notify", "UKR", "NOTIFY_WITHDRAWAL", "2024-06-01", treaty="ottawa-convention"
            )
        ],
    )
    [flag] = store.read.compliance_flags(decision=APL)
    assert reason(store, flag) == (
        "Ukraine has been a party to the Mine Ban Treaty since 1 June 2006 (it notified its "
        "withdrawal on 1 June 2024); the treaty forbids it to acquire antipersonnel landmines"
    )
    import_lines(
        store,
        [
            decision(
                "ukr-out", "UKR", "WITHDRAWAL_EFFECTIVE", "2024-11-01", treaty="ottawa-convention"
            )
        ],
    )
    assert flags(store, decision=APL) == []


async def ask(store: Store, query: str) -> dict[str, Any]:
    transport = httpx.ASGITransport(app=create_app(store))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.post("/graphql", json={"query": query})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.anyio
async def test_the_graphql_example_in_the_docs_answers_what_the_docs_show(store: Store) -> None:
    import_lines(store, seed_lines())
    text = DOC.read_text(encoding="utf-8")
    query = re.search(r"```graphql\n(.*?)```", text, re.S)
    answer = re.search(r"```json\n(.*?)```", text, re.S)
    assert query is not None and answer is not None
    assert await ask(store, query.group(1)) == json.loads(answer.group(1))
