"""The embed benchmark at a tiny size: its figures have their shape, and what it counts is
what the server sent."""

from __future__ import annotations

import hashlib
import json
import urllib.request
from pathlib import Path

import pytest

from api.importing.commands import import_lines
from bench.embed import (
    BROWSER_COUNTRIES,
    browser_figures,
    embed_figures,
    round_order,
    serving,
    temporary_store,
    timeline_lines,
)
from bench.paint import measure
from tests.browser_support import CHROMIUM

pytestmark = pytest.mark.browser


def test_the_generated_timelines_have_exactly_the_asked_entries(tmp_path: Path) -> None:
    sizes = {"POL": 11, "FRA": 3}
    assert list(timeline_lines(sizes, seed=4)) == list(timeline_lines(sizes, seed=4))
    with temporary_store(f"sqlite:///{tmp_path / 'db.sqlite3'}") as store:
        assert import_lines(store, timeline_lines(sizes, seed=4)).errors == []
        for country, count in sizes.items():
            page = store.read.timeline("country", country, first=100)
            assert len(page.entries) == count and not page.has_next


def test_embed_figures_at_a_tiny_size_have_their_shape() -> None:
    result = embed_figures(server_entries=11, browser_entries=(11,), loads=1, samples=5)
    json.dumps(result)  # the bench prints it as JSON
    assert result["backend"] == "sqlite"
    server = result["server"]
    assert server["samples"] == 5 and server["embed_bytes"] > 0 and server["baseline_bytes"] > 0
    assert server["page_rows_bytes"] > server["baseline_bytes"]  # more rows than two reads
    for side in ("embed", "embed_rendered", "baseline", "page_rows"):
        assert 0 < server[side]["p50_ms"] <= server[side]["p99_ms"]
    assert server["ratio"] > 0 and server["rendered_ratio"] > 0
    assert server["rendered_over_page_rows"] > 0
    cpu = server["rendered_cpu"]
    assert set(cpu) == {"baseline_ms", "page_rows_ms", "load_page_ms", "template_ms"}
    assert all(ms > 0 for ms in cpu.values()) and server["rendered_cpu_ratio"] > 0
    assert server["rendered_cpu_over_page_rows"] > 0
    small = result["browser"]["11"]
    assert small["entries"] == 11 and small["loads"] == 1
    assert small["requests"] >= 1 and small["bytes"] > small["body_bytes"] > 0
    assert small["headline_ms"] > 0 and small["headline_laid_out_ms"] > 0  # it became visible
    assert small["failed"] == []
    assert result["browser"]["floor"]["headline_ms"] > 0 and small["headline_over_floor"] > 0
    assert small["headline_over_floor_rounds"] == small["headline_over_floor"]  # one round
    assert small["headline_ms_quartiles"] == [small["headline_ms"]] * 2


def test_every_page_holds_every_place_in_the_rounds() -> None:
    pages = ["floor", "11", "1000"]
    orders = [round_order(pages, r) for r in range(1, 7)]
    assert all(sorted(order) == sorted(pages) for order in orders)
    for place in range(len(pages)):
        held = [order[place] for order in orders]
        assert all(held.count(page) == 2 for page in pages)  # twice in six rounds


def test_the_counted_bytes_are_the_document_the_server_sent(tmp_path: Path) -> None:
    with temporary_store(f"sqlite:///{tmp_path / 'db.sqlite3'}") as store:
        import_lines(store, timeline_lines({"POL": 11}))
        with serving(store) as base:
            figures = browser_figures(base, {11: "POL"}, loads=1, chromium=CHROMIUM)["11"]
            with urllib.request.urlopen(base + figures["url_path"]) as answer:
                sent = answer.read()
                headers = answer.headers
    assert BROWSER_COUNTRIES[11] == "POL"
    # One request, the document: its body as the browser counted it is what the server sent.
    (document,) = figures["requests_detail"]
    assert document["type"] == "document" and figures["requests"] == 1
    assert figures["document_sha256"] == [hashlib.sha256(sent).hexdigest()]
    assert document["body_bytes"] == document["decoded_body_bytes"] == len(sent)
    assert int(headers["content-length"]) == len(sent) == figures["body_bytes"]
    # Headers count too, and Chromium's own wire total agrees.
    assert figures["bytes"] == len(sent) + document["headers_bytes"] == figures["cdp_bytes"]
    assert b"<article" in sent and figures["headline_ms"] > 0


def test_the_paint_trace_counts_the_cpu_of_each_page_before_its_first_paint(
    tmp_path: Path,
) -> None:
    page = tmp_path / "text.html"
    page.write_text(
        '<!doctype html><html lang="en"><title>Text</title><h1>Text</h1>'
        + "<p>A paragraph of text to lay out and paint.</p>" * 40,
        encoding="utf-8",
    )
    result = measure([page], loads=1, chromium=CHROMIUM)
    assert list(result) == ["bare page", "text.html"]
    for figures in result.values():
        assert figures["first_contentful_paint_ms"] > 0
        assert figures["commits"] >= 1 and figures["raster_tasks"] >= 1
        assert figures["thread CrRendererMain ms"] > 0
        assert figures["cpu layout ms"] > 0 and figures["cpu raster ms"] > 0
