"""Compliance flags name the bound state and the act: every act x standing x date that matters."""
# ruff: noqa: RUF001 -- Ukrainian text uses its own letters

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest

from api.http.app import create_app
from api.importing.commands import import_lines
from projections.service import Store
from tests.conftest import SOURCE, line, seed_lines
from tests.graphql_support import serving

OTTAWA = "ottawa-convention"
APL = [{"category": "antipersonnel-landmine"}]
DATES = ["1999-03-01", "2000-01-01", "2006-06-01", "2024-11-20", "2026-02-03"]
BOUND = {"PARTY", "WITHDRAWAL_NOTIFIED", "OBLIGATIONS_SUSPENDED"}

# Each state's depositary acts (the Mine Ban Treaty's real ones, from the UNTC status of
# 2026-02-03, except NOR's suspension, which is made up to reach that status) and its standing
# on each date above.
ACTS: dict[str, list[tuple[str, dict[str, str]]]] = {
    "UKR": [],  # the seed's signature of 1999-02-24 and ratification in force on 2006-06-01
    "CAN": [("RATIFY", {"decidedOn": "1997-12-03", "effectiveOn": "1999-03-01"})],
    "POL": [
        ("SIGN", {"decidedOn": "1997-12-04"}),
        ("RATIFY", {"decidedOn": "2012-12-27", "effectiveOn": "2013-06-01"}),
        ("NOTIFY_WITHDRAWAL", {"decidedOn": "2025-08-20", "effectiveOn": "2026-02-20"}),
    ],
    "FIN": [
        ("ACCEDE", {"decidedOn": "2012-01-09", "effectiveOn": "2012-07-01"}),
        ("NOTIFY_WITHDRAWAL", {"decidedOn": "2025-07-10", "effectiveOn": "2026-01-10"}),
    ],
    "NOR": [
        ("RATIFY", {"decidedOn": "1998-07-09", "effectiveOn": "1999-03-01"}),
        ("SUSPEND_OBLIGATIONS", {"decidedOn": "2024-01-01"}),
    ],
    "USA": [],
}
STANDING = {
    "UKR": ["SIGNATORY", "SIGNATORY", "PARTY", "PARTY", "PARTY"],
    "CAN": ["PARTY", "PARTY", "PARTY", "PARTY", "PARTY"],
    "POL": ["SIGNATORY", "SIGNATORY", "SIGNATORY", "PARTY", "WITHDRAWAL_NOTIFIED"],
    "FIN": ["NON_PARTY", "NON_PARTY", "NON_PARTY", "PARTY", "WITHDRAWN"],
    "NOR": ["PARTY", "PARTY", "PARTY", "OBLIGATIONS_SUSPENDED", "OBLIGATIONS_SUSPENDED"],
    "USA": ["NON_PARTY"] * 5,
}
# How each act binds a state X: (decision fields, the act a flag on X names). The other side
# of each decision is Russia, which is no party on any of these dates.
FORMS: dict[str, tuple[dict[str, Any], str]] = {
    "authorized-to-use": ({"actor": "RUS", "action": "AUTHORIZE_USE", "recipient": "X"}, "USE"),
    "reported-use": ({"actor": "X", "action": "FIRST_USE_REPORTED"}, "USE"),
    "pledged-to": ({"actor": "RUS", "action": "PLEDGE", "recipient": "X"}, "ACQUIRE"),
    "authorized-to-receive": (
        {"actor": "RUS", "action": "AUTHORIZE_TRANSFER", "recipient": "X"},
        "ACQUIRE",
    ),
    "delivered-to": ({"actor": "RUS", "action": "DELIVER", "recipient": "X"}, "ACQUIRE"),
    "delivers": ({"actor": "X", "action": "DELIVER", "recipient": "RUS"}, "TRANSFER"),
}
CASES = [
    (form, country, day, STANDING[country][i])
    for form in FORMS
    for country in STANDING
    for i, day in enumerate(DATES)
]


def treaty_acts(country: str) -> list[str]:
    return [
        line(
            "recordDecision",
            id=f"{country.lower()}-{action.lower().replace('_', '-')}",
            actor=country,
            action=action,
            treaty=OTTAWA,
            headline=f"{country} {action}",
            sources=SOURCE,
            **dates,
        )
        for action, dates in ACTS[country]
    ]


def decision_id(form: str, country: str, day: str) -> str:
    return f"{form}-{country.lower()}-{day}"


def decisions() -> list[str]:
    out = []
    for form, country, day, _ in CASES:
        fields = {k: country if v == "X" else v for k, v in FORMS[form][0].items()}
        out.append(
            line(
                "recordDecision",
                id=decision_id(form, country, day),
                decidedOn=day,
                weapons=APL,
                headline=f"{form} {country} {day}",
                sources=SOURCE,
                **fields,
            )
        )
    return out


@pytest.fixture
def loaded(store: Store) -> tuple[Store, int]:
    """The scenario with every act but Finland's notification; the position before it."""
    assert import_lines(store, seed_lines()[:5]).errors == []
    acts = [a for c in ACTS for a in treaty_acts(c) if "fin-notify-withdrawal" not in a]
    assert import_lines(store, acts + decisions()).errors == []
    before = store.head()
    assert (
        import_lines(store, [a for a in treaty_acts("FIN") if "fin-notify-withdrawal" in a]).errors
        == []
    )
    return store, before


