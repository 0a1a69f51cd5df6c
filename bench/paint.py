"""Where a cold load's CPU goes before its first paint, from Chromium's own trace.

The bench's embed figures are wall-clock times, and on a loaded machine a page's time strays
two to four times from load to load. The CPU time each of the page's threads spends between
navigation start and the first contentful paint does not depend on how long the scheduler
kept them waiting: it says what the page itself costs, beside the same count for the bench's
bare page (the floor).

    python -m bench.paint [--loads N] [FILE.html ...]

serves each file (without files: the bench's 11- and 1,000-entry embed pages, rendered by
`policy-timeline serve` from the bench's generated timelines and saved first) from a bare
local HTTP server (so only the browser counts), loads each one
`N` times in a fresh context (rounds turned by one page each time, after one untimed round)
with tracing on, and prints the median of each figure per file: self CPU time (`tdur` less
that of the events inside it) of the renderer's events, grouped by phase, the commits and
raster tasks before the first paint, and the first paint itself (wall clock, for reference).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import tempfile
import urllib.request
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from bench.embed import (
    BROWSER_COUNTRIES,
    BROWSER_ENTRIES,
    CHROMIUM_ARGS,
    FLOOR_PAGE,
    PAINTED,
    chromium_path,
    one_page,
    round_order,
    serving,
    temporary_store,
    timeline_lines,
)

CATEGORIES = [
    "devtools.timeline",
    "disabled-by-default-devtools.timeline",
    "blink",
    "blink.user_timing",
    "loading",
    "cc",
    "viz",
    "toplevel",
]
# The renderer's events by phase: by exact name, or by the start of the name (self time: what
# is inside an event counts for that event).
PHASES: dict[str, tuple[frozenset[str], tuple[str, ...]]] = {
    "parse": (frozenset({"ParseHTML"}), ("HTMLDocumentParser::", "TextResourceDecoder::")),
    "style": (frozenset({"UpdateLayoutTree"}), ("Document::recalcStyle", "Document::rebuild")),
    "layout": (frozenset({"Layout"}), ("LocalFrameView::performLayout",)),
    "text shaping": (frozenset(), ("InlineNode::ShapeText",)),
    "paint": (frozenset({"Paint", "PrePaint"}), ("Blink.PrePaint.", "Blink.CompositingInputs.")),
    "script": (frozenset({"EvaluateScript", "FunctionCall", "v8.run"}), ("V8.",)),
    "raster": (frozenset({"RasterTask"}), ("DisplayItemList::Raster", "ZeroCopyRasterBuffer::")),
}


def _phase(name: str) -> str | None:
    for phase, (names, prefixes) in PHASES.items():
        if name in names or name.startswith(prefixes):
            return phase
    return None


def first_paint_cpu(events: Iterable[dict[str, Any]]) -> dict[str, float]:
    """From one load's trace events: the renderer's self CPU ms by phase and by thread, from
    navigation start to the first contentful paint, the commits and raster tasks in that
    span, and the first paint's time."""
    events = list(events)
    thread_names = {
        (e["pid"], e["tid"]): e["args"]["name"]
        for e in events
        if e.get("ph") == "M" and e.get("name") == "thread_name"
    }
    starts = [
        e
        for e in events
        if e.get("name") == "navigationStart"
        and str(e.get("args", {}).get("data", {}).get("documentLoaderURL", "")).startswith("http")
    ]
    paints = [e for e in events if e.get("name") == "firstContentfulPaint"]
    if not starts or not paints:
        raise RuntimeError("paint trace: no navigation start or first contentful paint traced")
    start, paint = starts[-1], paints[-1]
    renderer, t0, t1 = start["pid"], start["ts"], paint["ts"]
    spans = [
        e
        for e in events
        if e.get("ph") == "X" and e["pid"] == renderer and t0 <= e["ts"] <= t1 and "tdur" in e
    ]
    by_thread: dict[int, list[dict[str, Any]]] = {}
    for e in spans:
        by_thread.setdefault(e["tid"], []).append(e)
    selfs: Counter[str] = Counter()
    threads: Counter[str] = Counter()
    for tid, items in by_thread.items():
        items.sort(key=lambda e: (e["ts"], -e.get("dur", 0)))
        inner: Counter[int] = Counter()
        stack: list[tuple[int, dict[str, Any]]] = []
        for index, e in enumerate(items):
            while stack and stack[-1][1]["ts"] + stack[-1][1].get("dur", 0) <= e["ts"]:
                stack.pop()
            if stack:
                inner[stack[-1][0]] += e["tdur"]
            else:
                threads[thread_names.get((renderer, tid), str(tid))] += e["tdur"] / 1000
            stack.append((index, e))
        for index, e in enumerate(items):
            phase = _phase(e["name"])
            if phase is not None:
                selfs[phase] += max(0, e["tdur"] - inner[index]) / 1000
    in_span = [e for e in events if e["pid"] == renderer and t0 <= e["ts"] <= t1]
    figures: dict[str, float] = {
        "first_contentful_paint_ms": (t1 - t0) / 1000,
        "commits": sum(1 for e in in_span if e.get("name") == "Commit" and e.get("ph") == "X"),
        "raster_tasks": sum(
            1 for e in in_span if e.get("name") == "RasterTask" and e.get("ph") == "X"
        ),
    }
    figures |= {f"cpu {phase} ms": selfs[phase] for phase in PHASES}
    figures |= {f"thread {name} ms": ms for name, ms in threads.items()}
    return figures


