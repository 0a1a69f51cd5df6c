"""The examples in docs/embeds.md give the answers the docs show."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from projections.service import Store
from tests.embed_support import BASE, seeded

DOCS = Path(__file__).resolve().parent.parent / "docs" / "embeds.md"
DOC_HOST = "https://timeline.example.org"
HOST_QUOTED = "https%3A%2F%2Ftimeline.example.org"


def block(name: str, lang: str) -> str:
    found = re.search(rf"<!-- {name} -->\n```{lang}\n(.*?)```", DOCS.read_text(), re.S)
    assert found is not None, name
    return found.group(1)


def request_path(name: str) -> str:
    text = block(name, "http").strip().removeprefix("GET ")
    return text.replace(HOST_QUOTED, "http%3A%2F%2Fnews.test")


def expected(name: str) -> Any:
    return json.loads(block(name, "json").replace(DOC_HOST, BASE))


def test_the_oembed_example_answers_as_documented(store: Store) -> None:
    response = seeded(store).get(request_path("oembed"))
    assert response.json() == expected("oembed-answer")


def test_the_timelinejs_example_answers_as_documented(store: Store) -> None:
    answer = seeded(store).get(request_path("timelinejs")).json()
    documented = expected("timelinejs-answer")
    shown, real = documented["events"][0], answer["events"][0]
    prefix = shown["text"]["text"].removesuffix("…")
    assert real["text"]["text"].startswith(prefix)
    real["text"]["text"] = shown["text"]["text"]
    assert answer == documented


def test_the_iframe_snippet_points_at_a_working_embed(store: Store) -> None:
    snippet = block("parent-page", "html")
    src = re.search(r'<iframe src="([^"]+)"', snippet)
    assert src is not None
    response = seeded(store).get(src.group(1).removeprefix(DOC_HOST))
    assert response.status_code == 200 and "Decisions involving Ukraine" in response.text
