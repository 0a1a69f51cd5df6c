"""A newsroom's page on another origin, in Chromium: TimelineJS loads our /timelinejs.json."""

from __future__ import annotations

import functools
import json
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from api.http.limits import query_hash
from tests.browser_support import CHROMIUM, CHROMIUM_ARGS, running_server
from tests.node_support import node_prefix

pytestmark = [pytest.mark.browser, pytest.mark.node]  # TimelineJS comes from npm
TIMELINEJS = Path("node_modules") / "@knight-lab" / "timelinejs" / "dist"
QUERY = "{ __typename }"
ARTICLE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Newsroom article</title>
<link rel="stylesheet" href="timelinejs/css/timeline.css">
<script src="timelinejs/js/timeline.js"></script></head>
<body><h1>What Ukraine decided</h1>
<div id="timeline-embed" style="width: 900px; height: 600px"></div>
<script>
window.timeline = new TL.Timeline("timeline-embed", "API/timelinejs.json?country=UKR");
</script></body></html>
"""


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """The newsroom's access log is of no interest to the test."""


@contextmanager
def newsroom(directory: Path) -> Iterator[str]:
    """Serve `directory` as a newsroom's site on its own local origin; yields its base URL."""
    handler = functools.partial(_Quiet, directory=str(directory))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_server(tmp_path_factory.mktemp("cors")) as url:
        yield url


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, api: str) -> Iterator[str]:
    root = tmp_path_factory.mktemp("newsroom")
    shutil.copytree(node_prefix() / TIMELINEJS, root / "timelinejs")
    (root / "article.html").write_text(ARTICLE.replace("API", api), encoding="utf-8")
    with newsroom(root) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    yield context.new_page()
    context.close()


def test_timelinejs_on_a_newsroom_page_renders_our_events(page: Page, api: str, site: str) -> None:
    events = httpx.get(f"{api}/timelinejs.json?country=UKR").json()["events"]
    headlines = [event["text"]["headline"] for event in events]
    assert site.rsplit(":", 1)[1] != api.rsplit(":", 1)[1]  # two origins: two ports
    page.goto(f"{site}/article.html")
    slides = page.locator(".tl-slide-content .tl-headline")
    slides.first.wait_for(state="attached", timeout=30_000)
    shown = slides.all_text_contents()
    assert headlines and all(h in shown for h in headlines), (headlines, shown)
    assert page.locator(".tl-message-full").count() == 0  # TimelineJS's error message


def test_a_newsroom_page_reads_oembed_and_a_persisted_query_but_cannot_write(
    page: Page, api: str, site: str
) -> None:
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": query_hash(QUERY)}}
    httpx.post(f"{api}/graphql", json={"query": QUERY, "extensions": extensions})
    page.goto(f"{site}/article.html")
    answers = page.evaluate(
        """async ([api, extensions]) => {
            const read = async (url, init) => {
                try { return await (await fetch(url, init)).json(); }
                catch (error) { return "blocked: " + error.name; }
            };
            const embed = encodeURIComponent(api + "/embed/timeline?country=UKR");
            const persisted = api + "/graphql?extensions=" + encodeURIComponent(extensions);
            return {
                oembed: await read(api + "/oembed?url=" + embed),
                apollo: await read(persisted, {headers: {
                    "content-type": "application/json",
                    "accept": "application/graphql-response+json,application/json;q=0.9"}}),
                write: await read(api + "/graphql", {method: "POST",
                    headers: {"content-type": "application/json"},
                    body: JSON.stringify({query: "mutation { __typename }"})}),
            };
        }""",
        [api, json.dumps(extensions)],
    )
    assert answers["oembed"]["type"] == "rich"
    assert answers["apollo"] == {"data": {"__typename": "Query"}}  # after a preflight
    assert answers["write"] == "blocked: TypeError"
