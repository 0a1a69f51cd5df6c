"""The embed's figures, each beside a baseline measured in the same run.

- **Server time**: `GET /embed/timeline?country=…`, the first page (100 entries) of a
  10,000-entry timeline, through the whole application (`create_app`, every middleware) over
  ASGI in this process (httpx's ASGI transport, no sockets), against a bare Starlette route on
  the same transport that runs the same timeline-page and decision queries and serialises
  those rows with orjson. The two are sampled alternately; p50 and p99 in ms. The embed is
  measured twice: as every reader after the first gets it (the page kept by its ETag) and
  rendered anew each time (an application whose page cache keeps nothing), the cost the
  first reader after each new event pays. Then, in this thread's CPU time, where a rendered
  page's time goes (`cpu_costs`): its reads and entries, its markup (`template_ms`, the
  name kept from when a template wrote it), and the baseline's.
- **Chromium**: `policy-timeline serve` in its own process on loopback; every load in a fresh
  browser context with the cache disabled, in rounds that also load a one-headline page from a
  bare HTTP server (the floor: what any page costs this browser on this machine), each round
  starting one page further along, so that no page always holds the same place. Bytes are
  Chromium's count of what each response put on the wire, headers plus (encoded) body
  (`request.sizes()`; CDP's `Network.loadingFinished` total is kept beside it as a check),
  summed over the document and every other request the page made. The time to the first
  headline is the paint time Chromium reports for the first entry's headline (Element
  Timing, zero at navigation start), through a script the browser injects before the page's.

httpx and Playwright are development dependencies: without them, the figures that need them
say so instead of failing the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hashlib
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import BindParameter, bindparam, create_engine, text
from sqlalchemy.engine import make_url
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api.embed.caching import PageCache
from api.embed.figures import MAX_FIGURES
from api.embed.params import parse_view
from api.embed.render import render_page
from api.embed.timeline import RELATIONS, load_page
from api.http.app import create_app
from api.importing.commands import import_lines
from bench.http import free_port
from projections.readmodels import tables
from projections.readmodels.queries import MAX_PAGE
from projections.service import Store

SERVER_ENTRIES = 10_000
BROWSER_ENTRIES = (11, 1_000)
LOADS = 7
SAMPLES = 1_000
BENCH_HOST = "http://bench.test"
CHROMIUM_ENV = "POLICY_TIMELINE_CHROMIUM"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    # Only the local server resolves: nothing measured can come from elsewhere.
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]
TARGETS = {"small_kb": 35, "small_requests": 1, "small_ms": 100, "large_ms": 250}
TIMELINEJS = {  # TimelineJS 3.9.11 on the reference machine, for the same sizes
    "small": {"kb": 355, "requests": 6, "headline_ms": 210},
    "large": {"headline_ms": 1200},
}
# One country per timeline; that country decides every entry of it.
SERVER_COUNTRY = "UKR"
BROWSER_COUNTRIES = {11: "POL", 1_000: "FRA"}
SPARE_COUNTRIES = ["CHL", "KEN", "NZL", "PER", "GHA", "URY"]
# Injected before the page's own scripts: when the first headline is painted and laid out.
PAINTED = "policy-timeline bench: the first headline is painted"
HEADLINE_PROBE = """
(() => {
  const first = () => document.querySelector("ol.timeline article h2");
  // Element Timing: the browser reports when the headline's text was painted. The attribute
  // is added as the parser inserts the headline, before any frame can paint it.
  const mark = () => {
    const h = first();
    if (!h) { return false; }
    for (const el of [h, ...h.querySelectorAll("*")]) {
      el.setAttribute("elementtiming", "first-headline");
    }
    return true;
  };
  const watch = new MutationObserver(() => { if (mark()) { watch.disconnect(); } });
  watch.observe(document, { childList: true, subtree: true });
  window.__paints = {};
  // Said once both times are in: the bench waits for this message rather than evaluating in
  // the page, since whatever it ran there before the first paint would count against the page.
  let said = false;
  const say = () => {
    if (!said && "headline" in window.__paints && "laid-out" in window.__paints) {
      said = true;
      console.log("__PAINTED__");
    }
  };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const name = e.entryType === "element" ? "headline" : e.name;
      if (!(name in window.__paints)) { window.__paints[name] = e.renderTime || e.startTime; }
    }
    say();
  }).observe({ entryTypes: ["paint", "element"] });
  // And the first animation frame in which the headline has a layout box.
  const probe = () => {
    const h = first();
    if (h && h.getClientRects().length && (!h.checkVisibility || h.checkVisibility())) {
      window.__paints["laid-out"] = performance.now();
      say();
      return;
    }
    requestAnimationFrame(probe);
  };
  requestAnimationFrame(probe);
})();
""".replace("__PAINTED__", PAINTED)

_PARTNERS = ["USA", "GBR", "DEU", "CAN", "NLD", "SWE", "NOR", "DNK", "ITA", "ESP", "CZE", "LTU"]
_PUBLISHERS = ["Official Gazette", "Reuters", "Le Monde", "Ministry of Defence", "UN News"]
_ACTIONS = ["PLEDGE", "AUTHORIZE_TRANSFER", "DELIVER", "AUTHORIZE_USE", "RESTRICT_USE", "SUSPEND"]
_TREATY_ACTIONS = ["SIGN", "RATIFY"]
_WEAPONS = [
    (f"system-{i:02d}", c)
    for i, c in enumerate(
        [
            "short-range-ballistic-missile",
            "cruise-missile",
            "multiple-rocket-launcher",
            "air-defence-system",
            "artillery-shell",
            "combat-aircraft",
        ]
        * 4
    )
]


def timeline_lines(sizes: dict[str, int], seed: int = 0) -> Iterator[str]:
    """Import lines giving each country in `sizes` exactly that many timeline entries.

    Entries look like the seed data: a headline of a sentence, a summary on most, one to
    three sources with titles and addresses, a recipient or a treaty, and an occasional
    reversal of an earlier decision of the same country."""
    rng = random.Random(seed)

    def sources() -> list[dict[str, Any]]:
        found = []
        for _ in range(rng.randint(1, 3)):
            n = rng.randrange(10**6)
            source: dict[str, Any] = {
                "publisher": rng.choice(_PUBLISHERS),
                "title": f"Government confirms the decision on military assistance, report {n}",
                "retrievedOn": "2026-11-20",
            }
            if rng.random() < 0.8:
                source["url"] = f"https://news.example.org/world/2024/report-{n}-assistance.html"
            if rng.random() < 0.5:
                source["publishedOn"] = f"20{rng.randint(10, 24)}-{rng.randint(1, 12):02d}-15"
            found.append(source)
        return found

    def op(operation: str, **data: Any) -> str:
        return orjson.dumps({"op": operation, "input": data}).decode()

    yield op(
        "recordTreaty",
        id="mine-ban-treaty",
        name="Convention banning anti-personnel mines",
        shortName="Mine Ban Treaty",
        adoptedOn="1997-09-18",
        prohibits=["antipersonnel-landmine"],
        sources=sources(),
    )
    for slug, category in _WEAPONS:
        yield op(
            "recordWeapon",
            id=slug,
            name=f"Weapon system {slug[-2:]}",
            designation=f"WS-{slug[-2:]}",
            category=category,
            sources=sources(),
        )
    for country, count in sizes.items():
        for k in range(count):
            year, month, day = 1995 + k * 30 // max(count, 1), rng.randint(1, 12), 1 + k % 28
            date = rng.choice([f"{year}", f"{year}-{month:02d}", f"{year}-{month:02d}-{day:02d}"])
            data: dict[str, Any] = {"id": f"{country.lower()}-{k:05d}", "actor": country}
            if rng.random() < 0.1:
                action = rng.choice(_TREATY_ACTIONS)
                data |= {
                    "treaty": "mine-ban-treaty",
                    "weapons": [{"category": "antipersonnel-landmine"}],
                }
            else:
                action = rng.choice(_ACTIONS)
                data["recipient"] = rng.choice(_PARTNERS)
                data["weapons"] = [{"system": rng.choice(_WEAPONS)[0]}]
                if rng.random() < 0.3:
                    data["scope"] = "for strikes on military targets within the agreed range"
            data |= {"action": action, "decidedOn": date}
            data["headline"] = (
                f"{country} {action.lower().replace('_', ' ')} decision {k} "
                "on arms for its partners"
            )
            if rng.random() < 0.7:
                data["summary"] = (
                    f"The government of {country} took decision {k} after a cabinet meeting; "
                    "officials said the measure follows earlier commitments and will be "
                    "reviewed within a year."
                )
            if k > 0 and rng.random() < 0.03:
                data["reverses"] = f"{country.lower()}-{rng.randrange(k):05d}"
            data["sources"] = sources()
            yield op("recordDecision", **data)


@contextmanager
def temporary_store(db_url: str | None) -> Iterator[Store]:
    """An empty store: a SQLite file in a temporary folder when `db_url` is None or SQLite
    (its folder), else a new database on that PostgreSQL server, dropped afterwards."""
    url = make_url(db_url) if db_url else None
    if url is None or url.get_backend_name() == "sqlite":
        parent = None
        if url is not None and url.database:
            parent = str(Path(url.database).resolve().parent)
            os.makedirs(parent, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="bench-embed-", dir=parent) as tmp:
            store = Store(f"sqlite:///{Path(tmp) / 'embed.sqlite3'}")
            store.migrate()
            try:
                yield store
            finally:
                store.close()
                store.engine.dispose()
        return
    if url.get_backend_name() != "postgresql":
        raise ValueError(f"embed bench: {db_url!r} is neither SQLite nor PostgreSQL")
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    name = f"pt_bench_embed_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        store = Store(url.set(database=name).render_as_string(hide_password=False))
        store.migrate()
        try:
            yield store
        finally:
            store.close()
            store.engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _percentiles(samples: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(samples, n=100) if len(samples) > 1 else samples * 99
    return {"p50_ms": round(cuts[49], 3), "p99_ms": round(cuts[98], 3)}


def _rows_json(store: Store, country: str) -> bytes:
    """The baseline's answer: the timeline page and its decisions' rows, as orjson writes them."""
    page = store.read.timeline("country", country, first=MAX_PAGE)
    docs = store.read.decisions([e["decisionId"] for e in page.entries])
    return orjson.dumps({"entries": page.entries, "cursors": page.cursors, "decisions": docs})


def _page_statements() -> dict[str, Any]:
    """The page's reads as plain SQL, each built once: what a bare route that showed the same
    rows would run (current rows only, as the page reads them without `asOf`)."""
    t = tables
    ids: BindParameter[Any] = bindparam("ids", expanding=True)
    return {
        "timeline": text(
            f"SELECT doc, earliest, first_position FROM {t.timeline.name}"
            " WHERE kind = 'country' AND key = :key AND valid_to IS NULL"
            " ORDER BY earliest, first_position LIMIT :limit"
        ),
        "links": text(
            f"SELECT source_id, target_id, relation FROM {t.relations.name}"
            " WHERE (source_id IN :ids OR target_id IN :ids) AND valid_to IS NULL"
            " AND relation IN :relations ORDER BY source_id, target_id"
        ).bindparams(ids, bindparam("relations", expanding=True)),
        "decisions": text(
            "SELECT decision_id, doc, status, valid_from, recorded_at"
            f" FROM {t.decisions.name} WHERE decision_id IN :ids AND valid_to IS NULL"
        ).bindparams(ids),
        "names": text(
            f"SELECT kind, doc FROM {t.records.name} WHERE (kind = 'weapon'"
            " AND record_id IN :weapons) OR (kind = 'treaty' AND record_id IN :treaties)"
            " ORDER BY position"
        ).bindparams(bindparam("weapons", expanding=True), bindparam("treaties", expanding=True)),
        "flags": text(
            f"SELECT * FROM {t.compliance_flags.name}"
            " WHERE decision_id IN :ids AND valid_to IS NULL"
            " ORDER BY decision_id, treaty_id, country, weapon_category, act"
        ).bindparams(ids),
        "statements": text(
            f"SELECT doc FROM {t.records.name} WHERE kind = 'statement' AND ref IN :ids"
            " ORDER BY position"
        ).bindparams(ids),
        "figures": text(
            f"SELECT doc FROM {t.records.name} WHERE kind = 'observation' AND doc LIKE :scope"
            " ORDER BY position DESC LIMIT :limit"
        ),
    }


_PAGE_SQL = _page_statements()


def _page_rows_json(store: Store, country: str) -> bytes:
    """The honest baseline's answer: the rows the page shows, read by the page's seven reads
    (timeline page, links both ways, the decisions on the page and those linked, weapons' and
    treaties' names, compliance flags, statements, the country's figures) as plain prebuilt
    SQL on one connection, each document parsed and every result written with orjson."""
    sql = _PAGE_SQL
    with store.engine.connect() as conn:
        rows = conn.execute(sql["timeline"], {"key": country, "limit": MAX_PAGE + 1}).all()
        entries = [orjson.loads(r.doc) for r in rows[:MAX_PAGE]]
        keys = [[str(r.earliest), r.first_position] for r in rows[:MAX_PAGE]]
        ids = [e["decisionId"] for e in entries]
        links = conn.execute(sql["links"], {"ids": ids, "relations": list(RELATIONS)}).all()
        named = {i for link in links for i in link[:2]} - set(ids)
        decisions = [
            {
                "id": r.decision_id,
                "doc": orjson.loads(r.doc),
                "status": r.status,
                "position": r.valid_from,
                "recordedAt": r.recorded_at,
            }
            for r in conn.execute(sql["decisions"], {"ids": [*ids, *sorted(named)]})
        ]
        weapons = sorted({w["system"] for e in entries for w in e["weapons"] if w["system"]})
        treaties = sorted({e["treaty"] for e in entries if e["treaty"]})
        names = [
            {"kind": r.kind, "doc": orjson.loads(r.doc)}
            for r in conn.execute(sql["names"], {"weapons": weapons, "treaties": treaties})
        ]
        flags = [dict(r._mapping) for r in conn.execute(sql["flags"], {"ids": ids})]
        said = [orjson.loads(r.doc) for r in conn.execute(sql["statements"], {"ids": ids})]
        scope = {"scope": f'%"scope":{orjson.dumps(country).decode()}%', "limit": MAX_FIGURES}
        figures = [orjson.loads(r.doc) for r in conn.execute(sql["figures"], scope)]
        conn.rollback()
    return orjson.dumps(
        {
            "entries": entries,
            "keys": keys,
            "links": [list(link) for link in links],
            "decisions": decisions,
            "names": names,
            "flags": flags,
            "statements": said,
            "figures": figures,
        }
    )


def _bare_rows_app(store: Store) -> Starlette:
    """The baselines: the same timeline page and decision rows (`/rows`), and every row the
    page shows (`/page-rows`), each serialised with orjson."""

    async def rows(request: Request) -> Response:
        body = _rows_json(store, request.query_params["country"])
        return Response(body, media_type="application/json")

    async def page_rows(request: Request) -> Response:
        body = _page_rows_json(store, request.query_params["country"])
        return Response(body, media_type="application/json")

    return Starlette(routes=[Route("/rows", rows), Route("/page-rows", page_rows)])


def cpu_costs(store: Store, country: str, rounds: int = 5, repeat: int = 10) -> dict[str, float]:
    """Where a rendered page's CPU goes, in this thread (ms per page, the median of `rounds`
    of `repeat` pages each): the page's reads and its entries built from them (`load_page`),
    then its markup (`template`), beside both baselines' reads and orjson (`baseline`: the
    timeline page and its decisions; `page_rows`: every row the page shows). No HTTP, no
    thread hand-off: what the server spends beyond these is the route and its middleware."""
    view = parse_view({"country": country})
    url = f"{BENCH_HOST}/embed/timeline?country={country}"
    timed: dict[str, list[float]] = {
        "baseline": [],
        "page_rows": [],
        "load_page": [],
        "template": [],
    }
    page = load_page(store, view)
    _page_rows_json(store, country)
    # As `server_time` does: the process's start-up kept out of the collector's full passes
    # (each one walks every object of the process, tens of milliseconds here, and how often
    # they come depends on what the process did before, not on the code measured).
    gc.collect()
    gc.freeze()
    try:
        for _ in range(rounds):
            start = time.thread_time()
            for _ in range(repeat):
                _rows_json(store, country)
            after_baseline = time.thread_time()
            for _ in range(repeat):
                _page_rows_json(store, country)
            middle = time.thread_time()
            for _ in range(repeat):
                page = load_page(store, view)
            end = time.thread_time()
            for _ in range(repeat):
                render_page(page, self_url=url, cite_url=url, oembed_url=url)
            timed["baseline"].append(after_baseline - start)
            timed["page_rows"].append(middle - after_baseline)
            timed["load_page"].append(end - middle)
            timed["template"].append(time.thread_time() - end)
    finally:
        gc.unfreeze()
    return {f"{k}_ms": round(statistics.median(v) * 1000 / repeat, 3) for k, v in timed.items()}


def server_time(store: Store, country: str, samples: int = SAMPLES) -> dict[str, Any]:
    """p50/p99 of the embed's first page against the same rows to JSON, sampled alternately,
    all through ASGI in this process (httpx's ASGI transport: no sockets). Two baselines:
    `baseline`, the timeline page and its decisions (two reads, the figure kept since the
    first round), and `page_rows`, every row the page shows (its seven reads)."""
    import httpx  # a development dependency

    embed_url = f"/embed/timeline?country={country}"
    timed: dict[str, list[float]] = {
        "embed": [],
        "embed_rendered": [],
        "baseline": [],
        "page_rows": [],
    }
    sizes: dict[str, int] = {}

    async def measure() -> None:
        bare = _bare_rows_app(store)
        apps = {
            "embed": create_app(store),
            "embed_rendered": create_app(store, embed_pages=PageCache(max_pages=0)),
            "baseline": bare,
            "page_rows": bare,
        }
        clients = {
            name: httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BENCH_HOST)
            for name, app in apps.items()
        }
        urls = {
            "embed": embed_url,
            "embed_rendered": embed_url,
            "baseline": f"/rows?country={country}",
            "page_rows": f"/page-rows?country={country}",
        }
        try:
            for name, client in clients.items():  # untimed: catalogs, caches, statements
                sizes[f"{name}_bytes"] = len((await client.get(urls[name])).content)
            # What the import left (and this process's caches) is not the server's heap: keep
            # it out of the collector's full passes, as a server that froze its start-up would.
            gc.collect()
            gc.freeze()
            for _ in range(samples):
                for name, client in clients.items():
                    start = time.perf_counter()
                    response = await client.get(urls[name])
                    timed[name].append((time.perf_counter() - start) * 1000)
                    if response.status_code != 200:
                        raise RuntimeError(f"{urls[name]}: {response.status_code}")
        finally:
            for client in clients.values():
                await client.aclose()

    try:
        asyncio.run(measure())
    finally:
        gc.unfreeze()
    cpu = cpu_costs(store, country)
    embed_p, base_p = _percentiles(timed["embed"]), _percentiles(timed["baseline"])
    rendered_p, rows_p = _percentiles(timed["embed_rendered"]), _percentiles(timed["page_rows"])
    page_cpu = cpu["load_page_ms"] + cpu["template_ms"]
    return {
        "via": "ASGI in process (httpx ASGITransport), the embed through create_app",
        "samples": samples,
        "entries_on_page": MAX_PAGE,
        "embed": embed_p,
        "embed_rendered": rendered_p,
        "baseline": base_p,
        "baseline_reads": "the timeline page and its decisions (2 reads), orjson",
        "page_rows": rows_p,
        "page_rows_reads": "every row the page shows (its 7 reads, plain SQL), orjson",
        **{k: v for k, v in sizes.items() if k != "embed_rendered_bytes"},
        "ratio": round(embed_p["p50_ms"] / base_p["p50_ms"], 3),
        "ratio_p99": round(embed_p["p99_ms"] / base_p["p99_ms"], 3),
        "rendered_ratio": round(rendered_p["p50_ms"] / base_p["p50_ms"], 3),
        "rendered_ratio_p99": round(rendered_p["p99_ms"] / base_p["p99_ms"], 3),
        "rendered_over_page_rows": round(rendered_p["p50_ms"] / rows_p["p50_ms"], 3),
        "rendered_over_page_rows_p99": round(rendered_p["p99_ms"] / rows_p["p99_ms"], 3),
        "rendered_cpu": cpu,
        "rendered_cpu_ratio": round(page_cpu / cpu["baseline_ms"], 3),
        "rendered_cpu_over_page_rows": round(page_cpu / cpu["page_rows_ms"], 3),
    }


@contextmanager
def serving(store: Store) -> Iterator[str]:
    """`policy-timeline serve` on loopback, in its own process; yields its base URL."""
    port = free_port()
    command = [sys.executable, "-m", "api.cli", "serve", "--production", "--port", str(port)]
    command += ["--db", store.url]
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log)
        try:
            while not _healthy(base):  # waiting for start-up
                if process.poll() is not None:
                    log.seek(0)
                    error = log.read().decode(errors="replace")[-2000:]
                    raise RuntimeError(f"embed bench: the server did not start: {error}")
                time.sleep(0.1)
            yield base
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _healthy(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/healthz", timeout=5) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


FLOOR_PAGE = (
    b'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Floor</title></head>'
    b'<body><ol class="timeline"><li><article><h2><a href="#"><bdi>A headline</bdi></a></h2>'
    b"</article></li></ol></body></html>"
)


@contextmanager
def one_page(body: bytes, name: str) -> Iterator[str]:
    """Serve one HTML page from a bare local HTTP server; yields its URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # keep the output clean
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/{name}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def floor_server() -> contextlib.AbstractContextManager[str]:
    """A one-headline page from a bare HTTP server: what any page costs this browser here."""
    return one_page(FLOOR_PAGE, "floor.html")


def chromium_path() -> str | None:
    """Chromium to drive: env POLICY_TIMELINE_CHROMIUM, else the system's chromium, else
    None (Playwright's own browser, when it has one)."""
    return os.environ.get(CHROMIUM_ENV) or shutil.which("chromium") or None


def load_once(browser: Any, url: str) -> dict[str, Any]:
    """One cold load in a fresh context: requests, bytes, and the first headline's time."""
    context = browser.new_context()
    try:
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        wire: dict[str, float] = {}
        cdp.on(
            "Network.loadingFinished",
            lambda e: wire.__setitem__(e["requestId"], e["encodedDataLength"]),
        )
        page.add_init_script(HEADLINE_PROBE)
        finished: list[Any] = []
        page.on("requestfinished", lambda r: finished.append(r))
        failed: list[str] = []
        page.on("requestfailed", lambda r: failed.append(r.url))
        # Nothing is evaluated in the page until its headline is painted: Playwright's first
        # evaluation compiles its own script in the page, which, run between the load event
        # and the first paint, added about 3 ms of the renderer's main thread before the
        # embed pages' first paint (traced with bench.paint) and none to the bare page's.
        with page.expect_console_message(lambda message: message.text == PAINTED):
            response = page.goto(url, wait_until="load")
        if response is None or response.status != 200:
            raise RuntimeError(f"embed bench: {url} answered {response and response.status}")
        paints = page.evaluate("window.__paints")
        navigation = page.evaluate(
            "(() => { const n = performance.getEntriesByType('navigation')[0];"
            " return {response_end_ms: n.responseEnd, dom_content_loaded_ms:"
            " n.domContentLoadedEventEnd, load_ms: n.loadEventEnd}; })()"
        )
        page.wait_for_load_state("networkidle")  # a late subresource would still be counted
        requests = []
        for request in finished:
            sizes = request.sizes()
            body = request.response().body() if request.response() else b""
            requests.append(
                {
                    "url": request.url,
                    "type": request.resource_type,
                    "headers_bytes": sizes["responseHeadersSize"],
                    "body_bytes": sizes["responseBodySize"],
                    "decoded_body_bytes": len(body),
                }
            )
        document = response.body()
        return {
            "requests": len(finished) + len(failed),
            "failed": failed,
            "bytes": sum(r["headers_bytes"] + r["body_bytes"] for r in requests),
            "body_bytes": sum(r["body_bytes"] for r in requests),
            "decoded_body_bytes": sum(r["decoded_body_bytes"] for r in requests),
            "cdp_bytes": int(sum(wire.values())),
            "document_bytes": len(document),
            "document_sha256": hashlib.sha256(document).hexdigest(),
            "headline_ms": round(paints["headline"], 1),
            "headline_laid_out_ms": round(paints["laid-out"], 1),
            "first_contentful_paint_ms": round(paints.get("first-contentful-paint", -1), 1),
            **{k: round(v, 1) for k, v in navigation.items()},
            "detail": requests,
        }
    finally:
        context.close()


def _quartiles(values: list[float]) -> list[float]:
    """The first and third quartiles (both the value itself when there is one): how far
    single loads stray from the median on this machine."""
    if len(values) < 2:
        return [float(values[0]), float(values[0])] if values else []
    cuts = statistics.quantiles(values, n=4, method="inclusive")
    return [round(cuts[0], 1), round(cuts[2], 1)]


def _summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    def median(key: str) -> float:
        return float(statistics.median(r[key] for r in runs))

    return {
        "loads": len(runs),
        "requests": max(r["requests"] for r in runs),
        "kb": round(median("bytes") / 1000, 1),
        "bytes": int(median("bytes")),
        "body_bytes": int(median("body_bytes")),
        "cdp_bytes": int(median("cdp_bytes")),
        "document_bytes": int(median("document_bytes")),
        "document_sha256": sorted({r["document_sha256"] for r in runs}),
        "headline_ms": round(median("headline_ms"), 1),
        "headline_ms_each": [r["headline_ms"] for r in runs],
        "headline_ms_quartiles": _quartiles([r["headline_ms"] for r in runs]),
        "headline_laid_out_ms": round(median("headline_laid_out_ms"), 1),
        "first_contentful_paint_ms": round(median("first_contentful_paint_ms"), 1),
        "response_end_ms": round(median("response_end_ms"), 1),
        "load_ms": round(median("load_ms"), 1),
        "failed": sorted({u for r in runs for u in r["failed"]}),
        "requests_detail": runs[0]["detail"],
    }


def browser_figures(
    base_url: str,
    countries: dict[int, str],
    loads: int = LOADS,
    chromium: str | None = None,
    floor_url: str | None = None,
) -> dict[str, Any]:
    """Medians of `loads` cold loads of each timeline's embed (and of the floor page), taken
    in rounds that visit every page once, after one untimed round.

    Each round starts one page further along the list, so that no page always comes first
    after the floor or right after the 1,000-entry page's context was closed: over
    `len(pages)` rounds every page has held every place once. Beside the ratio of medians,
    each page's time is divided by the floor's of the same round (`headline_over_floor_rounds`,
    the median of those ratios): on a machine whose load drifts during a run, a page is
    compared with the floor measured seconds apart, not minutes."""
    from playwright.sync_api import sync_playwright  # a development dependency

    urls = {str(n): f"{base_url}/embed/timeline?country={c}" for n, c in countries.items()}
    if floor_url:
        urls = {"floor": floor_url, **urls}
    names = list(urls)
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in urls}
    with sync_playwright() as playwright:
        executable = chromium if chromium is not None else chromium_path()
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            for round_ in range(loads + 1):
                for name in round_order(names, round_):
                    measured = load_once(browser, urls[name])
                    if round_:  # the first round warms the browser process and the server
                        runs[name].append(measured)
        finally:
            browser.close()
    figures: dict[str, Any] = {"viewport": "1280x720", "chromium": executable or "playwright's"}
    for name, url in urls.items():
        figures[name] = {"url_path": url.removeprefix(base_url), **_summary(runs[name])}
        if name != "floor":
            figures[name]["entries"] = int(name)
            if floor_url:
                floor = figures["floor"]["headline_ms"]
                figures[name]["headline_over_floor"] = round(
                    figures[name]["headline_ms"] / floor, 3
                )
                each = [
                    page["headline_ms"] / bare["headline_ms"]
                    for page, bare in zip(runs[name], runs["floor"], strict=True)
                ]
                figures[name]["headline_over_floor_rounds"] = round(statistics.median(each), 3)
    return figures


