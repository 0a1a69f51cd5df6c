"""The embed in a real Chromium: order, no JavaScript, no third parties, axe, keys, resize."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, sync_playwright

from tests.browser_support import CHROMIUM, CHROMIUM_ARGS, parent_page, running_server
from tests.embed_support import UKR_IDS

pytestmark = pytest.mark.browser
DOCS = Path(__file__).resolve().parent.parent / "docs" / "embeds.md"


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_server(tmp_path_factory.mktemp("browser")) as url:
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


def test_the_ukraine_embed_shows_the_seed_story_in_order(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/embed/timeline?country=UKR")
    assert page.locator("ol.timeline > li > article").evaluate_all("a => a.map(e => e.id)") == (
        UKR_IDS
    )
    times = page.locator("article time").evaluate_all("t => t.map(e => e.dateTime)")
    assert times == ["1999-02-24", "2005-12-27", "2024-11-17", "2024-11-20"]
    assert page.get_by_role("heading", level=1).inner_text() == "Decisions involving Ukraine"


def test_with_javascript_off_everything_is_still_there(browser: Browser, base_url: str) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{base_url}/embed/timeline?country=UKR")
    text = page.locator("main").inner_text()
    for headline in ["Ukraine signs the Mine Ban Treaty", "Biden authorizes antipersonnel mines"]:
        assert headline in text
    assert "United States → Ukraine" in text and "Reverses:" in text
    context.close()


def test_no_request_leaves_the_server(page: Page, base_url: str) -> None:
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    failed: list[str] = []
    page.on("requestfailed", lambda request: failed.append(request.url))
    page.goto(f"{base_url}/embed/timeline?country=UKR&theme=dark&lang=uk")
    page.keyboard.press("j")
    assert requested and all(url.startswith(base_url + "/") for url in requested), requested
    assert failed == []


@pytest.mark.parametrize("theme", ["light", "dark", "contrast"])
def test_axe_finds_no_violations(page: Page, base_url: str, theme: str) -> None:
    page.goto(f"{base_url}/embed/timeline?country=UKR&theme={theme}")
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()
    shots = os.environ.get("POLICY_TIMELINE_SCREENSHOTS")
    if shots:  # regenerate the pictures in the docs: set this to docs/img
        page.set_viewport_size({"width": 640, "height": 900})
        page.screenshot(path=str(Path(shots) / f"embed-{theme}.png"))


def test_keyboard_navigation_moves_focus_between_entries(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/embed/timeline?country=UKR")

    def focused() -> str:
        return str(page.evaluate("document.activeElement.id"))

    page.keyboard.press("j")
    assert focused() == UKR_IDS[0]
    page.keyboard.press("j")
    page.keyboard.press("ArrowDown")
    assert focused() == UKR_IDS[2]
    page.keyboard.press("k")
    assert focused() == UKR_IDS[1]
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    assert focused() == UKR_IDS[0]


def _snippet(name: str) -> str:
    """A fenced block of docs/embeds.md that follows the marker `<!-- name -->`."""
    found = re.search(rf"<!-- {name} -->\n```html\n(.*?)```", DOCS.read_text(), re.S)
    assert found is not None, name
    return found.group(1)


def test_the_docs_parent_page_resizes_the_iframe_by_post_message(page: Page, base_url: str) -> None:
    html = _snippet("parent-page").replace("https://timeline.example.org", base_url)
    messages: list[object] = []
    page.expose_function("recordMessage", lambda data: messages.append(data))
    page.add_init_script(
        "window.addEventListener('message', e => window.recordMessage && "
        "window.recordMessage(e.data))"
    )
    # The article is served from another origin, as on a newsroom's site.
    with parent_page(html) as article:
        page.goto(article)
        page.wait_for_function(
            "document.querySelector('iframe').getBoundingClientRect().height > 600"
        )
        height = page.evaluate("document.querySelector('iframe').getBoundingClientRect().height")
    resizes = [
        m for m in messages if isinstance(m, dict) and m.get("type") == "policy-timeline:resize"
    ]
    assert resizes and resizes[-1]["height"] == round(height)