# Says when the first contentful paint is reported, so that nothing is evaluated in the page
# before it (Playwright's first evaluation compiles its own script there).
PAINT_SIGNAL = """
new PerformanceObserver((list, observer) => {
  if (list.getEntriesByName("first-contentful-paint").length) {
    observer.disconnect();
    console.log("__PAINTED__");
  }
}).observe({ type: "paint", buffered: true });
""".replace("__PAINTED__", PAINTED)


def traced_load(browser: Any, url: str) -> dict[str, float]:
    """One cold load of `url` in a fresh context, traced from before it starts."""
    context = browser.new_context()
    try:
        page = context.new_page()
        page.add_init_script(PAINT_SIGNAL)
        browser.start_tracing(categories=CATEGORIES)
        try:
            with page.expect_console_message(lambda message: message.text == PAINTED):
                page.goto(url, wait_until="load")
        finally:
            trace = json.loads(browser.stop_tracing())
        return first_paint_cpu(trace["traceEvents"])
    finally:
        context.close()


def measure(files: Sequence[Path], loads: int, chromium: str | None = None) -> dict[str, Any]:
    """The median of each figure over `loads` traced loads of each file, the bare page first."""
    from playwright.sync_api import sync_playwright  # a development dependency

    bodies = {"bare page": FLOOR_PAGE, **{f.name: f.read_bytes() for f in files}}
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in bodies}
    with sync_playwright() as playwright, contextlib.ExitStack() as stack:
        executable = chromium if chromium is not None else chromium_path()
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        stack.callback(browser.close)
        urls = {
            name: stack.enter_context(one_page(body, "page.html")) for name, body in bodies.items()
        }
        for url in urls.values():
            traced_load(browser, url)  # untimed: the browser's own first loads
        for round_ in range(1, loads + 1):
            for name in round_order(list(urls), round_):
                runs[name].append(traced_load(browser, urls[name]))
    result: dict[str, Any] = {}
    for name, loaded in runs.items():
        keys = sorted({k for run in loaded for k in run})
        result[name] = {
            k: round(statistics.median(run.get(k, 0.0) for run in loaded), 2) for k in keys
        }
    return result


def bench_pages(folder: Path) -> list[Path]:
    """The embed pages the bench loads (its 11- and 1,000-entry timelines), as the server
    sends them, saved in `folder`."""
    from api.importing.commands import import_lines

    countries = {n: BROWSER_COUNTRIES[n] for n in BROWSER_ENTRIES}
    saved = []
    with temporary_store(None) as store:
        import_lines(store, timeline_lines({c: n for n, c in countries.items()}))
        with serving(store) as base:
            for n, country in countries.items():
                url = f"{base}/embed/timeline?country={country}"
                with urllib.request.urlopen(url) as answer:
                    path = folder / f"embed-{n}.html"
                    path.write_bytes(answer.read())
                    saved.append(path)
    return saved


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("files", nargs="*", type=Path, help="HTML files to load")
    parser.add_argument("--loads", type=int, default=8, help="traced loads of each file")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-paint-") as folder:
        result = measure(args.files or bench_pages(Path(folder)), args.loads)
    names = list(result)
    keys = sorted({k for figures in result.values() for k in figures})
    print(
        f"{'median of ' + str(args.loads) + ' loads':34s}"
        + "".join(f"{n[:16]:>18s}" for n in names)
    )
    for key in keys:
        print(f"{key[:34]:34s}" + "".join(f"{result[n].get(key, 0.0):18.2f}" for n in names))


if __name__ == "__main__":
    main()