def round_order(names: Sequence[str], round_: int) -> list[str]:
    """The pages in the order round `round_` loads them: the list turned by one each round."""
    turn = round_ % len(names) if names else 0
    return [*names[turn:], *names[:turn]]


def embed_figures(
    db_url: str | None = None,
    *,
    seed: int = 0,
    server_entries: int | None = SERVER_ENTRIES,
    browser_entries: Sequence[int] = BROWSER_ENTRIES,
    loads: int = LOADS,
    samples: int = SAMPLES,
    chromium: str | None = None,
    say: Callable[[str], None] = lambda _: None,
) -> dict[str, Any]:
    """Every embed figure, on a fresh temporary store.

    `db_url`: None or a SQLite URL (its folder holds the temporary file), or a PostgreSQL
    server URL (a database is created on it and dropped afterwards). `server_entries=None`
    skips the server-time figure; an empty `browser_entries` skips Chromium."""
    sizes: dict[str, int] = {}
    if server_entries:
        sizes[SERVER_COUNTRY] = server_entries
    countries = {
        n: BROWSER_COUNTRIES.get(n, SPARE_COUNTRIES[i]) for i, n in enumerate(browser_entries)
    }
    sizes |= {country: n for n, country in countries.items()}
    result: dict[str, Any] = {"seed": seed, "timelines": sizes}
    with temporary_store(db_url) as store:
        result["backend"] = store.dialect
        say(f"embed: import {sum(sizes.values()):,} decisions")
        report = import_lines(store, timeline_lines(sizes, seed))
        if report.errors:
            raise RuntimeError(f"embed bench: generated lines were refused: {report.errors[:3]}")
        if server_entries:
            say(f"embed: server time of the first page of a {server_entries:,}-entry timeline")
            result["server"] = _unless_missing(
                "httpx",
                lambda: (
                    {"timeline_entries": server_entries}
                    | server_time(store, SERVER_COUNTRY, samples)
                ),
            )
        if countries:
            say(f"embed: Chromium, {loads} cold loads of each page")

            def browser() -> dict[str, Any]:
                with serving(store) as base, floor_server() as floor:
                    return browser_figures(base, countries, loads, chromium, floor)

            result["browser"] = _unless_missing("playwright", browser)
    result["targets"] = TARGETS
    result["timelinejs_reference"] = TIMELINEJS
    return result


def _unless_missing(module: str, measure: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """The figures, or why they could not be measured when a development dependency is absent."""
    try:
        return measure()
    except ModuleNotFoundError as exc:
        if exc.name != module:
            raise
        return {"skipped": f"{module} is not installed (pip install -e '.[dev]')"}
