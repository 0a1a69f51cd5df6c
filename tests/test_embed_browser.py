"""The embed in a real Chromium: order, no JavaScript, no third parties, axe, keys, resize."""
# ruff: noqa: RUF001 -- French and Ukrainian words use their own letters and spaces

from __future__ import annotations

import base64
import itertools
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, sync_playwright

from tests.browser_support import CHROMIUM, CHROMIUM_ARGS, parent_page, running_server
from tests.embed_support import (
    BROWSER_EXTRA,
    LONG_TIMELINE,
    LONG_WORD,
    UKR_IDS,
    seed_translation,
)

pytestmark = pytest.mark.browser
DOCS = Path(__file__).resolve().parent.parent / "docs" / "embeds.md"


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_server(tmp_path_factory.mktemp("browser"), BROWSER_EXTRA, bundled=True) as url:
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


def open_whole(page: Page, url: str) -> None:
    """Open an embed and wait until its script has laid out the entries below the first screen
    (after the first paint): until then, Chromium may skip them (CSS content-visibility) and
    report no text and no size for what they hold."""
    page.goto(url)
    page.wait_for_selector("html.whole", state="attached")


def test_the_ukraine_embed_shows_the_seed_story_in_order(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/embed/timeline?country=UKR")
    assert page.locator("ol.timeline > li > article").evaluate_all("a => a.map(e => e.id)") == (
        BUNDLED_UKR_IDS
    )
    times = page.locator("article .meta time").evaluate_all("t => t.map(e => e.dateTime)")
    assert times == ["1999-02-24", "2005-12-27", "2024-11-17", "2024-11-20", *UKR_2025_DAYS]
    assert page.get_by_role("heading", level=1).inner_text() == "Decisions involving Ukraine"


def test_with_javascript_off_everything_is_still_there(browser: Browser, base_url: str) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{base_url}/embed/timeline?country=UKR")
    text = page.locator("main").inner_text()
    for headline in ["Ukraine signs the Mine Ban Treaty", "Biden authorizes antipersonnel mines"]:
        assert headline in text
    assert "United States → Ukraine" in text and "Makes an exception to:" in text
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


# What each language must show (interface words only: recorded text stays English, marked so).
WORDS = {
    "en": ("Decisions involving Ukraine", "Decided by", "Conflicts with a treaty", "Reactions"),
    "fr": (
        "Ukraine\u202f: chronologie des décisions",
        "Décision de",
        "En conflit avec un traité",
        "Réactions",
    ),
    "uk": ("Україна: хронологія рішень", "Хто ухвалив", "Суперечить договору", "Реакції"),
}
GRAPHIC_TITLE = {
    "en": "Decisions on a time axis",
    "fr": "Les décisions sur un axe du temps",
    "uk": "Рішення на осі часу",
}
# What `serve --seed` loads beside the story: Ukraine's two national acts of 2025.
UKR_2025 = ["ukr-2025-06-29-decree-withdraw-ottawa", "ukr-2025-07-15-law-suspend-ottawa"]
UKR_2025_DAYS = ["2025-06-29", "2025-07-15"]
BUNDLED_UKR_IDS = [*UKR_IDS, *UKR_2025]
APL = "usa-2024-11-20-apl-ukraine"
ATACMS = "usa-2024-11-17-atacms-strikes-russia"

# The share of each box's pixels that differ from the page background, in a screenshot.
INKED = """async ([data, boxes, background]) => {
  const image = new Image();
  image.src = "data:image/png;base64," + data;
  await image.decode();
  const canvas = document.createElement("canvas");
  canvas.width = image.width; canvas.height = image.height;
  const context = canvas.getContext("2d");
  context.drawImage(image, 0, 0);
  return boxes.map(([x, y, w, h]) => {
    const pixels = context.getImageData(x, y, Math.max(1, w), Math.max(1, h)).data;
    let inked = 0;
    for (let i = 0; i < pixels.length; i += 4) {
      const d = Math.abs(pixels[i] - background[0]) + Math.abs(pixels[i + 1] - background[1]) +
        Math.abs(pixels[i + 2] - background[2]);
      if (d > 48) { inked += 1; }
    }
    return inked / (pixels.length / 4);
  });
}"""


def _unpainted_entries(browser: Browser, page: Page) -> list[str]:
    """Entries (and the graphic, and the figures) left blank in a full-page capture, once the
    page has laid out the entries below its first screen (after the first paint)."""
    page.wait_for_selector("html.whole", state="attached")
    shot = base64.b64encode(page.screenshot(full_page=True)).decode()
    boxes = page.evaluate(
        """() => [...document.querySelectorAll('ol.timeline article, svg, .figures')].map(e => {
          const r = e.getBoundingClientRect();
          return [e.id || e.tagName, [Math.round(r.left + scrollX), Math.round(r.top + scrollY),
                  Math.round(r.width), Math.round(r.height)]];
        })"""
    )
    background = page.evaluate(
        "getComputedStyle(document.documentElement).backgroundColor.match(/\\d+/g).map(Number)"
    )
    checker = browser.new_page()
    shares = checker.evaluate(INKED, [shot, [b for _, b in boxes], background])
    checker.close()
    return [name for (name, _), share in zip(boxes, shares, strict=True) if share < 0.01]


@pytest.mark.parametrize("width", [360, 1280])
@pytest.mark.parametrize("lang", ["en", "fr", "uk"])
@pytest.mark.parametrize("theme", ["light", "dark", "contrast"])
def test_every_theme_and_language_tells_the_whole_story_accessibly(
    browser: Browser, base_url: str, theme: str, lang: str, width: int
) -> None:
    context = browser.new_context(viewport={"width": width, "height": 800})
    page = context.new_page()
    open_whole(page, f"{base_url}/embed/timeline?country=UKR&theme={theme}&lang={lang}")
    title, decided_by, flag, reactions = WORDS[lang]
    assert page.evaluate("document.documentElement.lang") == lang
    assert page.get_by_role("heading", level=1).inner_text() == title
    # The graphic: an image with a text alternative, one mark linking to each entry.
    graphic = page.get_by_role("img", name=GRAPHIC_TITLE[lang])
    assert graphic.is_visible()
    assert page.locator("svg desc").text_content().strip()  # type: ignore[union-attr]
    marks = page.locator("svg a").evaluate_all("a => a.map(e => e.getAttribute('href'))")
    assert marks == [f"#{i}" for i in BUNDLED_UKR_IDS]
    ticks = page.locator("svg text.tick").evaluate_all(
        "t => t.map(e => { const r = e.getBoundingClientRect();"
        " return [r.left, r.right, r.height] })"
    )
    assert all(height >= 10 for _, _, height in ticks)  # readable, whatever the width
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(ticks))  # no overlap
    # The story: officials, the flag, reactions, the correction, each in this language.
    apl = page.locator(f"#{APL}")
    assert apl.get_by_text(decided_by, exact=True).is_visible()
    assert apl.locator(".flag").inner_text().startswith(flag)
    assert apl.get_by_role("heading", name=reactions).is_visible()
    quote = apl.locator("blockquote", has_text="terrible")
    assert quote.is_visible()
    corrections = page.locator(f"#{ATACMS} .corrections")
    assert corrections.is_visible() and corrections.locator("a[href*='asOf=']").count() == 2

    # Recorded text says which language it is in: a translation is in the page's language,
    # what is still in English is marked so.
    def language(selector: str) -> str:
        return str(page.locator(selector).first.evaluate("e => e.closest('[lang]').lang"))

    headline = page.locator(f"#h-{APL} bdi").inner_text()
    english = "Biden authorizes antipersonnel mines for Ukraine"
    assert headline == (english if lang == "en" else seed_translation(APL, lang, "headline"))
    assert language(f"#h-{APL} bdi") == language(f"#{APL} .summary bdi") == lang
    assert language(f"#{APL} .sources bdi") == "en"  # a publisher's name, as recorded
    assert language(f"#{APL} blockquote") == "en"  # the words said, verbatim
    if lang != "en":  # the seed's scope was translated before this page's correction of it
        assert page.locator(f"#{ATACMS} .stale").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()
    assert _unpainted_entries(browser, page) == []
    context.close()