def test_each_act_by_each_standing_on_each_date_is_flagged_exactly_when_the_state_is_bound(
    loaded: tuple[Store, int],
) -> None:
    store, _ = loaded
    flags = {f["decisionId"]: f for f in store.read.compliance_flags()}
    assert len(flags) == len(store.read.compliance_flags())  # one flag per decision at most
    for form, country, day, status in CASES:
        flag = flags.get(decision_id(form, country, day))
        assert (status in BOUND) == (flag is not None), (form, country, day, status)
        if flag is not None:
            assert (flag["country"], flag["act"], flag["status"]) == (
                country,
                FORMS[form][1],
                status,
            ), (form, day)
            assert flag["treaty"] == OTTAWA
            assert flag["weaponCategory"] == "antipersonnel-landmine"
        standing = store.read.standing(OTTAWA, country, valid_at=dt_of(day))
        assert standing["status"] == status, (country, day)


def test_a_withdrawal_recorded_later_removes_flags_from_its_effect_on_and_as_of_keeps_them(
    loaded: tuple[Store, int],
) -> None:
    store, before = loaded
    after = {f["decisionId"] for f in store.read.compliance_flags(country="FIN")}
    then = {f["decisionId"] for f in store.read.compliance_flags(country="FIN", as_of=before)}
    gone = {decision_id(form, "FIN", "2026-02-03") for form in FORMS}
    assert then - after == gone
    assert after == {decision_id(form, "FIN", "2024-11-20") for form in FORMS}


@pytest.mark.anyio
async def test_reason_says_who_is_bound_and_what_is_forbidden_in_each_language(
    loaded: tuple[Store, int],
) -> None:
    store, _ = loaded
    query = """{ decision(id: "delivers-pol-2026-02-03") { complianceFlags {
        country act en: reason fr: reason(lang: "fr") uk: reason(lang: "uk") } } }"""
    transport = httpx.ASGITransport(app=create_app(store))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        body = (await client.post("/graphql", json={"query": query})).json()
    [flag] = body["data"]["decision"]["complianceFlags"]
    assert flag == {
        "country": "POL",
        "act": "TRANSFER",
        "en": "Poland has been a party to the Mine Ban Treaty since 1 June 2013 (it notified "
        "its withdrawal on 20 August 2025, to take effect on 20 February 2026); the treaty "
        "forbids it to transfer antipersonnel landmines",
        "fr": "Pologne\u202f: partie au traité «\u00a0Mine Ban Treaty\u00a0» depuis le "
        "1er juin 2013 (retrait notifié le 20 août 2025, effectif le 20 février 2026)\u202f; "
        "ce traité lui interdit de transférer des mines antipersonnel",
        "uk": "Польща є стороною договору «Mine Ban Treaty» з 1 червня 2013\u202fр. (про вихід "
        "повідомлено 20 серпня 2025\u202fр., він набуває чинності 20 лютого 2026\u202fр.); договір "
        "забороняє цій державі передавати протипіхотні міни",
    }


def test_a_reason_in_a_language_not_served_is_refused_naming_lang(
    loaded: tuple[Store, int],
) -> None:
    store, _ = loaded
    query = """{ complianceFlags(country: "POL") { reason(lang: "de") } }"""
    with serving(create_app(store, production=True)) as client:
        body = client.post("/graphql", json={"query": query}).json()
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["message"] == "lang: 'de' is not one of en, fr, uk"


def dt_of(day: str) -> dt.date:
    return dt.date.fromisoformat(day)


@pytest.mark.anyio
async def test_a_reason_names_the_treaty_as_its_recorded_translation_does(
    loaded: tuple[Store, int],
) -> None:
    store, _ = loaded
    before = store.head()
    translation = line(
        "translateRecord",
        id="fr-ottawa",
        kind="TREATY",
        record=OTTAWA,
        lang="fr",
        shortName="Convention d’Ottawa",
        sources=SOURCE,
    )
    assert import_lines(store, [translation]).errors == []
    query = """{
        now: complianceFlags(country: "CAN") { fr: reason(lang: "fr") uk: reason(lang: "uk") }
        then: complianceFlags(country: "CAN", asOf: BEFORE) { fr: reason(lang: "fr") } }"""
    transport = httpx.ASGITransport(app=create_app(store))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        body = await client.post("/graphql", json={"query": query.replace("BEFORE", str(before))})
    data = body.json()["data"]
    assert {f["fr"] for f in data["now"]} == {
        "Canada\u202f: partie au traité «\u00a0Convention d’Ottawa\u00a0» depuis le 1er mars 1999"
        "\u202f; ce traité lui interdit " + verb + " des mines antipersonnel"
        for verb in ("d’employer", "d’acquérir", "de transférer")
    }
    assert all("«Mine Ban Treaty»" in f["uk"] for f in data["now"])  # not translated: original
    assert all("Mine Ban Treaty" in f["fr"] for f in data["then"])
