"""The pictures in docs/embeds.md: a served seed story in Chromium (`make screenshots`)."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from tests.browser_support import CHROMIUM, CHROMIUM_ARGS, running_server
from tests.embed_support import BROWSER_EXTRA

# (file name, query, viewport width, whole page): the three themes, a wide screen, and
# phones in French (the whole page, every entry painted) and in Ukrainian.
SHOTS = [
    ("embed-light.png", "country=UKR", 640, False),
    ("embed-dark.png", "country=UKR&theme=dark", 640, False),
    ("embed-contrast.png", "country=UKR&theme=contrast", 640, False),
    ("embed-en-1280.png", "country=UKR", 1280, False),
    ("embed-fr-360.png", "country=UKR&lang=fr", 360, True),
    ("embed-uk-dark-360.png", "country=UKR&lang=uk&theme=dark", 360, False),
]


def take(folder: Path) -> list[Path]:
    """Writes every picture of SHOTS into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    with (
        tempfile.TemporaryDirectory() as data,
        running_server(Path(data), BROWSER_EXTRA, bundled=True) as base,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for name, query, width, whole in SHOTS:
            context = browser.new_context(viewport={"width": width, "height": 900})
            page = context.new_page()
            page.goto(f"{base}/embed/timeline?{query}")
            # Entries below the first screen are laid out once it is painted.
            page.wait_for_selector("html.whole", state="attached")
            page.screenshot(path=str(folder / name), full_page=whole)
            written.append(folder / name)
            context.close()
        browser.close()
    return written


if __name__ == "__main__":
    for path in take(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/img")):
        print(path)