def test_lines_keep_a_readable_measure_on_a_wide_screen(browser: Browser, base_url: str) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    open_whole(page, f"{base_url}/embed/timeline?country=UKR")
    per_line = page.locator(f"#{APL} .summary").evaluate(
        """e => e.textContent.length /
          (e.getBoundingClientRect().height / parseFloat(getComputedStyle(e).lineHeight))"""
    )
    assert 55 <= per_line <= 85
    context.close()


def test_a_very_long_word_wraps_instead_of_overflowing(browser: Browser, base_url: str) -> None:
    context = browser.new_context(viewport={"width": 360, "height": 800})
    page = context.new_page()
    open_whole(page, f"{base_url}/embed/timeline?country=FRA")
    headline = page.locator("#h-fra-long-word")
    assert headline.is_visible() and headline.inner_text() == LONG_WORD
    assert headline.evaluate("e => e.getBoundingClientRect().right <= innerWidth")
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    context.close()


SHOWN = (
    "a => a.map(e => e.checkVisibility({contentVisibilityAuto: true}) &&"
    " e.getBoundingClientRect().height > 0)"
)


def test_entries_below_the_first_screen_are_laid_out_after_the_first_paint(
    browser: Browser, base_url: str
) -> None:
    # Without JavaScript they stay skipped until scrolled near (content-visibility: auto)...
    context = browser.new_context(
        viewport={"width": 1280, "height": 640}, java_script_enabled=False
    )
    page = context.new_page()
    page.goto(f"{base_url}/embed/timeline?country={LONG_TIMELINE}")
    shown = page.locator("ol.timeline article").evaluate_all(SHOWN)
    assert shown[:3] == [True] * 3 and shown[-1] is False
    context.close()
    # ...with it, every entry is laid out once the first screen is painted.
    context = browser.new_context(viewport={"width": 1280, "height": 640})
    page = context.new_page()
    page.goto(f"{base_url}/embed/timeline?country={LONG_TIMELINE}")
    page.wait_for_selector("html.whole", state="attached")
    shown = page.locator("ol.timeline article").evaluate_all(SHOWN)
    assert len(shown) >= 40 and all(shown)
    context.close()


