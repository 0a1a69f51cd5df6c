"""Hostile strings imported into the record come out escaped in every HTML and JSON output."""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markupsafe import escape

from api.importing.commands import import_lines
from api.text.htmlsafe import BIDI_CONTROLS, html_safe_json
from projections.service import Store
from tests.embed_support import BASE, Client

pytestmark = pytest.mark.reliability

EXAMPLES = 25  # per backend: each one imports, then reads four outputs
FRAGMENTS = [
    "<script>alert(1)</script>",
    "</script><script>alert(2)//",
    "<img src=x onerror=alert(3)>",
    "<svg/onload=alert(4)>",
    "javascript:alert(5)",
    "data:text/html;base64,PHNjcmlwdD4=",
    '"><a href="javascript:alert(6)">',
    "' onmouseover='alert(7)",
    "&lt;script&gt;",
    "&amp;&#x3C;script&#x3E;",
    "<!--",
    "]]>",
    "\u202e",  # right-to-left override
    "\u202d",
    "\u2066",
    "\u2067",
    "\u2069",
    "\u200f",
    "\u2028",
    "abc",
    "Україна",
    "עברית",
]
PLAIN = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp", "Zs")), max_size=4
)
HOSTILE = (
    st.lists(st.one_of(st.sampled_from(FRAGMENTS), PLAIN), min_size=1, max_size=6)
    .map(lambda parts: "x" + "".join(parts) + "x")  # never blank, nothing stripped away
    .filter(lambda s: len(s) <= 500)
)
NUMBERS = itertools.count()
DECISION_QUERY = """
query D($id: ID!) {
  decision(id: $id) {
    headline summary scope
    sources { publisher title url quote }
    statements { quote by { name } sources { title url } }
  }
}"""


