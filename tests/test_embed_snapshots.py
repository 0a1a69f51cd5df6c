"""The embed page's HTML, byte for byte, for the bundled timelines and a long generated one.

Rendering may be made faster, never different: each page below is compared with the HTML
kept in tests/fixtures/embed_pages/. A change meant to alter the page rewrites those files
with `POLICY_TIMELINE_TEST_UPDATE_PAGES=1` (review the diff before committing it)."""

from __future__ import annotations

import os
import re
from pathlib import Path

from api.cli.main import BUNDLED
from api.importing.commands import import_file, import_lines
from api.text.catalogs import tr
from api.text.display import display_day
from bench.embed import timeline_lines
from projections.service import Store
from tests.conftest import line
from tests.embed_support import BROWSER_EXTRA, Client

PAGES = Path(__file__).resolve().parent / "fixtures" / "embed_pages"
UPDATE_ENV = "POLICY_TIMELINE_TEST_UPDATE_PAGES"
LONG = "CHL"  # 150 generated entries: two pages, reversals on and off the page
CHANGED = ["usa-2024-11-17-atacms-strikes-russia", "deu-05"]  # a correction, a retraction
RECORDED_DAY = "{recorded day}"
# Sources of every shape: archived, dated, untitled, without an address, with markup in them.
SOURCES = line(
    "recordDecision",
    id="nzl-sources",
    actor="NZL",
    action="PLEDGE",
    recipient="UKR",
    decidedOn="2023-04~",
    headline="A <b>pledge</b> & its \u202esources",
    sources=[
        {
            "publisher": "Gazette & Co",
            "title": "On <i>arms</i>",
            "url": "https://gazette.test/a?b=1&c=2",
            "archiveUrl": "https://archive.test/gazette",
            "publishedOn": "2023-04-02",
        },
        {"publisher": "Radio", "title": "Evening news", "archiveUrl": "https://archive.test/r"},
        {"publisher": "Ministry", "title": "Statement", "publishedOn": "2023"},
    ],
)
VIEWS = {
    "ukr-en": "country=UKR",
    "ukr-fr": "country=UKR&lang=fr",
    "ukr-uk": "country=UKR&lang=uk",
    "usa-en": "country=USA",
    "usa-fr": "country=USA&lang=fr&theme=dark",
    "usa-uk": "country=USA&lang=uk",
    "deu-en": "country=DEU",
    "mines-fr": "category=antipersonnel-landmine&lang=fr",
    "atacms-uk": "system=atacms&lang=uk",
    "sources-fr": "country=NZL&lang=fr",
    "long-en": f"country={LONG}",
    "long-uk-dark": f"country={LONG}&lang=uk&theme=dark&first=20",
}


def _stored(store: Store) -> None:
    for path in BUNDLED:
        assert not import_file(store, path).errors, path
    extra = [*BROWSER_EXTRA, SOURCES, *timeline_lines({LONG: 150}, seed=1)]
    assert not import_lines(store, extra).errors


def _pinned_days(store: Store, html: str, lang: str) -> str:
    """The day a correction or retraction was recorded is this run's: a placeholder instead
    (in those sentences only, so that a date elsewhere on the page stays compared)."""
    for steps in store.read.history(CHANGED).values():
        for step in steps:
            if step["eventType"] != "Recorded":
                day = display_day(str(step["recordedAt"]), lang)
                for message in ("Corrected on %(date)s", "Retracted on %(date)s"):
                    said = tr(lang, message)
                    html = html.replace(said % {"date": day}, said % {"date": RECORDED_DAY})
    return html


def test_embed_pages_are_byte_identical_to_the_kept_html(store: Store) -> None:
    _stored(store)
    client = Client(store)
    pages: dict[str, str] = {}
    for name, query in VIEWS.items():
        response = client.get(f"/embed/timeline?{query}")
        assert response.status_code == 200, name
        lang = re.search(r'<html lang="([a-z]+)"', response.text)
        assert lang is not None
        pages[name] = _pinned_days(store, response.text, lang.group(1))
    # The long timeline's second page (by its own link), and the first one pinned before the
    # correction in French.
    later = re.search(r'<a rel="next" href="\?([^"]+)"', pages["long-en"])
    assert later is not None
    pages["long-2-fr"] = client.get(
        f"/embed/timeline?{later.group(1).replace('&amp;', '&')}&lang=fr"
    ).text
    correction = store.read.history(["usa-2024-11-17-atacms-strikes-russia"])
    before = [
        s["position"] for s in next(iter(correction.values())) if s["eventType"] != "Recorded"
    ]
    pages["usa-pinned-fr"] = client.get(
        f"/embed/timeline?country=USA&lang=fr&asOf={before[0] - 1}"
    ).text
    if os.environ.get(UPDATE_ENV) == "1":
        PAGES.mkdir(parents=True, exist_ok=True)
        for name, html in pages.items():
            (PAGES / f"{name}.html").write_text(html, encoding="utf-8")
    differ = [
        name
        for name, html in pages.items()
        if (PAGES / f"{name}.html").read_text(encoding="utf-8") != html
    ]
    assert not differ, f"pages differ from tests/fixtures/embed_pages/: {differ}"
