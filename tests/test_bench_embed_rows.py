"""The embed bench's baselines read the rows the page shows, on both backends."""

from __future__ import annotations

import orjson

from api.embed.params import parse_view
from api.embed.timeline import load_page
from bench.embed import _page_rows_json, _rows_json, cpu_costs
from projections.service import Store
from tests.embed_support import seeded


def test_the_page_rows_baseline_reads_every_row_the_page_shows(store: Store) -> None:
    seeded(store)
    page = load_page(store, parse_view({"country": "UKR"}))
    rows = orjson.loads(_page_rows_json(store, "UKR"))
    on_page = [e.id for e in page.entries]
    assert [e["decisionId"] for e in rows["entries"]] == on_page
    assert len(rows["keys"]) == len(on_page)
    linked = {link.id for e in page.entries for link in e.reverses + e.reversed_by}
    linked |= {link.id for e in page.entries for link in e.departs_from + e.departed_from_by}
    assert linked and {d["id"] for d in rows["decisions"]} == set(on_page) | linked
    flagged = {e.id for e in page.entries if e.story.flags}
    assert flagged and {f["decision_id"] for f in rows["flags"]} == flagged
    reactions = sum(len(e.story.reactions) + e.story.more_reactions for e in page.entries)
    assert reactions and len(rows["statements"]) == reactions
    assert page.figures and len(rows["figures"]) == len(page.figures)
    shown = {w for e in page.entries for w in e.weapons} | {e.treaty for e in page.entries}
    names = {
        r["doc"].get("shortName") or r["doc"].get("designation") or r["doc"]["name"]
        for r in rows["names"]
    }
    assert names and names <= shown
    # The old baseline reads two of these: the page and its decisions.
    old = orjson.loads(_rows_json(store, "UKR"))
    assert [e["decisionId"] for e in old["entries"]] == on_page


def test_cpu_costs_times_both_baselines_the_reads_and_the_template(store: Store) -> None:
    seeded(store)
    cpu = cpu_costs(store, "UKR", rounds=1, repeat=1)
    assert set(cpu) == {"baseline_ms", "page_rows_ms", "load_page_ms", "template_ms"}
    assert all(ms > 0 for ms in cpu.values())
