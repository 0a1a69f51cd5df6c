"""Every example on the projection pages (docs/projections/) answers what the page shows."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, is_typeddict

import httpx
import pytest

from api.http.app import create_app
from api.importing.commands import import_lines
from projections.readmodels import documents
from projections.service import Store
from tests.conftest import ROOT, seed_lines

PAGES = ROOT / "docs" / "projections"
NAMES = ["timelines", "decisions", "membership", "compliance", "records"]
EXAMPLE = re.compile(r"```graphql\n(.*?)```\s*(?:\n[^`]*?)?```json\n(.*?)```", re.S)


def examples(page: Path) -> list[tuple[str, Any]]:
    """Each GraphQL block of a page with the JSON block that follows it."""
    text = page.read_text(encoding="utf-8")
    found = [(q, json.loads(a)) for q, a in EXAMPLE.findall(text)]
    # "```graphql bundled" blocks need the bundled membership: tests/test_membership_data.py
    assert len(found) == text.count("```graphql\n"), f"{page.name}: a query has no answer block"
    return found


def test_there_is_one_page_per_projection_and_the_index_links_them_all() -> None:
    assert sorted(p.stem for p in PAGES.glob("*.md")) == sorted(NAMES)
    index = (ROOT / "docs" / "projections.md").read_text(encoding="utf-8")
    for name in NAMES:
        assert f"(projections/{name}.md)" in index
        assert examples(PAGES / f"{name}.md"), f"{name}.md has no example"


@pytest.mark.anyio
async def test_every_example_query_on_the_projection_pages_gives_the_documented_answer(
    store: Store,
) -> None:
    import_lines(store, seed_lines())
    transport = httpx.ASGITransport(app=create_app(store))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        for name in NAMES:
            for query, answer in examples(PAGES / f"{name}.md"):
                response = await client.post("/graphql", json={"query": query})
                assert response.status_code == 200, response.text
                assert response.json() == answer, f"{name}.md:\n{query}"


def test_the_documents_table_names_every_read_model_document() -> None:
    index = (ROOT / "docs" / "projections.md").read_text(encoding="utf-8")
    section = index.split("## Documents", 1)[1].split("\n## ", 1)[0]
    named = set(re.findall(r"`([A-Z][A-Za-z]+)`", section))
    declared = {
        name
        for name, value in vars(documents).items()
        if is_typeddict(value) and not name.startswith("_")
    }
    assert declared <= named, f"not in docs/projections.md: {sorted(declared - named)}"
    assert {n for n in named if n.endswith(("Doc", "Entry", "Version", "Step"))} <= declared