class _Walker(HTMLParser):
    """Collects hrefs, script blocks, and text with bidi controls outside a <bdi>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.hrefs: list[str] = []
        self.scripts = 0
        self.unisolated: list[str] = []
        self.title_text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.scripts += tag == "script"
        self.hrefs += [v or "" for k, v in attrs if k == "href"]
        assert not [k for k, _ in attrs if k.startswith("on")], (tag, attrs)
        if tag not in ("meta", "link", "img", "br", "input"):
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.stack:
            while self.stack.pop() != tag:
                pass

    def handle_data(self, data: str) -> None:
        if BIDI_CONTROLS.search(data) and "bdi" not in self.stack:
            self.unisolated.append(data)
        if self.stack and self.stack[-1] == "title":
            self.title_text.append(data)


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _record(store: Store, n: int, text: dict[str, str]) -> tuple[str, str]:
    weapon, decision = f"hostile-weapon-{n}", f"hostile-{n}"
    url = "https://example.org/" + quote(text["url"], safe="<>\"'&:;/=()")
    source = {"publisher": text["publisher"], "title": text["title"], "url": url}
    source |= {"quote": text["quote"]}
    lines = [
        {
            "op": "recordWeapon",
            "input": {
                "id": weapon,
                "name": text["name"],
                "designation": text["designation"],
                "category": "anti-personnel-mine",
            },
        },
        {
            "op": "recordDecision",
            "input": {
                "id": decision,
                "actor": "FRA",
                "action": "DELIVER",
                "recipient": "UKR",
                "decidedOn": "2024-03-01",
                "headline": text["headline"],
                "summary": text["summary"],
                "scope": text["scope"],
                "weapons": [{"system": weapon}],
                "sources": [source],
            },
        },
        {
            "op": "recordStatement",
            "input": {
                "id": f"hostile-statement-{n}",
                "by": {"name": text["speaker"], "kind": "OFFICIAL"},
                "about": decision,
                "stance": "CONDEMNS",
                "quote": text["quote"],
                "sources": [source],
            },
        },
    ]
    report = import_lines(store, [json.dumps(line) for line in lines])
    assert not report.errors, report.errors
    return weapon, decision


def _check_html(html: str) -> None:
    walker = _Walker()
    walker.feed(html)
    assert walker.scripts == 1  # the page's own script, and no other
    assert html.lower().count("<script") == 1
    for href in walker.hrefs:
        assert href.startswith(("#", "?", "http://", "https://")), href
    assert walker.unisolated == []
    assert not BIDI_CONTROLS.search("".join(walker.title_text))


def _check_json(body: bytes) -> Any:
    text = body.decode("utf-8")
    assert "<" not in text and ">" not in text  # HTML-significant characters travel escaped
    return json.loads(text)


FIELDS = ["headline", "summary", "scope", "publisher", "title", "url", "quote"]
FIELDS += ["name", "designation", "speaker"]


@pytest.mark.slow
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=st.fixed_dictionaries({f: HOSTILE for f in FIELDS}))
def test_hostile_strings_are_escaped_or_isolated_in_every_html_and_json_output(
    store: Store, text: dict[str, str]
) -> None:
    text["url"] = re.sub(r"\s", "", text["url"]) or "x"
    weapon, decision = _record(store, next(NUMBERS), text)
    client = Client(store)
    embed = client.get(f"/embed/timeline?system={weapon}")
    assert embed.status_code == 200
    _check_html(embed.text)
    assert str(escape(text["headline"])) in embed.text  # shown, as text

    slides = _check_json(client.get(f"/timelinejs.json?system={weapon}").content)
    [slide] = slides["events"]
    assert slide["unique_id"] == decision
    assert not [v for v in _strings(slides) if "<script" in v.lower() or "<img" in v.lower()]
    walker = _Walker()
    walker.feed(slide["text"]["text"])  # TimelineJS renders this as HTML
    assert walker.scripts == 0
    assert all(h.startswith(("http://", "https://")) for h in walker.hrefs), walker.hrefs

    embed_url = f"{BASE}/embed/timeline?system={weapon}"
    oembed = _check_json(client.get("/oembed?" + urlencode({"url": embed_url})).content)
    assert "<script" not in oembed["html"].lower() and oembed["html"].startswith("<iframe ")

    # GraphQL answers the record exactly as stored, in JSON whose markup characters are escaped.
    got = _check_json(_graphql(client, decision))["data"]["decision"]
    assert (got["headline"], got["summary"], got["scope"]) == (
        text["headline"],
        text["summary"],
        text["scope"],
    )
    assert got["sources"][0]["title"] == text["title"]
    assert got["statements"][0]["quote"] == text["quote"]
    assert got["statements"][0]["by"]["name"] == text["speaker"]


def _graphql(client: Client, decision: str) -> bytes:
    async def run() -> bytes:
        transport = httpx.ASGITransport(app=client.app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as http:
            body = {"query": DECISION_QUERY, "variables": {"id": decision}}
            response = await http.post("/graphql", json=body)
            assert response.status_code == 200, response.text
            return response.content

    return asyncio.run(run())


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "//evil.example/",
        "https://evil.example/ onmouseover=alert(1)",
        "ftp://example.org/file",
    ],
)
def test_a_source_url_that_is_not_a_web_address_is_refused_at_import_naming_the_field(
    store: Store, url: str
) -> None:
    line = {
        "op": "recordTreaty",
        "input": {"id": "t", "name": "T", "sources": [{"publisher": "P", "url": url}]},
    }
    report = import_lines(store, [json.dumps(line)])
    assert report.errors and "sources" in str(report.errors[0]) and "url" in str(report.errors[0])
    assert store.head() == 0


def test_html_safe_json_keeps_the_meaning_and_drops_every_angle_bracket() -> None:
    value = {"a": "<script>&</script>\u2028", "b": ["</x>"]}
    encoded = html_safe_json(json.dumps(value))
    assert "<" not in encoded and ">" not in encoded and "&" not in encoded
    assert json.loads(encoded) == value
