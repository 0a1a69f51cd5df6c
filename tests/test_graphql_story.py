"""The founding story through GraphQL: timelines, the reversal, statements, time travel."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from api.http.app import create_app
from api.importing.commands import import_lines
from projections.service import Store
from tests.conftest import SOURCE, line, seed_lines


async def ask(store: Store, query: str, **variables: Any) -> dict[str, Any]:
    transport = httpx.ASGITransport(app=create_app(store))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


TIMELINE = """
query ($first: Int, $after: String, $asOf: Int) {
  countryTimeline(country: "UKR", first: $first, after: $after, asOf: $asOf) {
    edges { cursor node { decisionId role action date { edtf precision earliest display } } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}
"""


@pytest.mark.anyio
async def test_the_ukraine_timeline_pages_through_the_seed_story_in_date_order(
    store: Store,
) -> None:
    import_lines(store, seed_lines())
    first = (await ask(store, TIMELINE, first=2))["data"]["countryTimeline"]
    assert [e["node"]["decisionId"] for e in first["edges"]] == [
        "ukr-1999-02-24-sign-ottawa",
        "ukr-2005-12-27-ratify-ottawa",
    ]
    assert first["pageInfo"]["hasNextPage"] is True
    rest = (await ask(store, TIMELINE, first=2, after=first["pageInfo"]["endCursor"]))["data"]
    nodes = [e["node"] for e in rest["countryTimeline"]["edges"]]
    assert [(n["decisionId"], n["role"], n["date"]["display"]) for n in nodes] == [
        ("usa-2024-11-17-atacms-strikes-russia", "RECIPIENT", "17 November 2024"),
        ("usa-2024-11-20-apl-ukraine", "RECIPIENT", "20 November 2024"),
    ]
    assert rest["countryTimeline"]["pageInfo"] == {
        "hasNextPage": False,
        "hasPreviousPage": True,
        "endCursor": rest["countryTimeline"]["edges"][-1]["cursor"],
    }


DECISION = """
query ($id: ID!, $asOf: Int) {
  decision(id: $id, asOf: $asOf) {
    headline status action actor recipient scope
    officials { name office announced }
    weapons { system category }
    announcedOn { edtf precision }
    date { edtf }
    sources { publisher url quote }
    reverses { id }
    reversedBy { id }
    departsFrom { id }
    departedFromBy { id }
    statements { by { name kind } stance quote }
    history { position eventType reason }
  }
}
"""


@pytest.mark.anyio
async def test_the_apl_decision_departs_from_the_2022_policy_and_draws_a_condemnation(
    store: Store,
) -> None:
    import_lines(store, seed_lines())
    apl = (await ask(store, DECISION, id="usa-2024-11-20-apl-ukraine"))["data"]["decision"]
    # An exception to the policy, not its rescission: no cited source says it was rescinded.
    assert apl["departsFrom"] == [{"id": "usa-2022-06-21-apl-policy"}]
    assert apl["reverses"] == []
    assert apl["weapons"] == [{"system": None, "category": "antipersonnel-landmine"}]
    assert {"name": "Lloyd Austin", "office": "Secretary of Defense", "announced": True} in apl[
        "officials"
    ]
    assert apl["sources"][0]["publisher"] == "Le Monde"
    assert ("Handicap International", "CONDEMNS") in {
        (s["by"]["name"], s["stance"]) for s in apl["statements"]
    }
    policy = (await ask(store, DECISION, id="usa-2022-06-21-apl-policy"))["data"]["decision"]
    assert policy["departedFromBy"] == [{"id": "usa-2024-11-20-apl-ukraine"}]
    assert policy["reversedBy"] == []


@pytest.mark.anyio
async def test_a_correction_shows_now_and_the_old_record_stays_answerable_as_of_before(
    store: Store,
) -> None:
    import_lines(store, seed_lines())
    before = store.head()
    import_lines(
        store,
        [
            line(
                "correctDecision",
                id="usa-2024-11-17-atacms-strikes-russia",
                changes={"decidedOn": "2024-11"},
                reason="the day is disputed",
                sources=SOURCE,
            )
        ],
    )
    now = (await ask(store, DECISION, id="usa-2024-11-17-atacms-strikes-russia"))["data"]
    assert now["decision"]["status"] == "CORRECTED"
    assert now["decision"]["date"] == {"edtf": "2024-11"}
    assert [h["eventType"] for h in now["decision"]["history"]] == ["Recorded", "Corrected"]
    then = await ask(store, DECISION, id="usa-2024-11-17-atacms-strikes-russia", asOf=before)
    assert then["data"]["decision"]["date"] == {"edtf": "2024-11-17"}
    assert then["data"]["decision"]["history"][-1]["eventType"] == "Recorded"
    timeline = (await ask(store, TIMELINE, first=10))["data"]["countryTimeline"]["edges"]
    assert timeline[2]["node"]["date"]["display"] == "November 2024"


@pytest.mark.anyio
async def test_bad_arguments_are_user_errors_that_name_the_argument(store: Store) -> None:
    body = await ask(store, TIMELINE, first=500)
    assert body["errors"][0]["message"] == "first: must be between 0 and 100"
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    body = await ask(store, TIMELINE, after="forged")
    assert body["errors"][0]["message"] == "after: not a cursor returned by this timeline"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
