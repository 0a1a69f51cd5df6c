"""The README's query, on what `make run` loads, answers the seed story a fact-checker signs."""

from __future__ import annotations

import re

import httpx
import pytest

from api.http.app import create_app
from projections.service import Store
from tests.conftest import ROOT


def readme_query() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(r"```graphql\n(.*?)```", text, re.S)
    assert found is not None
    return found.group(1)


@pytest.mark.anyio
async def test_the_readme_query_answers_the_corrected_seed_story(
    bundled_load: tuple[Store, int],
) -> None:
    store, _ = bundled_load  # what `make run` loads
    transport = httpx.ASGITransport(app=create_app(store))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        body = (await client.post("/graphql", json={"query": readme_query()})).json()
    assert "errors" not in body, body
    nodes = {e["node"]["decisionId"]: e["node"] for e in body["data"]["countryTimeline"]["edges"]}
    atacms = nodes["usa-2024-11-17-atacms-strikes-russia"]
    assert (atacms["certainty"], atacms["date"]["edtf"]) == ("REPORTED", "2024-11-17")
    apl = body["data"]["decision"]
    assert [d["id"] for d in apl["departsFrom"]] == ["usa-2022-06-21-apl-policy"]
    # One source line per source; every reaction has its speaker and only their words.
    assert len(apl["sources"]) == len({tuple(s.items()) for s in apl["sources"]}) == 1
    assert all(s["quote"] and s["by"]["name"] for s in apl["statements"])
    assert {s["by"]["name"] for s in apl["statements"]} == {
        "Lloyd Austin",
        "Handicap International",
        "Elliot de Faramond",
    }


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