@pytest.mark.parametrize("script", [True, False])
def test_print_shows_every_entry(browser: Browser, base_url: str, script: bool) -> None:
    context = browser.new_context(
        viewport={"width": 360, "height": 640}, java_script_enabled=script
    )
    page = context.new_page()
    page.goto(f"{base_url}/embed/timeline?country=UKR")
    page.emulate_media(media="print")
    shown = page.locator("ol.timeline article").evaluate_all(SHOWN)
    assert shown == [True] * len(BUNDLED_UKR_IDS)
    assert page.locator(".hint").is_hidden()
    context.close()


@pytest.mark.parametrize("width", [360, 1280])
def test_a_long_timeline_is_captured_whole_and_announces_its_retracted_entry(
    browser: Browser, base_url: str, width: int
) -> None:
    context = browser.new_context(viewport={"width": width, "height": 640})
    page = context.new_page()
    page.goto(f"{base_url}/embed/timeline?country={LONG_TIMELINE}")
    entries = page.locator("ol.timeline article").count()
    assert entries >= 40  # and Germany's treaty actions from the bundled membership
    assert _unpainted_entries(browser, page) == []
    # A retracted entry keeps its place as a notice, found from its old permalink.
    page.goto(f"{base_url}/embed/timeline?country={LONG_TIMELINE}#deu-05")
    notice = page.locator("#deu-05")
    assert notice.is_visible() and "recorded twice" in notice.inner_text()
    assert page.locator("svg a").count() == entries - 1
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()
    context.close()
