"""Open-world standing: any state's relation to a treaty on any date, as of any position."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from api.http.app import create_app
from api.importing.commands import import_lines
from projections.service import Store
from tests.conftest import SOURCE, line, seed_lines
from tests.graphql_support import serving

OTTAWA = "ottawa-convention"
STANDING = """
query Standing($treaty: ID!, $country: String!, $day: Date, $asOf: Int) {
  treaty(id: $treaty) {
    standing(country: $country, validAt: $day, asOf: $asOf) {
      country status signedOn partySince withdrawalEffectiveOn
    }
  }
}"""


def act(ident: str, actor: str, action: str, **dates: str) -> str:
    """One treaty act towards the Mine Ban Treaty, as an import line."""
    return line(
        "recordDecision",
        id=ident,
        actor=actor,
        action=action,
        treaty=OTTAWA,
        headline=ident,
        sources=SOURCE,
        **dates,
    )


async def ask(store: Store, query: str, **variables: Any) -> dict[str, Any]:
    transport = httpx.ASGITransport(app=create_app(store))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def standing(store: Store, country: str, day: str, **kw: Any) -> dict[str, Any]:
    body = await ask(store, STANDING, treaty=OTTAWA, country=country, day=day, **kw)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["treaty"]["standing"]
    return result


def status(country: str, name: str, signed: Any = None, since: Any = None, off: Any = None) -> Any:
    return {
        "country": country,
        "status": name,
        "signedOn": signed,
        "partySince": since,
        "withdrawalEffectiveOn": off,
    }


@pytest.mark.anyio
async def test_ukraine_is_a_signatory_in_2000_and_a_party_from_its_entry_into_force(
    store: Store,
) -> None:
    import_lines(store, seed_lines())
    signed = "1999-02-24"
    assert await standing(store, "UKR", "1999-02-23") == status("UKR", "NON_PARTY")
    assert await standing(store, "UKR", "2000-01-01") == status("UKR", "SIGNATORY", signed)
    # Ratified on 2005-12-27, bound from 2006-06-01: a signatory until then.
    assert await standing(store, "UKR", "2006-05-31") == status("UKR", "SIGNATORY", signed)
    party = status("UKR", "PARTY", signed, "2006-06-01")
    assert await standing(store, "UKR", "2006-06-01") == party
    assert await standing(store, "UKR", "2024-11-20") == party


@pytest.mark.anyio
async def test_a_state_with_nothing_recorded_or_only_an_announcement_is_no_party(
    store: Store,
) -> None:
    import_lines(store, seed_lines())
    import_lines(store, [act("fin-announce", "FIN", "ANNOUNCE_WITHDRAWAL", announcedOn="2025")])
    assert await standing(store, "USA", "2024-11-20") == status("USA", "NON_PARTY")
    assert await standing(store, "FIN", "2026-01-01") == status("FIN", "NON_PARTY")


@pytest.mark.anyio
async def test_a_withdrawal_is_notified_then_effective_and_as_of_shows_the_record_before(
    store: Store,
) -> None:
    import_lines(store, seed_lines()[:2])
    import_lines(
        store,
        [
            act("fin-accede", "FIN", "ACCEDE", decidedOn="2012-01-09", effectiveOn="2012-07-01"),
            act("fin-announce", "FIN", "ANNOUNCE_WITHDRAWAL", announcedOn="2025-04-01"),
        ],
    )
    before = store.head()
    import_lines(
        store,
        [
            act(
                "fin-notify",
                "FIN",
                "NOTIFY_WITHDRAWAL",
                decidedOn="2025-07-10",
                effectiveOn="2026-01-10",
            )
        ],
    )
    since = "2012-07-01"
    # An announcement is a national act: the state is still a plain party.
    assert await standing(store, "FIN", "2025-05-01") == status("FIN", "PARTY", None, since)
    assert await standing(store, "FIN", "2025-07-10") == status(
        "FIN", "WITHDRAWAL_NOTIFIED", None, since, "2026-01-10"
    )
    assert await standing(store, "FIN", "2026-01-10") == status(
        "FIN", "WITHDRAWN", None, None, "2026-01-10"
    )
    assert await standing(store, "FIN", "2026-02-03", asOf=before) == status(
        "FIN", "PARTY", None, since
    )


@pytest.mark.anyio
async def test_obligations_suspended_at_the_depositary_keep_a_state_bound(store: Store) -> None:
    import_lines(store, seed_lines())
    import_lines(store, [act("ukr-suspend", "UKR", "SUSPEND_OBLIGATIONS", decidedOn="2030-01-01")])
    body = await ask(
        store,
        """{ treaty(id: "ottawa-convention") {
               s: standing(country: "UKR", validAt: "2030-06-01") { status partySince }
               partyCount(validAt: "2030-06-01") } }""",
    )
    assert body["data"]["treaty"] == {
        "s": {"status": "OBLIGATIONS_SUSPENDED", "partySince": "2006-06-01"},
        "partyCount": 1,
    }


@pytest.mark.anyio
async def test_signatories_lists_states_that_signed_and_are_not_yet_bound(store: Store) -> None:
    import_lines(store, seed_lines())
    import_lines(store, [act("mhl-sign", "MHL", "SIGN", decidedOn="1997-12-04")])
    query = """{ treaty(id: "ottawa-convention") {
        y2000: signatories(validAt: "2000-01-01") { country status signedOn }
        y2024: signatories(validAt: "2024-11-20") { country }
        before: signatories(validAt: "2000-01-01", asOf: 3) { country }
        parties2000: partyCount(validAt: "2000-01-01") } }"""
    body = await ask(store, query)
    assert body["data"]["treaty"] == {
        "y2000": [
            {"country": "MHL", "status": "SIGNATORY", "signedOn": "1997-12-04"},
            {"country": "UKR", "status": "SIGNATORY", "signedOn": "1999-02-24"},
        ],
        "y2024": [{"country": "MHL"}],
        "before": [],
        "parties2000": 0,
    }


@pytest.mark.parametrize("country", ["XXX", "ukr", "UA", "", "U" * 10_000])
def test_a_country_that_is_no_iso_alpha_3_code_is_refused_naming_the_argument(
    store: Store, country: str
) -> None:
    import_lines(store, seed_lines()[:1])
    with serving(create_app(store, production=True)) as client:
        response = client.post(
            "/graphql",
            json={"query": STANDING, "variables": {"treaty": OTTAWA, "country": country}},
        )
    body = response.json()
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["message"].startswith("country:")
    assert len(error["message"]) < 200
    assert body["data"] == {"treaty": None}
