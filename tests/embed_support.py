"""Helpers for the embed tests: a seeded app and plain GET requests through httpx."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import httpx

from api.cli.main import SEED_TRANSLATIONS
from api.http.app import create_app
from api.importing.commands import import_lines
from projections.service import Store
from tests.conftest import seed_lines

BASE = "http://news.test"
UKR_IDS = [
    "ukr-1999-02-24-sign-ottawa",
    "ukr-2005-12-27-ratify-ottawa",
    "usa-2024-11-17-atacms-strikes-russia",
    "usa-2024-11-20-apl-ukraine",
]


class Client:
    """GET requests against the ASGI app, without a network."""

    def __init__(self, store: Store) -> None:
        self.app = create_app(store)

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        async def run() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
                return await client.get(url, **kwargs)

        return asyncio.run(run())


def seeded(store: Store) -> Client:
    """A client for an app whose store holds the seed data."""
    import_lines(store, seed_lines())
    return Client(store)


def article_ids(html: str) -> list[str]:
    """The ids of the <article> entries of an embed page, in order."""
    return re.findall(r'<article id="([^"]+)"', html)


LE_MONDE = {
    "publisher": "Le Monde",
    "title": "Biden authorizes antipersonnel mines for Ukraine, a decision that is sparking "
    "outrage",
    "url": "https://www.lemonde.fr/en/international/article/2024/11/21/biden-authorizes-"
    "antipersonnel-mines-for-ukraine-a-decision-that-is-sparking-outrage_6733668_4.html",
    "publishedOn": "2024-11-21",
    "quote": "Three days earlier, Biden authorized Kyiv to strike Russia in depth with American "
    "long-range missiles, known as ATACMS.",
}


def seed_translation(record: str, lang: str, field: str) -> str:
    """A field of a seed record as data/seed.translations.jsonl translates it."""
    for text in SEED_TRANSLATIONS.read_text(encoding="utf-8").splitlines():
        data = json.loads(text)["input"]
        if (data["record"], data["lang"]) == (record, lang) and field in data:
            return str(data[field])
    raise LookupError(f"no {lang} {field} for {record}")


LONG_WORD = "Antipersonnel" * 12  # one unbreakable word longer than a phone's screen
# Beside what `serve --seed` loads: a correction, a long timeline with a retraction, and a very
# long word, for the browser tests and the screenshots.
LONG_TIMELINE = "DEU"  # forty entries: far more than a screen holds
BROWSER_EXTRA = [
    *[
        json.dumps(
            {
                "op": "recordDecision",
                "input": {
                    "id": f"deu-{i:02d}",
                    "actor": LONG_TIMELINE,
                    "action": "DELIVER",
                    "decidedOn": f"{2000 + i // 4}-{i % 4 * 3 + 1:02d}-01",
                    "headline": f"Entry {i} of a long timeline",
                    "summary": "A summary long enough to take a few lines on a phone. " * 3,
                    "sources": [{"publisher": "Test Gazette"}],
                },
            }
        )
        for i in range(40)
    ],
    json.dumps(
        {
            "op": "retractDecision",
            "input": {
                "id": "deu-05",
                "reason": "recorded twice",
                "sources": [{"publisher": "Test Gazette"}],
            },
        }
    ),
    json.dumps(
        {
            "op": "correctDecision",
            "input": {
                "id": "usa-2024-11-17-atacms-strikes-russia",
                "changes": {"scope": "strikes in depth on Russian territory"},
                "reason": "the scope in the words of the source",
                "sources": [LE_MONDE],
            },
        }
    ),
    json.dumps(
        {
            "op": "recordDecision",
            "input": {
                "id": "fra-long-word",
                "actor": "FRA",
                "action": "DELIVER",
                "decidedOn": "2024-01-02",
                "headline": LONG_WORD,
                "summary": LONG_WORD,
                "sources": [
                    {"publisher": "Test Gazette", "url": "https://gazette.test/" + LONG_WORD}
                ],
            },
        }
    ),
]
